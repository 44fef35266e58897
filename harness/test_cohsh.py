"""cohsh as an operator meets it: exit codes against the booted host firmware, and the interactive shell in a real terminal (tmux)."""
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM = os.path.join(REPO, "build", "cohesix-sim")
IMAGE = os.path.join(REPO, "build", "images", "dev.img")
COHSH = os.path.join(REPO, "bin", "cohsh")
# Bounds: boot and each cohsh run take well under a second; these only stop a hang.
BOOT_TIMEOUT_S = 20
RUN_TIMEOUT_S = 20
SCREEN_WAIT_S = 5
READY = re.compile(r"console ready port=(\d+)")


@pytest.fixture
def hive():
    proc = subprocess.Popen([SIM, "--image", IMAGE, "--uart", "none", "--console-port", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    port = None
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    try:
        for line in proc.stderr:
            m = READY.search(line)
            if m:
                port = int(m.group(1))
                break
            if time.monotonic() > deadline:
                break
        assert port is not None, "the firmware never said console ready"
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=BOOT_TIMEOUT_S)


def cohsh(*args, env=None, stdin=""):
    e = dict(os.environ, COHSH_HISTORY=os.path.join(tempfile.mkdtemp(), "history"), COHSH_CONSOLE_LOCK="0")
    e.update(env or {})
    return subprocess.run([COHSH, *args], input=stdin, capture_output=True, text=True, env=e, timeout=RUN_TIMEOUT_S)


def test_refused_auth_exits_1_with_a_clear_message(hive):
    script = os.path.join(tempfile.mkdtemp(), "s.coh")
    with open(script, "w") as f:
        f.write("ping\n")
    r = cohsh("--tcp-port", str(hive), "--auth-token", "wrong-token", "--role", "queen", "--script", script)
    assert r.returncode == 1
    assert "auth failed: invalid-length (check --auth-token or COHSH_AUTH_TOKEN)" in r.stdout + r.stderr


def test_tcp_diag_reaches_the_firmware_console(hive):
    r = cohsh("--tcp-port", str(hive), stdin="tcp-diag\nquit\n")
    assert r.returncode == 0
    assert re.search(r"tcp-diag: 127\.0\.0\.1:%d connect ok in \d+ ms" % hive, r.stdout), r.stdout


def test_usage_error_exits_2():
    r = cohsh("--no-such-flag")
    assert r.returncode == 2
    assert "run 'cohsh --help' for usage" in r.stderr


# A private tmux server (-L), so the test never touches anyone's own tmux sessions.
TMUX = ["tmux", "-L", f"cohsh-mock-{os.getpid()}"]


def screen(session):
    return subprocess.run([*TMUX, "capture-pane", "-t", session, "-p"], capture_output=True, text=True).stdout


def wait_screen(session, text):
    deadline = time.monotonic() + SCREEN_WAIT_S
    while time.monotonic() < deadline:
        s = screen(session)
        if text in s:
            return s
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared:\n{screen(session)}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_interactive_prompt_completion_history_and_ctrl_c():
    hist = os.path.join(tempfile.mkdtemp(), "history")
    session = f"cohsh-{os.getpid()}"
    cmd = f"COHSH_HISTORY={hist} {COHSH} --transport mock --role queen"
    subprocess.run([*TMUX, "new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd], check=True)
    keys = lambda *k: subprocess.run([*TMUX, "send-keys", "-t", session, *k], check=True)
    try:
        wait_screen(session, "coh>")  # capture-pane drops the trailing space
        keys("ca", "Tab")
        keys("/proc/b", "Tab")
        wait_screen(session, "coh> cat /proc/boot")
        keys("Enter")
        wait_screen(session, "Cohesix boot: root-task online")
        keys("log -f --interval-ms 250", "Enter")
        wait_screen(session, "Ctrl-C stops")
        keys("C-c")
        wait_screen(session, "stopped following /log/queen.log")
        keys("Up")
        wait_screen(session, "coh> log -f --interval-ms 250")
        keys("C-u", "ping", "Enter")
        wait_screen(session, "ping: pong")
        keys("quit", "Enter")
        deadline = time.monotonic() + SCREEN_WAIT_S
        while time.monotonic() < deadline and subprocess.run([*TMUX, "has-session", "-t", session], capture_output=True).returncode == 0:
            time.sleep(0.05)
    finally:
        subprocess.run([*TMUX, "kill-server"], capture_output=True)
    with open(hist) as f:
        assert f.read().splitlines() == ["cat /proc/boot", "log -f --interval-ms 250", "ping", "quit"]
