# test_firmware_wait_fallbacks: with epoll_pwait2 or epoll refused (strace fault injection), the host firmware's pump waits by its fallbacks: it serves, sleeps when idle and stops on SIGTERM.
"""host/sim/hal_posix.c waits in epoll_pwait2; a kernel or sandbox that refuses it (EPERM from a
seccomp profile, ENOSYS before Linux 5.11) gets epoll_wait in ms, and one where epoll_create1 fails
gets ppoll over the handle table. These paths run nowhere else, so strace injects the refusals.
A fallback that failed the same way each turn would spin the pump at 100% CPU (it once did): the
idle check measures the firmware's own CPU time from /proc/<pid>/schedstat."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from hivekit import AUTH_TOKEN, BOOT_TIMEOUT_S, CONSOLE_READY_RE, SIM, Stream, cpu_ms_over, has_cpu_times

STRACE = shutil.which("strace")
# Under strace every system call stops twice: generous bounds, far from a spinning pump's.
STRACE_BOOT_TIMEOUT_S = BOOT_TIMEOUT_S * 6
CHILD_TIMEOUT_S = 5.0
PINGS = 20
SETTLE_S = 0.5
QUIET_S = 2.0
QUIET_CPU_MS_MAX = 100.0  # a spinning pump runs ~2000 ms of the 2 s
STOP_S_MAX = 2.0  # the pump's longest sleep is 1 s (engine/port/pump.h); a missed signal waits it out

pytestmark = [pytest.mark.skipif(STRACE is None, reason="needs strace for fault injection"),
              pytest.mark.skipif(not has_cpu_times(), reason="needs /proc/<pid>/schedstat for CPU times")]


def children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(k) for k in f.read().split()]
    except OSError:
        return []


def firmware_under(pid: int) -> int:
    """The firmware strace runs: its child whose command is cohesix-sim (strace also forks short-lived
    children of its own at start, to probe what ptrace supports)."""
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while time.monotonic() < deadline:
        for k in children(pid):
            try:
                with open(f"/proc/{k}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[0] == str(SIM).encode():
                        return k
            except OSError:
                pass
        time.sleep(0.01)
    raise AssertionError("strace started no firmware")


@pytest.fixture
def traced(dev_image):
    """boot(inject) -> (firmware pid, console port, log Stream); the firmware and strace are killed at
    teardown, the firmware first (a tracee outlives a killed tracer)."""
    started = []

    def boot(inject: str):
        proc = subprocess.Popen([STRACE, "-f", "-qq", "-o", "/dev/null", "-e", f"inject={inject}", str(SIM),
                                 "--image", str(dev_image), "--uart", "none", "--console-port", "0", "--9p-port", "0"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append(proc)
        log = Stream(proc.stderr, "log")
        m = log.search(CONSOLE_READY_RE, STRACE_BOOT_TIMEOUT_S)
        assert m is not None, f"no console under strace -e inject={inject}:\n{log.text()[-3000:]}"
        return firmware_under(proc.pid), int(m.group(1)), log

    yield boot
    for proc in started:
        for kid in children(proc.pid):
            try:
                os.kill(kid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait(CHILD_TIMEOUT_S)


def serves_sleeps_and_stops(boot, console, inject: str) -> None:
    pid, port, log = boot(inject)
    c = console(port)
    assert c.command(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    for _ in range(PINGS):
        assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]
    time.sleep(SETTLE_S)
    assert os.path.exists(f"/proc/{pid}/schedstat"), f"the firmware exited under {inject}:\n{log.text()[-3000:]}"
    idle = cpu_ms_over(pid, QUIET_S)
    assert idle <= QUIET_CPU_MS_MAX, f"with {inject} the idle firmware ran {idle:.0f} ms in {QUIET_S} s: the pump spins"
    t0 = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    while os.path.exists(f"/proc/{pid}/stat") and time.monotonic() - t0 < STOP_S_MAX * 2:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    took = time.monotonic() - t0
    assert took <= STOP_S_MAX, f"with {inject} SIGTERM took {took:.2f} s to stop the firmware"


def test_epoll_pwait2_refused_falls_back_to_epoll_wait(traced, console):
    serves_sleeps_and_stops(traced, console, "epoll_pwait2:error=EPERM")


def test_epoll_refused_falls_back_to_ppoll(traced, console):
    serves_sleeps_and_stops(traced, console, "epoll_create1:error=EMFILE")
