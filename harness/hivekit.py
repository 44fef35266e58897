# hivekit: builds hive images from a manifest and fixture bundles, runs cohesix-sim, and talks to its consoles.
"""Helpers for the firmware tests (the pytest fixtures around them are in conftest.py).

- `build_image` builds a custom image with bin/cohimg (which compiles each task's JS with cohc).
- `Sim` runs build/cohesix-sim on a free console port (`--console-port 0`, port read from the log).
- `ConsoleClient` speaks the TCP console framing (u32 LE total length including the 4 header bytes).

Every wait is bounded by a named timeout and fails with both streams' tails, so a hang reads as a
clear failure rather than a stuck run.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build"
SIM = BUILD / "cohesix-sim"
COHC = BUILD / "engine" / "cohc"
COHIMG = REPO / "bin" / "cohimg"
BUNDLES = BUILD / "bundles"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# A fixed two-task hive (root-task + worker-heart, no NineDoor): image and fault tests do not move with the board.
BASE_MANIFEST = REPO / "harness" / "fixtures" / "base-manifest.json"
# The real bundles every custom image carries beside the fixtures.
# Every task bundle the boards use (js-tests aside): images may name any of them.
REAL_BUNDLES = ("root-task.js", "ninedoor.js", "net-console.js", "worker-heart.js", "worker-gpu.js")

# Bounds on every wait. Boot takes a few ms; these leave room for a loaded 2-core CI machine.
BOOT_TIMEOUT_S = 5.0
REPLY_TIMEOUT_S = 3.0
FAULT_TIMEOUT_S = 5.0
EXIT_TIMEOUT_S = 5.0
COHIMG_TIMEOUT_S = 60.0
KILL_TIMEOUT_S = 5.0
# Bytes of each stream quoted when a wait fails.
FAILURE_TAIL_BYTES = 2000
READ_CHUNK_BYTES = 4096

# Fixed names from the spec and js/root-task (tcp-console.ts, main.ts, uart-console.ts).
BANNER = "Cohesix boot: root-task online"
UART_PROMPT = "cohesix> "
AUTH_TOKEN = "changeme"
AUTH_DEADLINE_S = 5.0  # AUTH_DEADLINE_MS in js/console/limits.ts
CONSOLE_READY_RE = r"\[root-task\] console ready port=(\d+)"
FRAME_HEADER_BYTES = 4  # js/console/limits.ts, as the next (checked by host/node/limits.test.ts)
FRAME_DECLARED_BYTES_MAX = 8192

ROOT_ARENA_BYTES = 4 * 1024 * 1024
TASK_ARENA_BYTES = 256 * 1024
CPU_SLICE_MS = 50
ROOT_GRANTS = ["log", "console", "net", "timer", "channel", "task", "image", "update"]


def _need_build() -> None:
    missing = [p for p in (SIM, COHC, *(BUNDLES / b for b in REAL_BUNDLES)) if not p.exists()]
    if missing:
        pytest.fail(f"not built: {', '.join(map(str, missing))}; run `sh scripts/build.sh` first", pytrace=False)


# ---------------------------------------------------------------- manifests and images


def task_entry(name: str, grants: list[str], arena_bytes: int = TASK_ARENA_BYTES, config=None,
               cpu_slice_ms: int = CPU_SLICE_MS) -> dict:
    """One manifest task (a template entry: cohimg fills in bundle, size and sha256)."""
    return {"name": name, "arena_bytes": arena_bytes, "cpu_slice_ms": cpu_slice_ms, "grants": grants,
            "config": {} if config is None else config}


def hive_manifest(tasks: list[dict], boot_tasks: list[dict], image_id: str = "harness") -> dict:
    """A manifest template: root-task starting `boot_tasks` ({task, label, args}), plus `tasks`."""
    root = task_entry("root-task", ROOT_GRANTS, ROOT_ARENA_BYTES, {"boot_tasks": boot_tasks})
    return {
        "schema": "cohesix-manifest/v1",
        "image_id": image_id,
        "profile": "dev",
        "root_task": "root-task",
        "tasks": [root, *tasks],
        "console": {"port": 31337, "auth_token": AUTH_TOKEN, "max_sessions": 4},
    }


def cohimg(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Runs bin/cohimg; with check, fails the test on a non-zero exit."""
    r = subprocess.run([str(COHIMG), *args], capture_output=True, text=True, timeout=COHIMG_TIMEOUT_S,
                       env={**os.environ, **(env or {})})
    if check and r.returncode != 0:
        pytest.fail(f"cohimg {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}", pytrace=False)
    return r


def build_image(workdir: Path, manifest: dict, fixtures: tuple[str, ...] = (), name: str = "hive",
                key: Path | None = None) -> Path:
    """Compiles root-task, worker-heart and harness/fixtures/<f>.js with cohc and packs them with cohimg
    (signed with the private key `key` when given)."""
    _need_build()
    js = workdir / f"{name}.js"
    qbc = workdir / f"{name}.qbc"
    js.mkdir(parents=True, exist_ok=True)
    for b in REAL_BUNDLES:
        shutil.copy(BUNDLES / b, js / b)
    for f in fixtures:
        shutil.copy(FIXTURES / f"{f}.js", js / f"{f}.js")
    template = workdir / f"{name}.manifest.json"
    template.write_text(json.dumps(manifest, indent=2))
    out = workdir / f"{name}.img"
    cmd = [str(COHIMG), "build", "--manifest", str(template), "--bundles", str(qbc), "--cohc", str(COHC),
           "--js", str(js), "--out", str(out), *(["--key", str(key)] if key else [])]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=COHIMG_TIMEOUT_S)
    if r.returncode != 0:
        pytest.fail(f"cohimg build failed ({r.returncode}): {r.stderr.strip()}", pytrace=False)
    return out


# ---------------------------------------------------------------- the firmware process


class Stream:
    """Collects one pipe of the child in a thread so waits can search everything seen so far."""

    def __init__(self, pipe, name: str):
        self.name = name
        self._buf = bytearray()
        self._cond = threading.Condition()
        self.closed = False
        self._pipe = pipe
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        fd = self._pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, READ_CHUNK_BYTES)
            except OSError:
                chunk = b""
            with self._cond:
                if not chunk:
                    self.closed = True
                    self._cond.notify_all()
                    return
                self._buf += chunk
                self._cond.notify_all()

    def text(self, start: int = 0) -> str:
        with self._cond:
            return self._buf[start:].decode(errors="replace")

    def mark(self) -> int:
        """Position to search from, so a wait sees only what came after this point."""
        with self._cond:
            return len(self._buf)

    def search(self, pattern: str, timeout_s: float, start: int = 0):
        """First match of regex `pattern` at or after `start`, or None after timeout_s."""
        deadline = time.monotonic() + timeout_s
        rx = re.compile(pattern)
        with self._cond:
            while True:
                m = rx.search(self._buf[start:].decode(errors="replace"))
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self._cond.wait(left)

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


class Sim:
    """One cohesix-sim process: UART on stdin/stdout pipes, firmware log on stderr."""

    def __init__(self, image: Path | None, uart: str = "stdio", extra: tuple[str, ...] = (), env: dict | None = None):
        """image None: `extra` says what to boot (e.g. --slots DIR)."""
        _need_build()
        self.image = image
        # 9P is off (port 0) so parallel runs never fight over its default port.
        source = ["--image", str(image)] if image is not None else []
        self.argv = [str(SIM), *source, "--console-port", "0", "--9p-port", "0", "--uart", uart, *extra]
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})})
        self.uart = Stream(self.proc.stdout, "uart")
        self.log = Stream(self.proc.stderr, "log")
        self.port: int | None = None

    def describe(self) -> str:
        tail = lambda s: s.text()[-FAILURE_TAIL_BYTES:]
        return (f"cohesix-sim {' '.join(self.argv[1:])} (exit {self.proc.poll()})\n"
                f"--- uart (stdout) tail ---\n{tail(self.uart)}\n--- log (stderr) tail ---\n{tail(self.log)}")

    def _expect(self, stream: Stream, pattern: str, timeout_s: float, start: int, what: str):
        m = stream.search(pattern, timeout_s, start)
        if m is None:
            pytest.fail(f"no {what} within {timeout_s} s (waited for /{pattern}/ on {stream.name})\n{self.describe()}",
                        pytrace=False)
        return m

    def expect_log(self, pattern: str, timeout_s: float = FAULT_TIMEOUT_S, start: int = 0, what: str = "log line"):
        return self._expect(self.log, pattern, timeout_s, start, what)

    def expect_uart(self, pattern: str, timeout_s: float = REPLY_TIMEOUT_S, start: int = 0, what: str = "UART output"):
        return self._expect(self.uart, pattern, timeout_s, start, what)

    def wait_ready(self) -> int:
        """Waits for root-task's `console ready port=<N>` and returns N."""
        self.port = int(self.expect_log(CONSOLE_READY_RE, BOOT_TIMEOUT_S, what="console ready line").group(1))
        return self.port

    def uart_command(self, line: str, timeout_s: float = REPLY_TIMEOUT_S) -> str:
        """Types one line on the UART and returns what came back up to the next prompt."""
        # The boot prompt first: a mark taken before it arrives would match it instead of the reply's.
        self.expect_uart(re.escape(UART_PROMPT), BOOT_TIMEOUT_S, what="the boot prompt")
        start = self.uart.mark()
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        m = self.expect_uart(re.escape(UART_PROMPT), timeout_s, start, what=f"prompt after UART '{line}'")
        return self.uart.text(start)[: m.start()]

    def wait_exit(self, timeout_s: float = EXIT_TIMEOUT_S) -> int:
        try:
            rc = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"cohesix-sim still running after {timeout_s} s\n{self.describe()}", pytrace=False)
        # The pipes close at exit; let the readers drain so the whole output is seen.
        self.uart.join(timeout_s)
        self.log.join(timeout_s)
        return rc

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(KILL_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        for p in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                p.close()
            except OSError:
                pass


@contextmanager
def firmware_log(image: Path, timeout_s: float):
    """Boots `image` with no UART and no TCP console listening, and gives its firmware log (stderr) as
    an iterator of lines; the firmware is killed once timeout_s has passed (a task awaiting a promise
    nothing settles leaves it idle and silent) and stopped when the block ends."""
    proc = subprocess.Popen([str(SIM), "--image", str(image), "--uart", "none", "--console-port", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    killer = threading.Timer(timeout_s, proc.kill)
    killer.start()
    try:
        yield (line.rstrip("\n") for line in proc.stderr)
    finally:
        killer.cancel()
        proc.terminate()
        proc.wait(timeout=timeout_s)


def run_sim(image: Path, timeout_s: float = EXIT_TIMEOUT_S, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """Runs cohesix-sim to completion (for images it must refuse); fails if it is still up after timeout_s."""
    _need_build()
    argv = [str(SIM), "--image", str(image), "--console-port", "0", "--9p-port", "0", "--uart", "stdio", *extra]
    try:
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"cohesix-sim did not exit within {timeout_s} s on {image}: it booted?\n"
                    f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}", pytrace=False)


# ---------------------------------------------------------------- the TCP console


class ConsoleClient:
    """The TCP console framing: u32 LE total length (including the 4 header bytes), then a UTF-8 line."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout_s: float = REPLY_TIMEOUT_S):
        self.sock = socket.create_connection((host, port), timeout=timeout_s)

    def send_line(self, line: str) -> None:
        body = line.encode()
        self.sock.sendall(struct.pack("<I", FRAME_HEADER_BYTES + len(body)) + body)

    def _recv_exact(self, n: int, deadline: float) -> bytes:
        out = bytearray()
        while len(out) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"console reply incomplete: {len(out)} of {n} bytes")
            self.sock.settimeout(left)
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError(f"console closed the connection after {len(out)} of {n} bytes")
            out += chunk
        return bytes(out)

    def recv_line(self, timeout_s: float = REPLY_TIMEOUT_S) -> str:
        deadline = time.monotonic() + timeout_s
        (total,) = struct.unpack("<I", self._recv_exact(FRAME_HEADER_BYTES, deadline))
        assert FRAME_HEADER_BYTES <= total <= FRAME_DECLARED_BYTES_MAX, f"bad frame length {total}"
        return self._recv_exact(total - FRAME_HEADER_BYTES, deadline).decode()

    def command(self, line: str, replies: int = 1, timeout_s: float = REPLY_TIMEOUT_S) -> list[str]:
        self.send_line(line)
        return [self.recv_line(timeout_s) for _ in range(replies)]

    def wait_closed(self, timeout_s: float) -> float:
        """Seconds until the peer closed (EOF or reset); fails if it is still open after timeout_s."""
        t0 = time.monotonic()
        deadline = t0 + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"console connection still open after {timeout_s} s", pytrace=False)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(READ_CHUNK_BYTES)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return time.monotonic() - t0
            if not data:
                return time.monotonic() - t0
            pytest.fail(f"unexpected bytes before close: {data!r}", pytrace=False)

    def close(self) -> None:
        self.sock.close()


def cpu_ms(pid: int) -> float:
    """Time a process has spent on a CPU so far, in ms (/proc/<pid>/schedstat: ns)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6


def cpu_ms_over(pid: int, seconds: float) -> float:
    """CPU time a process spends over the next `seconds` (this one sleeps through them), in ms."""
    before = cpu_ms(pid)
    time.sleep(seconds)
    return cpu_ms(pid) - before


def has_cpu_times() -> bool:
    """Whether this kernel gives cpu_ms its schedstat file."""
    return os.path.exists(f"/proc/{os.getpid()}/schedstat")


def ping_over_tcp(connect, port: int) -> None:
    """AUTH then PING on a fresh connection; asserts the exact replies."""
    c = connect(port)
    assert c.command(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]
    c.close()

