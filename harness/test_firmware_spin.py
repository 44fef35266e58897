# test_firmware_spin: cohesix-sim's --spin-us (poll after input before sleeping) is bounded: refused out of range, engaged after input, and never while idle.
"""The host firmware's wait polls for up to --spin-us after input (host/sim/hal_posix.c), so a client
in a request loop is not made to wait for a sleeping CPU to wake. Its price must stay bounded: an
idle hive, and one a burst of requests has just left, use no CPU; and it must cost what it says
after input, or it buys nothing. CPU time comes from /proc/<pid>/schedstat (ns on a CPU). The rate
it buys is a figure for bench/ninep.py, not a test."""
import os
import subprocess
import time

import pytest

from hivekit import AUTH_TOKEN, SIM, cpu_ms, cpu_ms_over, has_cpu_times

SPIN_LONGEST_US = 10000
# Over QUIET_S a sleeping firmware runs for well under a ms (its timers); one that spun after every
# wait, or never stopped, runs for tens of ms or the whole time.
QUIET_S = 2.0
QUIET_CPU_MS_MAX = 5.0
BURST_REQUESTS = 300
# After input: past any spin (10 ms at most) and the console's replies.
SETTLE_S = 0.5
# Requests far enough apart that each is followed by a whole spin and then a sleep.
SPACED_REQUESTS = 20
SPACING_S = 0.05
# A 10 ms spin after each of them costs ~200 ms of CPU; a quarter allows for a loaded machine.
SPACED_SPIN_CPU_MS_MIN = SPACED_REQUESTS * SPIN_LONGEST_US / 1000 / 4
SPACED_NO_SPIN_CPU_MS_MAX = 25.0
REFUSAL_TIMEOUT_S = 10


def ping(c):
    assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]


def booted(hive, console, dev_image, spin_us: int):
    if not has_cpu_times():
        pytest.skip("needs /proc/<pid>/schedstat for CPU times")
    sim = hive(dev_image, uart="none", extra=("--spin-us", str(spin_us)))
    c = console(sim.port)
    assert c.command(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    return sim, c


def test_spin_values_are_checked():
    for bad in ("-1", "10001", "abc", "", "5x", " 5", "+5", "100000"):
        r = subprocess.run([str(SIM), "--image", "unused.img", "--spin-us", bad],
                           capture_output=True, text=True, timeout=REFUSAL_TIMEOUT_S)
        assert r.returncode == 2, (bad, r.stderr)
        assert f"--spin-us needs 0..10000, got '{bad}'" in r.stderr
    for good in ("0", "10000"):
        # Taken: the firmware goes on to the image, which is missing.
        r = subprocess.run([str(SIM), "--image", "unused.img", "--spin-us", good],
                           capture_output=True, text=True, timeout=REFUSAL_TIMEOUT_S)
        assert r.returncode == 1 and "unused.img" in r.stderr, (good, r.stderr)


def test_the_firmware_sleeps_when_idle_and_after_a_burst(dev_image, hive, console):
    # The longest spin there is, so a spin that does not end, or one after every wait, shows at once.
    sim, c = booted(hive, console, dev_image, SPIN_LONGEST_US)
    pid = sim.proc.pid
    time.sleep(SETTLE_S)  # past the spin that follows AUTH
    idle = cpu_ms_over(pid, QUIET_S)
    assert idle <= QUIET_CPU_MS_MAX, f"idle firmware ran {idle:.1f} ms in {QUIET_S} s"
    for _ in range(BURST_REQUESTS):
        ping(c)
    time.sleep(SETTLE_S)
    after = cpu_ms_over(pid, QUIET_S)
    assert after <= QUIET_CPU_MS_MAX, f"after a burst the firmware ran {after:.1f} ms in {QUIET_S} s: it kept spinning"
    # And it still answers at once after sleeping.
    ping(c)


def spaced_requests_cpu_ms(pid: int, c) -> float:
    before = cpu_ms(pid)
    for _ in range(SPACED_REQUESTS):
        ping(c)
        time.sleep(SPACING_S)
    return cpu_ms(pid) - before


def test_the_spin_follows_input_and_spin_0_turns_it_off(dev_image, hive, console):
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the firmware never spins there")
    sim, c = booted(hive, console, dev_image, SPIN_LONGEST_US)
    if "fewer than two CPUs to run on" in sim.log.text():
        pytest.skip("a CPU quota below two CPUs here: the firmware turned its spin off, as it should")
    spun = spaced_requests_cpu_ms(sim.proc.pid, c)
    assert spun >= SPACED_SPIN_CPU_MS_MIN, f"{SPACED_REQUESTS} spaced requests cost {spun:.1f} ms of CPU: no spin after them"
    sim, c = booted(hive, console, dev_image, 0)
    slept = spaced_requests_cpu_ms(sim.proc.pid, c)
    assert slept <= SPACED_NO_SPIN_CPU_MS_MAX, f"with --spin-us 0, {SPACED_REQUESTS} spaced requests cost {slept:.1f} ms of CPU"


# A stop must not wait out the pump's sleep (up to 1 s, engine/port/pump.h): the signal wakes it.
STOP_TRIES = 3
STOP_S_MAX = 0.3


def test_sigterm_right_after_input_stops_the_firmware_at_once(dev_image, hive, console):
    """A signal that lands while the pump spins (a poll never fails with EINTR) or just before it
    sleeps used to leave the stop flag unseen until the next deadline; the wake pipe ends the wait."""
    for _ in range(STOP_TRIES):
        sim, c = booted(hive, console, dev_image, SPIN_LONGEST_US)
        ping(c)
        time.sleep(0.001)  # inside the 10 ms spin that follows the reply
        proc = sim.proc
        t0 = time.monotonic()
        proc.terminate()
        proc.wait(timeout=5)
        took = time.monotonic() - t0
        assert took <= STOP_S_MAX, f"SIGTERM during the spin took {took:.3f} s to stop the firmware"


QUOTA_OFF_LINE = "fewer than two CPUs to run on (affinity or cgroup quota): --spin-us 50 is off"


def cgroup_with_quota(tmp_name: str, cpus: float):
    """A new cgroup whose parent has a CPU quota of `cpus` (v2 cpu.max, else v1 CFS), as
    (parent, child) directories; None where this machine will not let us make one."""
    period = 100000
    quota = int(cpus * period)
    v2 = "/sys/fs/cgroup"
    v1 = "/sys/fs/cgroup/cpu"
    for root, write_quota in ((v1, lambda d: open(f"{d}/cpu.cfs_quota_us", "w").write(str(quota))),
                              (v2, lambda d: open(f"{d}/cpu.max", "w").write(f"{quota} {period}"))):
        if root == v2 and not os.path.exists(f"{v2}/cgroup.controllers"):
            continue
        if not os.path.isdir(root):
            continue
        parent = f"{root}/{tmp_name}"
        try:
            os.mkdir(parent)
        except OSError:
            continue
        try:
            write_quota(parent)
            os.mkdir(f"{parent}/inner")
            return parent, f"{parent}/inner"
        except OSError:
            os.rmdir(parent)
    return None


def boot_line_in_cgroup(cgroup: str) -> str:
    """Boots the firmware with --spin-us 50 inside `cgroup` and returns what it said before the console was ready."""
    def join():
        with open(f"{cgroup}/cgroup.procs", "w") as f:
            f.write("0")
    proc = subprocess.Popen([str(SIM), "--image", "unused.img", "--spin-us", "50"], preexec_fn=join,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=REFUSAL_TIMEOUT_S)
    return err


@pytest.mark.parametrize("cpus, spins", [(0.5, False), (4.0, True)])
def test_the_spin_is_off_under_a_cgroup_quota_below_two_cpus(cpus, spins):
    """The firmware in a cgroup whose parent caps it at `cpus` (a container's --cpus): below two it
    says the spin is off (it would spend the quota the hive needs); at four it spins as asked."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the spin is off whatever the quota")
    made = cgroup_with_quota(f"cohesix-spin-test-{os.getpid()}", cpus)
    if made is None:
        pytest.skip("cannot make a cgroup with a CPU quota here (not root, or no cpu controller)")
    parent, child = made
    try:
        err = boot_line_in_cgroup(child)
    finally:
        os.rmdir(child)
        os.rmdir(parent)
    assert (QUOTA_OFF_LINE in err) is not spins, err
