"""9P servers for the interop tests and benches: a server is (host, port, stop) plus what it serves at start.

Two NineDoors: on Node (host/node/ninedoor-serve) and in the firmware (build/cohesix-sim with the
dev image and `--9p-port`, its heartbeat workers real tasks spawned by root-task's policy).
"""
import os
import re
import select
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from procs import stop_process

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NINEDOOR_SERVE = os.path.join(REPO, "build", "tsc", "host", "node", "ninedoor-serve.js")
MINT_TICKET = os.path.join(REPO, "build", "tsc", "host", "node", "mint-ticket.js")
SIM = os.path.join(REPO, "build", "cohesix-sim")
DEV_IMAGE = os.path.join(REPO, "build", "images", "dev.img")
READY = re.compile(r"^ninedoor ready port=(\d+)$")
# What /proc/boot holds: the banner, and in the firmware root-task's image line after it.
BOOT_LINE = "Cohesix boot: root-task online"
FIRMWARE_BOOT = f"{BOOT_LINE}\nimage dev profile dev\n"
# The firmware's /log/queen.log at start: root-task's boot transition, then one line per spawn (spec §7, §9).
FIRMWARE_ONLINE_LINE = "lifecycle transition old=BOOTING new=ONLINE reason=boot-complete"
SPAWN_LINE = "spawned {id} ticks={ticks} ttl=300 ops=10000"
HEARTBEAT_TICKS = 1000
# The dev image's console token (boards/host/manifest.json) and its fixed firmware log lines.
CONSOLE_TOKEN = "changeme"
FIRMWARE_CONSOLE_READY = re.compile(r"\[root-task\] console ready port=(\d+)")
FIRMWARE_9P_READY = re.compile(r"\[ninedoor\] secure9p ready port=(\d+)")
# Boot takes milliseconds; the bound leaves room for a loaded CI machine.
FIRMWARE_READY_TIMEOUT_S = 10
FIRMWARE_POLL_S = 0.01
# A free port picked here may be taken before the firmware binds it: try again a few times.
FIRMWARE_PORT_TRIES = 3
# NineDoor's listen failure (an uncaught CapError from caps.net.listen).
PORT_TAKEN = "address in use"
# Node starts in well under a second; the bound keeps a broken build from hanging the run.
READY_TIMEOUT_S = 15
STOP_TIMEOUT_S = 5
MINT_TIMEOUT_S = 15
# Set to HOST:PORT to point the interop tests at a server someone else started (e.g. the
# firmware's Secure9P listener: build/cohesix-sim --9p-port N). It must hold worker-1 and
# worker-2 as heartbeat workers and the dev ticket secrets of spec §8.3.
EXTERNAL_ENV = "COHESIX_NINEP_SERVER"


@dataclass
class NinepServer:
    name: str
    host: str
    port: int
    stop: Callable[[], None]
    log: List[str] = field(default_factory=list)
    # What the server holds at start: /proc/boot and /log/queen.log as standard clients read them.
    boot_text: str = BOOT_LINE + "\n"
    log_text: str = ""
    # The server's process, for profilers (None when someone else runs it).
    pid: Optional[int] = None

    @property
    def addr(self) -> str:
        return f"{self.host}:{self.port}"


def start_ninedoor_node(workers: Sequence[str] = ("worker-1", "worker-2"), log_lines: Sequence[str] = (),
                        extra: Sequence[str] = ()) -> NinepServer:
    """Starts host/node/ninedoor-serve on a free loopback port and waits for its ready line."""
    args = ["node", NINEDOOR_SERVE, "--port", "0", "--quiet"]
    for w in workers:
        args += ["--worker", w]
    for line in log_lines:
        args += ["--log", line]
    args += list(extra)
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: List[str] = []
    deadline = time.monotonic() + READY_TIMEOUT_S
    port: Optional[int] = None
    while port is None:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT_S)
            raise RuntimeError("ninedoor-serve did not get ready:\n" + "\n".join(lines))
        ready, _, _ = select.select([proc.stderr], [], [], left)
        if not ready:
            continue
        line = proc.stderr.readline().rstrip("\n")
        lines.append(line)
        m = READY.match(line)
        if m:
            port = int(m.group(1))

    def stop() -> None:
        stop_process(proc)

    return NinepServer("ninedoor-node", "127.0.0.1", port, stop, lines, log_text="".join(l + "\n" for l in log_lines), pid=proc.pid)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_ninedoor_firmware(workers: Sequence[str] = ("worker-1", "worker-2"), log_lines: Sequence[str] = (),
                            extra: Sequence[str] = ()) -> NinepServer:
    """Boots build/cohesix-sim with the dev image and a Secure9P listener; spawns heartbeat workers through
    the TCP console (as the queen would) and echoes `log_lines` into /log/queen.log. `extra` goes on
    cohesix-sim's command line (e.g. --spin-us 0).

    Worker ids are `worker-<n>` from 1 in spawn order (spec §6), so `workers` must be worker-1..worker-N.
    """
    for n, w in enumerate(workers, 1):
        if w != f"worker-{n}":
            raise ValueError(f"the firmware names its n-th worker worker-{n}, not {w}")
    last: Optional[Exception] = None
    for _ in range(FIRMWARE_PORT_TRIES):
        try:
            return _boot_firmware(len(workers), log_lines, extra)
        except _PortTaken as e:
            last = e
    raise RuntimeError(f"cohesix-sim found no free Secure9P port in {FIRMWARE_PORT_TRIES} tries: {last}")


class _PortTaken(RuntimeError):
    pass


def _boot_firmware(n_workers: int, log_lines: Sequence[str], extra: Sequence[str]) -> NinepServer:
    # Imported here: hivekit pulls in pytest, which the bench does not otherwise need.
    from hivekit import ConsoleClient

    port = free_port()
    errf = tempfile.TemporaryFile()
    proc = subprocess.Popen([SIM, "--image", DEV_IMAGE, "--uart", "none", "--console-port", "0", "--9p-port", str(port), *extra],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)

    def log() -> str:
        errf.seek(0)
        return errf.read().decode(errors="replace")

    def stop() -> None:
        stop_process(proc)
        errf.close()

    def wait_for(rx, what):
        deadline = time.monotonic() + FIRMWARE_READY_TIMEOUT_S
        while True:
            text = log()
            m = rx.search(text)
            if m:
                return m
            if PORT_TAKEN in text:
                stop()
                raise _PortTaken(text)
            if proc.poll() is not None or time.monotonic() > deadline:
                stop()
                raise RuntimeError(f"cohesix-sim: no {what} within {FIRMWARE_READY_TIMEOUT_S} s:\n{text}")
            time.sleep(FIRMWARE_POLL_S)

    try:
        wait_for(FIRMWARE_9P_READY, "secure9p ready line")
        console_port = int(wait_for(FIRMWARE_CONSOLE_READY, "console ready line").group(1))
        c = ConsoleClient(console_port)
        try:
            def command(line: str, want: str) -> None:
                got = c.command(line)
                if got != [want]:
                    raise RuntimeError(f"console {line!r} answered {got!r}, not {want!r}")
            command(f"AUTH {CONSOLE_TOKEN}", "OK AUTH")
            command("ATTACH queen", "OK ATTACH role=queen")
            log_text = FIRMWARE_ONLINE_LINE + "\n"
            for n in range(1, n_workers + 1):
                spawn = f'{{"spawn":"heartbeat","ticks":{HEARTBEAT_TICKS}}}'
                command(f"SPAWN {spawn}", f"OK SPAWN payload={spawn}")
                line = SPAWN_LINE.format(id=f"worker-{n}", ticks=HEARTBEAT_TICKS)
                # SPAWN is acknowledged before it acts (spec §3.5): wait for the worker to exist.
                wait_for(re.compile(r"\[ninedoor\] " + re.escape(line) + "$", re.M), line)
                log_text += line + "\n"
            for line in log_lines:
                command(f"ECHO /log/queen.log {line}", f"OK ECHO path=/log/queen.log bytes={len(line.encode())}")
                log_text += line + "\n"
        finally:
            c.close()
    except Exception:
        stop()
        raise
    return NinepServer("ninedoor-firmware", "127.0.0.1", port, stop, log().splitlines(),
                       boot_text=FIRMWARE_BOOT, log_text=log_text, pid=proc.pid)


def external_server() -> Optional[NinepServer]:
    """The server named by COHESIX_NINEP_SERVER, if set; stopping it is its owner's job."""
    spec = os.environ.get(EXTERNAL_ENV)
    if not spec:
        return None
    host, _, port = spec.rpartition(":")
    return NinepServer("external", host or "127.0.0.1", int(port), lambda: None)


def mint_ticket(role: str, subject: Optional[str] = None, ttl_s: Optional[int] = None,
                issued_ms: Optional[int] = None, secret: Optional[str] = None, scopes: Sequence[str] = ()) -> str:
    """A ticket minted by js/tickets with the spec §8.3 dev secrets (or `secret`, to forge one);
    `scopes` are `PATH:VERB:RATE` strings (spec §8.6)."""
    args = ["node", MINT_TICKET, "--role", role]
    for s in scopes:
        args += ["--scope", s]
    if subject is not None:
        args += ["--subject", subject]
    if ttl_s is not None:
        args += ["--ttl-s", str(ttl_s)]
    if issued_ms is not None:
        args += ["--issued-ms", str(issued_ms)]
    if secret is not None:
        args += ["--secret", secret]
    out = subprocess.run(args, capture_output=True, text=True, timeout=MINT_TIMEOUT_S, check=True)
    return out.stdout.strip()
