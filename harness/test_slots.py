# test_slots: A/B slots in the host firmware: a new image that never gets online falls back, and power loss at any step boots a good image.
import json
import re

import pytest
from hivekit import BASE_MANIFEST, CONSOLE_READY_RE, Sim, build_image, cohimg, hive_manifest, task_entry

# Short enough to keep the suite quick, long enough for a loaded CI machine to boot a good image.
ONLINE_TIMEOUT_MS = 1500
NOT_ONLINE_EXIT = 3  # SIM_EXIT_NOT_ONLINE in host/sim/main.c
EXIT_WAIT_S = 10.0
# Kill points (docs/slots.md): the firmware's during a boot, cohimg's during an install.
SIM_KILL_POINTS = ["attempt-recorded", "state-tmp-written", "state-renamed", "booted", "online-confirmed"]
INSTALL_KILL_POINTS = ["install:image-tmp", "install:image-renamed", "install:state-tmp", "install:state-renamed"]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """`good_a` and `good_b`: the board's hive under two ids; `silent`: a root task that never opens its console."""
    d = tmp_path_factory.mktemp("slot-images")
    cohimg("keygen", "--out", str(d / "owner"))
    key = d / "owner.key"
    out = {}
    for name in ("good_a", "good_b"):
        m = json.loads(BASE_MANIFEST.read_text())
        m["image_id"] = name.replace("_", "-")
        out[name] = build_image(d, m, name=name, key=key)
    silent = hive_manifest([], [], image_id="silent")
    silent["root_task"] = "root-silent"
    silent["tasks"] = [task_entry("root-silent", ["log"])]
    out["silent"] = build_image(d, silent, fixtures=("root-silent",), name="silent", key=key)
    out["pub"] = d / "owner.pub"
    return out


def boot(slots, images, env=None) -> Sim:
    return Sim(None, "none", ("--slots", str(slots), "--trust-key", str(images["pub"]),
                              "--online-timeout-ms", str(ONLINE_TIMEOUT_MS)), env)


def boot_until_exit(slots, images, env=None) -> tuple[int, str]:
    sim = boot(slots, images, env)
    try:
        rc = sim.proc.wait(EXIT_WAIT_S)
    finally:
        sim.kill()
    sim.log.join(EXIT_WAIT_S)
    return rc, sim.log.text()


def boot_online(slots, images) -> str:
    """Boots, waits for online, stops; returns the id of the image that came up."""
    sim = boot(slots, images)
    try:
        sim.wait_ready()
        if "trying slot" in sim.log.text():  # a trial boot: wait until the slot is confirmed on disk
            sim.expect_log(r"\[firmware\] slots: slot [AB] reached online: it is now the last good slot\n", what="confirm")
        return sim.expect_log(r"\[firmware\] image (\S+) \(dev\) verified", what="verified line").group(1)
    finally:
        sim.kill()


def state(slots) -> str:
    return (slots / "state").read_text()


def install(slots, image, env=None, check=True):
    return cohimg("slot", "install", str(image), "--slot-dir", str(slots), env=env, check=check)


def good_a(tmp_path, images):
    """A slot folder whose slot A holds good-a and has reached online."""
    slots = tmp_path / "slots"
    install(slots, images["good_a"])
    assert boot_online(slots, images) == "good-a"
    assert re.match(r"cohesix-slots/v1 active=A last_good=A attempts=0 check=[0-9a-f]{16}\n$", state(slots))
    return slots


def test_new_image_that_never_gets_online_falls_back_to_a_and_says_why(tmp_path, images):
    slots = good_a(tmp_path, images)
    r = install(slots, images["silent"])
    assert "into slot B" in r.stdout and "falling back to slot A unless it reaches online" in r.stdout
    rc, log = boot_until_exit(slots, images)
    assert rc == NOT_ONLINE_EXIT, log
    assert "[firmware] slots: trying slot B (boot 1 of 1 before falling back to slot A)" in log
    assert "root-silent: up, never listening" in log
    assert (f"cohesix-sim: slot B did not reach online within {ONLINE_TIMEOUT_MS} ms: stopping; the next boot falls back "
            "to slot A") in log
    sim = boot(slots, images)
    try:
        sim.wait_ready()
        sim.expect_log(r"\[firmware\] slots: slot B did not reach online in 1 boot: falling back to last good slot A\n",
                       what="fallback line")
        sim.expect_log(r"\[firmware\] image good-a \(dev\) verified", what="good-a booted")
    finally:
        sim.kill()
    assert "active=A last_good=A attempts=0" in state(slots)


def test_good_new_image_becomes_the_last_good_slot(tmp_path, images):
    slots = good_a(tmp_path, images)
    install(slots, images["good_b"])
    assert boot_online(slots, images) == "good-b"
    assert "active=B last_good=B attempts=0" in state(slots)
    # The next update goes to A: the last good slot is never overwritten.
    assert "into slot A" in install(slots, images["good_a"]).stdout


def test_tampered_new_image_is_refused_and_a_boots_at_once(tmp_path, images):
    slots = good_a(tmp_path, images)
    install(slots, images["good_b"])
    data = bytearray((slots / "B.img").read_bytes())
    data[-1024] ^= 0x01  # inside the last bundle or its padding
    (slots / "B.img").write_bytes(data)
    sim = boot(slots, images)
    try:
        sim.wait_ready()
        sim.expect_log(r"\[firmware\] slots: slot B refused \(image: .+\): falling back to last good slot A\n",
                       what="refusal and fallback")
    finally:
        sim.kill()


def boot_until_online(slots, images, boots_max: int = 3) -> tuple[str, int]:
    """Boots again and again (a watchdog stop is a reboot) until one boot is online; returns (image id, boots)."""
    for n in range(1, boots_max + 1):
        sim = boot(slots, images)
        try:
            if sim.log.search(CONSOLE_READY_RE, EXIT_WAIT_S) is not None:
                return sim.expect_log(r"\[firmware\] image (\S+) \(dev\) verified", what="verified").group(1), n
        finally:
            sim.kill()
    pytest.fail(f"not online after {boots_max} boots; state {state(slots)!r}", pytrace=False)


@pytest.mark.parametrize("point", SIM_KILL_POINTS)
def test_firmware_killed_at_each_step_of_a_trial_boot_still_boots_a_good_image(tmp_path, images, point):
    slots = good_a(tmp_path, images)
    install(slots, images["silent"])
    rc, log = boot_until_exit(slots, images, env={"COHESIX_SIM_KILL_AT": point})
    # The silent image never gets online, so that point is never reached: the watchdog ends the run.
    assert rc == (NOT_ONLINE_EXIT if point == "online-confirmed" else -9), log
    # Whatever the step, the hive comes up on the good image, never the silent one, within two more boots
    # (a kill before the attempt is on record leaves slot B one more trial, which the watchdog ends).
    image_id, boots = boot_until_online(slots, images)
    assert image_id == "good-a"
    assert boots <= 2


@pytest.mark.parametrize("point", INSTALL_KILL_POINTS)
def test_install_killed_at_each_step_boots_a_good_image(tmp_path, images, point):
    slots = good_a(tmp_path, images)
    r = install(slots, images["good_b"], env={"COHIMG_KILL_AT": point}, check=False)
    assert r.returncode == -9, r.stderr
    came_up = boot_online(slots, images)
    # Before the state is replaced the old state stands (A); after, B is on trial and is good.
    assert came_up == ("good-b" if point == "install:state-renamed" else "good-a")
