# hive_ops: the real board hive (boards/host/manifest.json) driven like an operator: console verbs with their ACK/END shapes, and a tiny 9P2000.L client.
"""Helpers for the end-to-end hive tests (harness/test_hive_*.py) and bench/hive.py.

- `boot_board` boots build/images/dev.img (the board manifest: root-task, NineDoor, worker-heart,
  worker-gpu) signed by build/keys/dev.pub, optionally with the Secure9P TCP listener.
- `board_manifest` gives the board's manifest template with edits (fault images).
- `Operator` speaks the console protocol over `ConsoleClient`: one request, the replies up to its
  ACK (and `END` for streams), skipping bare `PONG` lines as spec §3.2 says clients must.
- `Ninep` is a 9P2000.L client of just the messages these tests need (version, attach, walk,
  lopen, read, write), returning `Rlerror` errnos as values.
"""
from __future__ import annotations

import json
import socket
import struct
import time
from pathlib import Path

from hivekit import AUTH_TOKEN, BUILD, REPLY_TIMEOUT_S, REPO, ConsoleClient, Sim

DEV_IMAGE = BUILD / "images" / "dev.img"
DEV_PUB = BUILD / "keys" / "dev.pub"
BOARD_MANIFEST = REPO / "boards" / "host" / "manifest.json"
NINEP_READY_RE = r"\[ninedoor\] secure9p ready port=(\d+)"

# Stream verbs: ACK, content lines, END (spec §3.3). The others answer one ACK line.
STREAM_LABELS = {"LS", "CAT", "TAIL", "LOG"}
LABELS = {"BI": "BOOTINFO"}


def free_port() -> int:
    """A port that was free a moment ago (the firmware's 9P listener takes a fixed port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def boot_board(hive, ninep: bool = False, uart: str = "stdio") -> Sim:
    """The board's dev image as built by scripts/build.sh, verified against the dev key."""
    extra = ["--trust-key", str(DEV_PUB)]
    if ninep:
        extra += ["--9p-port", str(free_port())]
    sim = hive(DEV_IMAGE, uart=uart, extra=tuple(extra))
    if ninep:
        sim.ninep_port = int(sim.expect_log(NINEP_READY_RE, what="secure9p ready line").group(1))
    return sim


def board_manifest() -> dict:
    """The board manifest as a template (cohimg fills bundle, size and sha256)."""
    return json.loads(BOARD_MANIFEST.read_text())


class Operator:
    """One TCP console session, used as an operator would."""

    def __init__(self, port: int, host: str = "127.0.0.1", source: str | None = None):
        if source is None:
            self.c = ConsoleClient(port, host)
        else:
            # A second loopback source address: the ATTACH guard counts failures per source (spec §3.4).
            s = socket.socket()
            s.settimeout(REPLY_TIMEOUT_S)
            s.bind((source, 0))
            s.connect((host, port))
            self.c = ConsoleClient.__new__(ConsoleClient)
            self.c.sock = s

    def send(self, line: str) -> None:
        self.c.send_line(line)

    def line(self, timeout_s: float = REPLY_TIMEOUT_S) -> str:
        return self.c.recv_line(timeout_s)

    def request(self, line: str, timeout_s: float = REPLY_TIMEOUT_S) -> list[str]:
        """Sends one request; returns its ACK and, for an accepted stream, the content lines and END."""
        verb = line.split(None, 1)[0].upper() if line.strip() else ""
        label = LABELS.get(verb, verb)
        self.send(line)
        deadline = time.monotonic() + timeout_s
        out: list[str] = []
        while True:
            got = self.line(max(0.01, deadline - time.monotonic()))
            if got == "PONG" and label != "PING":
                continue
            out.append(got)
            if len(out) == 1:
                if not (got.startswith(f"OK {label}") or got.startswith(f"ERR {label}") or got.startswith("ERR ")):
                    out.pop()  # a non-ACK text line (spec §2: clients tolerate them)
                    continue
                if got.startswith("OK PING"):
                    # The bare PONG follows the ACK (the reference's order): take it, so it is not left behind.
                    pong = self.line(max(0.01, deadline - time.monotonic()))
                    assert pong == "PONG", f"PING: {got!r} then {pong!r}"
                    return out
                if not (got.startswith("OK ") and label in STREAM_LABELS):
                    return out
                continue
            if got == "END" or got.startswith(f"ERR {label}"):
                return out

    def auth_attach(self, role: str = "queen", ticket: str = "") -> None:
        assert self.request(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
        assert self.request(f"ATTACH {role} {ticket}".strip()) == [f"OK ATTACH role={role}"]

    def quiet(self, timeout_s: float) -> list[str]:
        """Lines that arrive within timeout_s (a second ERR after an ACK, spec §3.5)."""
        out = []
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out
            try:
                out.append(self.line(left))
            except TimeoutError:
                return out
            except socket.timeout:
                return out

    def cat_value(self, path: str) -> str:
        """The one content line of a generated `key=value` file."""
        r = self.request(f"CAT {path}")
        assert r[0].startswith(f"OK CAT path={path}") and r[-1] == "END" and len(r) == 3, r
        return r[1]

    def ls(self, path: str) -> list[str]:
        r = self.request(f"LS {path}")
        assert r[0].startswith(f"OK LS path={path} entries=") and r[-1] == "END", r
        names = r[1:-1]
        assert r[0] == f"OK LS path={path} entries={len(names)}", r
        return names

    def close(self) -> None:
        self.c.close()


# ---------------------------------------------------------------- a 9P2000.L client

T = {"Tversion": 100, "Tattach": 104, "Twalk": 110, "Tlopen": 12, "Tread": 116, "Twrite": 118, "Tclunk": 120}
RLERROR = 7
NOFID = 0xFFFFFFFF
OFFSET_AT_END = 0xFFFFFFFFFFFFFFFF
O_RDONLY, O_WRONLY, O_APPEND = 0, 1, 0o2000
EPERM, ENOENT, EBADF, EACCES, EINVAL = 1, 2, 9, 13, 22


class Errno(int):
    """An Rlerror's errno, so a refusal never reads as a count."""

    def __repr__(self) -> str:
        return f"Errno({int(self)})"


def _s(x: str) -> bytes:
    b = x.encode()
    return struct.pack("<H", len(b)) + b


class Ninep:
    """One 9P2000.L connection; each call returns its reply body, or the Rlerror errno as an int."""

    def __init__(self, port: int, timeout_s: float = REPLY_TIMEOUT_S):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.tag = 0

    def rpc(self, kind: str, body: bytes):
        self.tag = (self.tag + 1) % 0xFFFF
        tag = 0xFFFF if kind == "Tversion" else self.tag
        self.sock.sendall(struct.pack("<IBH", 7 + len(body), T[kind], tag) + body)
        head = self._exact(7)
        size, rtype, rtag = struct.unpack("<IBH", head)
        rbody = self._exact(size - 7)
        assert rtag == tag, f"reply tag {rtag} for request tag {tag}"
        if rtype == RLERROR:
            return Errno(struct.unpack("<I", rbody)[0])
        assert rtype == T[kind] + 1, f"{kind} answered with type {rtype}"
        return rbody

    def _exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("9P server closed the connection")
            out += chunk
        return bytes(out)

    def version(self):
        return self.rpc("Tversion", struct.pack("<I", 8192) + _s("9P2000.L"))

    def attach(self, fid: int, aname: str, uname: str = ""):
        return self.rpc("Tattach", struct.pack("<II", fid, NOFID) + _s(uname) + _s(aname) + struct.pack("<I", NOFID))

    def walk(self, fid: int, newfid: int, names: list[str]):
        return self.rpc("Twalk", struct.pack("<IIH", fid, newfid, len(names)) + b"".join(_s(n) for n in names))

    def lopen(self, fid: int, flags: int):
        return self.rpc("Tlopen", struct.pack("<II", fid, flags))

    def write(self, fid: int, data: bytes, offset: int = OFFSET_AT_END):
        r = self.rpc("Twrite", struct.pack("<IQI", fid, offset, len(data)) + data)
        return r if isinstance(r, Errno) else struct.unpack("<I", r)[0]

    def read(self, fid: int, count: int = 4096, offset: int = 0):
        r = self.rpc("Tread", struct.pack("<IQI", fid, offset, count))
        return r if isinstance(r, Errno) else r[4:]

    def close(self) -> None:
        self.sock.close()
