"""Stopping a child process the one way harness/ and bench/ both use: SIGTERM, then SIGKILL past a bound."""
from __future__ import annotations

import subprocess

# Long enough for the firmware and the host tools to run their SIGTERM handlers (a launcher stops
# its own children with 5 s each); past it the process is not stopping by itself.
STOP_TIMEOUT_S = 5.0


def stop_process(proc: subprocess.Popen, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM, then SIGKILL past timeout_s; returns once it has exited (a process already gone is left as it is)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout_s)
