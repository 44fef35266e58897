# opskit: the dev hive (build/images/dev.img) booted for the host-tool tests, and cohsh / gpu-bridge-host run against it.
"""Helpers for harness/test_cohsh_*.py, test_gpu_bridge_*.py and test_start.py.

Every run is bounded: a hang reads as a failure naming the command and its output.
"""
from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from pathlib import Path

from hivekit import REPO, Sim

DEV_IMAGE = REPO / "build" / "images" / "dev.img"
COHSH = REPO / "bin" / "cohsh"
BRIDGE = REPO / "bin" / "gpu-bridge-host"
SCRIPTS = Path(__file__).resolve().parent / "fixtures" / "cohsh"
# A cohsh or bridge run takes well under a second; these only stop a hang.
RUN_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def boot_dev(console_port: int = 0, ninep_port: int = 0) -> Sim:
    """The dev image with the UART off; console (and Secure9P when asked) on the given ports."""
    sim = Sim(DEV_IMAGE, "none", ("--console-port", str(console_port), "--9p-port", str(ninep_port)))
    sim.wait_ready()
    return sim


def tool_env(extra: dict | None = None) -> dict:
    e = dict(os.environ, COHSH_HISTORY=os.path.join(tempfile.mkdtemp(), "history"), COHSH_CONSOLE_LOCK="0")
    e.update(extra or {})
    return e


def cohsh(*args: str, env: dict | None = None, stdin: str = "", timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run([str(COHSH), *args], input=stdin, capture_output=True, text=True, env=tool_env(env), timeout=timeout)


def script(port: int, name_or_text: str, *extra: str) -> subprocess.CompletedProcess:
    """Runs a fixture script (a name in fixtures/cohsh) or literal text as queen against the hive."""
    path = SCRIPTS / name_or_text
    if not path.exists():
        fd, p = tempfile.mkstemp(suffix=".coh")
        with os.fdopen(fd, "w") as f:
            f.write(name_or_text)
        path = Path(p)
    return cohsh("--tcp-port", str(port), "--role", "queen", "--script", str(path), *extra)


def bridge(*args: str, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run([str(BRIDGE), *args], capture_output=True, text=True, env=tool_env(), timeout=timeout)


def explain(r: subprocess.CompletedProcess) -> str:
    return f"exit {r.returncode}\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"
