"""`npm start`'s launcher (host/start) in a real terminal: hive + gpu-bridge-host --mock + cohsh as queen; leaving cohsh stops all of them, no orphans."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from hivekit import REPO
from test_cohsh_interactive import Term

START = REPO / "build" / "tsc" / "host" / "start" / "start.js"
STOP_WAIT_S = 12  # the launcher's own bounds: 5 s per child
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def pids(log: str) -> list[int]:
    with open(log) as f:
        return [int(p) for p in re.findall(r"\[start\] (?:hive|bridge) pid=(\d+)", f.read())]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (the launcher reaps its own children).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def wait_gone(ps: list[int]) -> list[int]:
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline and any(alive(p) for p in ps):
        time.sleep(0.05)
    return [p for p in ps if alive(p)]


def launch(log: str, status: str) -> Term:
    cmd = (f"cd {REPO} && COHSH_CONSOLE_LOCK=0 COHSH_HISTORY={log}.hist node {START} --console-port 0 --9p-port 0 "
           f"--interval-ms 250 --log {log}; echo $? > {status}; sleep 30")
    return Term(cmd)


def test_npm_start_drops_into_cohsh_with_the_bridge_published_and_ctrl_d_stops_everything():
    d = tempfile.mkdtemp()
    log, status = os.path.join(d, "hive.log"), os.path.join(d, "status")
    t = launch(log, status)
    try:
        t.wait("attached session 1 as Queen", timeout=15)
        t.wait("coh>")
        s = t.screen()
        assert "[start] hive up: console 127.0.0.1:" in s
        assert "[root-task]" not in s, "the firmware log goes to the file, not the terminal"
        t.keys("cat /gpu/bridge/status", "Enter")
        t.wait("state=ok bytes=")
        t.keys("ls /gpu", "Enter")
        t.wait("models")
        # Ctrl-C belongs to cohsh: the hive and the bridge keep running.
        t.keys("C-c")
        t.keys("ping", "Enter")
        t.wait("ping: pong")
        ps = pids(log)
        assert len(ps) == 2 and all(alive(p) for p in ps)
        t.keys("C-d")
        assert wait_gone(ps) == [], "no orphans after Ctrl-D"
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline and not os.path.exists(status):
            time.sleep(0.05)
        with open(status) as f:
            assert f.read().strip() == "0"
        with open(log) as f:
            text = f.read()
        assert "published gpus=2" in text and "cohesix-sim: stopped" in text and text.rstrip().endswith("[start] stopped")
    finally:
        t.close()


def test_sigterm_to_the_launcher_stops_cohsh_the_bridge_and_the_hive():
    d = tempfile.mkdtemp()
    log, status = os.path.join(d, "hive.log"), os.path.join(d, "status")
    t = launch(log, status)
    try:
        t.wait("coh>", timeout=15)
        ps = pids(log)
        with open(log) as f:
            launcher = int(re.search(r"\[start\] launcher pid=(\d+)", f.read()).group(1))
        os.kill(launcher, signal.SIGTERM)
        assert wait_gone(ps + [launcher]) == []
    finally:
        t.close()


def test_usage_error_exits_2():
    r = subprocess.run(["node", str(START), "--no-such-flag"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "unknown option --no-such-flag" in r.stderr


def test_a_taken_console_port_is_a_clear_error_and_nothing_is_left_running():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        d = tempfile.mkdtemp()
        r = subprocess.run(["node", str(START), "--console-port", str(port), "--log", os.path.join(d, "hive.log")],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 1
    assert f"127.0.0.1:{port} is taken (another hive?)" in r.stderr
    assert not os.path.exists(os.path.join(d, "hive.log")), "nothing was started"
