# attacks: hostile TCP console clients (issue 13 bugs 1 and 2) as reusable thread pools, and the legitimate operator attempt measured against them.
"""Used by harness/test_console_lockouts.py and meant for a soak bench (bench/), so they take a port
and a source address and report counts rather than asserting anything themselves.

- `frame(line)`: one console frame (u32 LE total length incl. the header, then UTF-8).
- `AttachThenClose(port, threads=32, source=None)`: each thread loops: connect, send
  `AUTH <token>` + `ATTACH queen` in one write, close at once (bug 1's leak).
- `IdlePreauth(port, connections=8, sources=("127.0.0.1",))`: holds `connections` idle
  connections per source that never AUTH, re-opening each as soon as the firmware closes it
  (bug 2's lockout: evicted, or the AUTH deadline).
- Both: `start()`, `stop() -> AttackStats`, `stats()`, and usable as context managers;
  `AttackStats.connections` counts connections opened, `errors` connect/send failures (the
  firmware refusing or resetting is expected and counted, never raised).
- `legit_attempt(port, source=None, budget_s=1.0) -> LegitResult`: one operator session
  AUTH + ATTACH queen + PING + QUIT on a fresh connection; `ERR AUTH reason=busy` or a busy
  ATTACH (a full table is a deterministic refusal, not a lockout), and a connect not answered within
  LEGIT_CONNECT_TRY_S (a SYN dropped while a flood fills the accept queue), are retried within the budget.
  `ok`, `elapsed_s`, `tries`, `transcript` say what happened.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field

from hivekit import AUTH_TOKEN, FRAME_HEADER_BYTES

# How long an attack socket waits on connect or send before counting an error.
ATTACK_SOCKET_TIMEOUT_S = 2.0
# A legitimate connect that is not answered within this is tried again on a new socket: a connect
# flood can fill the kernel's accept queue for a moment, and a dropped SYN is only retried by the
# kernel after ~1 s.
LEGIT_CONNECT_TRY_S = 0.2
# Lines of a failed attempt's transcript kept for the failure message.
TRANSCRIPT_LINES_KEPT = 12
# An idle attacker's wait for the firmware to close its connection, per poll (it then re-checks stop).
IDLE_POLL_S = 0.2


def frame(line: str) -> bytes:
    body = line.encode()
    return struct.pack("<I", FRAME_HEADER_BYTES + len(body)) + body


def _connect(port: int, host: str, source: str | None, timeout_s: float) -> socket.socket:
    s = socket.socket()
    s.settimeout(timeout_s)
    if source is not None:
        s.bind((source, 0))
    s.connect((host, port))
    return s


@dataclass
class AttackStats:
    connections: int = 0
    errors: int = 0


class _Attack:
    """Threads running `_run` until stop(); counts under a lock."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.port = port
        self.host = host
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._stats = AttackStats()
        self._threads: list[threading.Thread] = []

    def _targets(self) -> list[tuple]:
        raise NotImplementedError

    def _run(self, *args) -> None:
        raise NotImplementedError

    def _count(self, connections: int = 0, errors: int = 0) -> None:
        with self._lock:
            self._stats.connections += connections
            self._stats.errors += errors

    def stats(self) -> AttackStats:
        with self._lock:
            return AttackStats(self._stats.connections, self._stats.errors)

    def start(self) -> "_Attack":
        for args in self._targets():
            t = threading.Thread(target=self._run, args=args, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> AttackStats:
        self._stop.set()
        for t in self._threads:
            t.join(ATTACK_SOCKET_TIMEOUT_S + IDLE_POLL_S + 1.0)
        return self.stats()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class AttachThenClose(_Attack):
    """Bug 1: AUTH + ATTACH queen in one write, then close before the answer."""

    def __init__(self, port: int, threads: int = 32, source: str | None = None, host: str = "127.0.0.1",
                 token: str = AUTH_TOKEN):
        super().__init__(port, host)
        self.threads = threads
        self.source = source
        self.payload = frame(f"AUTH {token}") + frame("ATTACH queen")

    def _targets(self) -> list[tuple]:
        return [()] * self.threads

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                s = _connect(self.port, self.host, self.source, ATTACK_SOCKET_TIMEOUT_S)
            except OSError:
                self._count(errors=1)
                continue
            try:
                s.sendall(self.payload)
                self._count(connections=1)
            except OSError:
                self._count(connections=1, errors=1)
            finally:
                s.close()


class IdlePreauth(_Attack):
    """Bug 2: idle connections that never AUTH, each re-opened as soon as it is closed."""

    def __init__(self, port: int, connections: int = 8, sources: tuple[str, ...] = ("127.0.0.1",), host: str = "127.0.0.1"):
        super().__init__(port, host)
        self.connections = connections
        self.sources = sources

    def _targets(self) -> list[tuple]:
        return [(src,) for src in self.sources for _ in range(self.connections)]

    def _run(self, source: str) -> None:
        while not self._stop.is_set():
            try:
                s = _connect(self.port, self.host, source, ATTACK_SOCKET_TIMEOUT_S)
            except OSError:
                self._count(errors=1)
                time.sleep(IDLE_POLL_S)  # connect refused: the listener is down; do not spin
                continue
            self._count(connections=1)
            s.settimeout(IDLE_POLL_S)
            try:
                while not self._stop.is_set():
                    try:
                        if s.recv(256) == b"":
                            break  # closed by the firmware: open another at once
                    except socket.timeout:
                        continue
                    # Bytes (ERR AUTH reason=busy before an eviction): keep reading until the close.
            except OSError:
                pass
            finally:
                s.close()


@dataclass
class LegitResult:
    ok: bool
    elapsed_s: float
    tries: int
    transcript: list[str] = field(default_factory=list)


def _recv_line(s: socket.socket, deadline: float) -> str:
    def exact(n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no reply within the budget")
            s.settimeout(left)
            chunk = s.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed by the firmware")
            out += chunk
        return bytes(out)

    (total,) = struct.unpack("<I", exact(FRAME_HEADER_BYTES))
    return exact(total - FRAME_HEADER_BYTES).decode()


def _ack(s: socket.socket, label: str, deadline: float, transcript: list[str]) -> str:
    """The ACK of `label`, skipping bare PONG and other non-ACK text lines (spec §2, §3.2)."""
    while True:
        line = _recv_line(s, deadline)
        transcript.append(line)
        if line.startswith(f"OK {label}") or line.startswith(f"ERR {label}"):
            return line


def _is_busy(line: str) -> bool:
    return line.startswith("ERR ") and "reason=busy" in line


def legit_attempt(port: int, source: str | None = None, budget_s: float = 1.0, host: str = "127.0.0.1",
                  token: str = AUTH_TOKEN) -> LegitResult:
    """AUTH + ATTACH queen + PING + QUIT within budget_s, retrying a deterministic busy refusal."""
    t0 = time.monotonic()
    deadline = t0 + budget_s
    transcript: list[str] = []
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        try:
            s = _connect(port, host, source, max(0.01, min(LEGIT_CONNECT_TRY_S, deadline - time.monotonic())))
        except OSError as e:
            transcript.append(f"connect: {e}")
            continue
        try:
            refused = None
            for line, label, want in ((f"AUTH {token}", "AUTH", "OK AUTH"), ("ATTACH queen", "ATTACH", "OK ATTACH role=queen"),
                                      ("PING", "PING", "OK PING reply=pong"), ("QUIT", "QUIT", "OK QUIT")):
                s.sendall(frame(line))
                if (refused := _ack(s, label, deadline, transcript)) != want:
                    break
            else:
                return LegitResult(True, time.monotonic() - t0, tries, transcript)
            if _is_busy(refused):
                continue  # a full table is a deterministic refusal: a fresh connection within the budget
            break
        except (OSError, TimeoutError, ConnectionError) as e:
            transcript.append(f"{type(e).__name__}: {e}")
            # Evicted or reset while in AUTH: a fresh connection within the budget.
            continue
        finally:
            s.close()
    return LegitResult(False, time.monotonic() - t0, tries, transcript[-TRANSCRIPT_LINES_KEPT:])
