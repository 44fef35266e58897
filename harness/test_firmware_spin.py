# test_firmware_spin: cohesix-sim's --spin-us (poll after input before sleeping) is bounded: refused out of range, and the firmware sleeps again after a burst.
"""The host firmware's wait polls for up to --spin-us after input (host/sim/hal_posix.c), so a client
in a request loop is not made to wait for a sleeping CPU to wake. Its price must stay bounded: an
idle hive, and one a burst of requests has just left, use no CPU. A spin that never ended would burn
a whole CPU here: hundreds of clock ticks where these allow a few. The rate it buys is a figure for
bench/ninep.py, not a test."""
import os
import subprocess
import time

import pytest

from hivekit import AUTH_TOKEN, SIM

# CPU a sleeping firmware may still use over QUIET_S (its timers, a slow CI box): 10 ms ticks.
QUIET_S = 2.0
QUIET_TICKS_MAX = 10
BURST_REQUESTS = 300
# After the burst: past any spin (10 ms at most) and the console's replies.
SETTLE_S = 0.5
REFUSAL_TIMEOUT_S = 10


def cpu_ticks(pid: int) -> int:
    """User + system clock ticks of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def ticks_over(pid: int, seconds: float) -> int:
    before = cpu_ticks(pid)
    time.sleep(seconds)
    return cpu_ticks(pid) - before


def test_out_of_range_spin_is_refused():
    for bad in ("-1", "10001", "abc", "", "5x"):
        r = subprocess.run([str(SIM), "--image", "unused.img", "--spin-us", bad],
                           capture_output=True, text=True, timeout=REFUSAL_TIMEOUT_S)
        assert r.returncode == 2, (bad, r.stderr)
        assert f"--spin-us needs 0..10000, got '{bad}'" in r.stderr


def test_the_firmware_sleeps_when_idle_and_after_a_burst(dev_image, hive, console):
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("needs /proc for CPU times")
    # The longest spin there is, so a spin that does not end would show at once.
    sim = hive(dev_image, uart="none", extra=("--spin-us", "10000"))
    pid = sim.proc.pid
    c = console(sim.port)
    assert c.command(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    idle = ticks_over(pid, QUIET_S)
    assert idle <= QUIET_TICKS_MAX, f"idle firmware used {idle} ticks in {QUIET_S} s"
    for _ in range(BURST_REQUESTS):
        assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]
    time.sleep(SETTLE_S)
    after = ticks_over(pid, QUIET_S)
    assert after <= QUIET_TICKS_MAX, f"after a burst the firmware used {after} ticks in {QUIET_S} s: it kept spinning"
    # And it still answers at once after sleeping.
    assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]
