"""cohsh interactive in a real terminal (tmux, private server) against the booted dev image: prompt, completion, history, reconnect after the hive restarts."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from opskit import COHSH, boot_dev, free_port

SCREEN_WAIT_S = 8
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Term:
    """One tmux session on its own server socket, so nothing else's tmux is touched."""

    def __init__(self, cmd: str):
        self.sock = f"cohsh-test-{os.getpid()}-{time.monotonic_ns()}"
        subprocess.run(self.tmux("new-session", "-d", "-s", "t", "-x", "140", "-y", "50", cmd), check=True)

    def tmux(self, *a: str) -> list[str]:
        return ["tmux", "-L", self.sock, *a]

    def keys(self, *k: str) -> None:
        subprocess.run(self.tmux("send-keys", "-t", "t", *k), check=True)

    def screen(self) -> str:
        return subprocess.run(self.tmux("capture-pane", "-t", "t", "-p", "-S", "-200"), capture_output=True, text=True).stdout

    def wait(self, text: str, timeout: float = SCREEN_WAIT_S, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.screen()
            if s.count(text) >= count:
                return s
            time.sleep(0.05)
        raise AssertionError(f"{text!r} (x{count}) never appeared:\n{self.screen()}")

    def alive(self) -> bool:
        return subprocess.run(self.tmux("has-session", "-t", "t"), capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run(self.tmux("kill-server"), capture_output=True)


def test_interactive_against_the_firmware_prompt_completion_history_and_reconnect():
    port = free_port()
    sim = boot_dev(console_port=port)
    hist = os.path.join(tempfile.mkdtemp(), "history")
    cmd = (f"COHSH_HISTORY={hist} COHSH_CONSOLE_LOCK=0 {COHSH} --tcp-port {port} --role queen "
           f"--retry-max-attempts 6 --retry-backoff-ms 200 --retry-ceiling-ms 1000")
    t = Term(cmd)
    try:
        t.wait("Welcome to Cohesix. Type 'help' for commands.")
        t.wait("attached session 1 as Queen")
        t.wait("coh>")
        # Completion: a command, then a namespace path the hive lists.
        t.keys("ca", "Tab")
        t.wait("coh> cat")
        t.keys("/proc/li", "Tab")
        t.wait("coh> cat /proc/lifecycle")
        t.keys("/st", "Tab")
        t.wait("coh> cat /proc/lifecycle/state")
        t.keys("Enter")
        t.wait("state=ONLINE")
        t.keys("ping", "Enter")
        t.wait("ping: pong")
        # History: Up twice brings back the cat.
        t.keys("Up", "Up")
        t.wait("coh> cat /proc/lifecycle/state")
        t.keys("C-u")
        # The hive restarts on the same port: cohsh says the connection is lost, retries, re-AUTHs and re-ATTACHes.
        sim.kill()
        t.wait("[cohsh][tcp] connection lost")
        sim = boot_dev(console_port=port)
        t.wait("attached session", count=2, timeout=15)
        t.keys("ping", "Enter")
        t.wait("ping: pong", count=2)
        t.keys("quit", "Enter")
        deadline = time.monotonic() + SCREEN_WAIT_S
        while time.monotonic() < deadline and t.alive():
            time.sleep(0.05)
        assert not t.alive(), "cohsh exits on quit"
    finally:
        t.close()
        sim.kill()
    with open(hist) as f:
        assert f.read().splitlines() == ["cat /proc/lifecycle/state", "ping", "quit"], "a repeated line is kept once"
