"""9P servers for the interop tests and benches: a server is just (host, port, stop); NineDoor on Node today, the firmware later."""
import os
import re
import select
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NINEDOOR_SERVE = os.path.join(REPO, "build", "tsc", "host", "node", "ninedoor-serve.js")
MINT_TICKET = os.path.join(REPO, "build", "tsc", "host", "node", "mint-ticket.js")
READY = re.compile(r"^ninedoor ready port=(\d+)$")
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
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT_S)

    return NinepServer("ninedoor-node", "127.0.0.1", port, stop, lines)


def external_server() -> Optional[NinepServer]:
    """The server named by COHESIX_NINEP_SERVER, if set; stopping it is its owner's job."""
    spec = os.environ.get(EXTERNAL_ENV)
    if not spec:
        return None
    host, _, port = spec.rpartition(":")
    return NinepServer("external", host or "127.0.0.1", int(port), lambda: None)


def mint_ticket(role: str, subject: Optional[str] = None, ttl_s: Optional[int] = None,
                issued_ms: Optional[int] = None, secret: Optional[str] = None) -> str:
    """A ticket minted by js/tickets with the spec §8.3 dev secrets (or `secret`, to forge one)."""
    args = ["node", MINT_TICKET, "--role", role]
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
