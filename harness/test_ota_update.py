# test_ota_update: over-the-air update of the host firmware booted from A/B slots, driven with cohsh as an operator would; refusals; power loss at random points.
import base64
import hashlib
import json
import random
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import image_kit
import pytest
from hivekit import (AUTH_TOKEN, BUILD, REPO, ConsoleClient, Sim, build_image, cohimg, hive_manifest,
                     task_entry)
from ninep_server import mint_ticket
from opskit import COHSH, cohsh, tool_env

# Short enough to keep the suite quick, long enough for a loaded CI machine to boot a good image.
ONLINE_TIMEOUT_MS = 3000
NOT_ONLINE_EXIT = 3  # SIM_EXIT_NOT_ONLINE in host/sim/main.c
UPDATE_TIMEOUT_S = 90.0
EXIT_WAIT_S = 15.0
CHUNK_BYTES = 168  # UPDATE_CHUNK_BYTES_MAX in js/console/update.ts
IMAGE_BYTES_MAX = 16 * 1024 * 1024  # UPDATE_IMAGE_BYTES_MAX in js/root-task/update.ts
# Power loss: a fixed seed, so a failure is reproduced by running the test again.
POWER_LOSS_SEED = 16
POWER_LOSS_CASES = 20
POWER_LOSS_REPORT = BUILD / "ota-power-loss.json"
# The host board's manifest: NineDoor, its console relay and workers, and the dev ticket secrets, so
# a queen and a worker attach with tickets as an operator's would.
BOARD_MANIFEST = REPO / "boards" / "host" / "manifest.json"
CONFIRMED_RE = r"\[firmware\] slots: slot [AB] reached online: it is now the last good slot\n"
VERIFIED_RE = r"\[firmware\] image (\S+) \(dev\) verified"


def free_port() -> int:
    # The firmware restarts itself on the same port: the tests name one rather than asking for port 0.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("ota-images")
    cohimg("keygen", "--out", str(d / "owner"))
    cohimg("keygen", "--out", str(d / "stranger"))
    key = d / "owner.key"
    out = {"pub": d / "owner.pub"}
    for name in ("good_a", "good_b"):
        m = json.loads(BOARD_MANIFEST.read_text())
        m["image_id"] = name.replace("_", "-")
        out[name] = build_image(d, m, name=name, key=key)
    # A root task that starts but never opens its console: a B that never reaches online.
    silent = hive_manifest([], [], image_id="silent")
    silent["root_task"] = "root-silent"
    silent["tasks"] = [task_entry("root-silent", ["log"])]
    out["silent"] = build_image(d, silent, fixtures=("root-silent",), name="silent", key=key)
    # Signed by a key the hive does not trust.
    m = json.loads(BOARD_MANIFEST.read_text())
    m["image_id"] = "stranger-b"
    out["untrusted"] = build_image(d, m, name="untrusted", key=d / "stranger.key")
    # The owner's signature with one bit flipped in its last byte (the Ed25519 signature).
    data = bytearray(out["good_b"].read_bytes())
    sig = [e for e in image_kit.unpack(bytes(data)) if e.name == "manifest.sig"][0]
    data[sig.offset + len(sig.data) - 1] ^= 0x01
    out["bad_sig"] = d / "bad-sig.img"
    out["bad_sig"].write_bytes(data)
    # Another engine build: every bundle's fingerprint and the manifest's differ in one bit, consistently,
    # and the owner signs it, so only the firmware's engine check can object.
    entries = [e for e in image_kit.unpack(out["good_b"].read_bytes()) if e.name != "manifest.sig"]
    m = image_kit.manifest_of(entries)
    forged = {}
    for e in entries[1:]:
        qbc = bytearray(e.data)
        qbc[image_kit.QBC_FINGERPRINT_OFFSET] ^= 0x01
        forged[e.name] = image_kit.reseal_qbc(bytes(qbc))
    for t in m["tasks"]:
        t["sha256"] = image_kit.sha256_hex(forged[t["bundle"]])
    fp = bytearray.fromhex(m["engine"]["fingerprint"])
    fp[0] ^= 0x01
    m["engine"]["fingerprint"] = fp.hex()
    other = d / "other-engine.img"
    other.write_bytes(image_kit.repack(entries, m, forged))
    cohimg("sign", str(other), "--key", str(key))
    out["other_engine"] = other
    return out


class Hive:
    """One firmware booted from a slot folder on a fixed port; restarts itself in place on an update."""

    def __init__(self, slots: Path, images, port: int | None = None, env=None):
        self.slots, self.images, self.port = slots, images, port or free_port()
        self.sim = Sim(None, "none", ("--slots", str(slots), "--trust-key", str(images["pub"]),
                                      "--online-timeout-ms", str(ONLINE_TIMEOUT_MS), "--console-port", str(self.port)), env)

    def online(self, start: int = 0) -> str:
        """Waits for this boot's confirm (when a trial) and returns the id of the verified image."""
        self.sim.expect_log(r"\[root-task\] console ready port=", 10.0, start, what="console ready")
        m = self.sim.expect_log(VERIFIED_RE, 1.0, start, what="verified line")
        if re.search(r"trying slot", self.sim.log.text(start)):
            self.sim.expect_log(CONFIRMED_RE, 5.0, start, what="confirm")
        return m.group(1)

    def kill(self):
        self.sim.kill()


def state(slots: Path) -> str:
    return (slots / "state").read_text()


def status(slots: Path) -> str:
    return cohimg("slot", "status", "--slot-dir", str(slots)).stdout


def flashed_a(tmp_path, images) -> Path:
    """A slot folder whose slot A holds good-a (flashed with cohimg)."""
    slots = tmp_path / "slots"
    cohimg("slot", "install", str(images["good_a"]), "--slot-dir", str(slots))
    return slots


_queen_ticket: list[str] = []


def queen_ticket() -> str:
    """The harness hive allows no ticketless queen (a release-like manifest): a queen ticket, minted once."""
    if not _queen_ticket:
        _queen_ticket.append(mint_ticket("queen"))
    return _queen_ticket[0]


def update(port: int, image: Path, role: str = "queen", ticket: str | None = None, extra=()) -> subprocess.CompletedProcess:
    ticket = ticket or queen_ticket()
    script = image.parent / f"update-{image.stem}-{port}.coh"
    script.write_text(f"update {image}\n")
    args = ["--tcp-port", str(port), "--role", role, *(["--ticket", ticket] if ticket else []), "--script", str(script), *extra]
    return cohsh(*args, env={"COHSH_CONSOLE_LOCK": "0"}, timeout=UPDATE_TIMEOUT_S)


def console(port: int, role: str = "queen", ticket: str = "") -> ConsoleClient:
    ticket = ticket or queen_ticket()
    c = ConsoleClient(port)
    assert ask(c, f"AUTH {AUTH_TOKEN}", "AUTH") == "OK AUTH"
    assert ask(c, f"ATTACH {role} {ticket}".strip(), "ATTACH").startswith("OK ATTACH")
    return c


def ask(c: ConsoleClient, line: str, label: str = "UPDATE") -> str:
    """Sends a line and returns its ACK, skipping the log lines a console may send at any time."""
    c.send_line(line)
    for _ in range(64):
        reply = c.recv_line()
        if reply.startswith(f"OK {label}") or reply.startswith(f"ERR {label}") or reply.startswith("ERR PARSE"):
            return reply
    raise AssertionError(f"no {label} answer to {line[:40]}")


def send_image(c: ConsoleClient, data: bytes, upto: int | None = None, offset: int = 0) -> str:
    """BEGIN, then DATA lines from offset up to `upto` bytes (all by default); returns the BEGIN ACK."""
    begin = ask(c, f"UPDATE BEGIN {len(data)} {hashlib.sha256(data).hexdigest()}")
    end = len(data) if upto is None else upto
    for off in range(offset, end, CHUNK_BYTES):
        r = ask(c, f"UPDATE DATA {off} {base64.b64encode(data[off:min(off + CHUNK_BYTES, end)]).decode()}")
        assert r.startswith("OK UPDATE stage=data"), r
    return begin


def assert_untouched(slots: Path, before_state: str, a_bytes: bytes):
    assert state(slots) == before_state
    assert (slots / "A.img").read_bytes() == a_bytes
    assert not (slots / "B.img").exists()


# ---------------------------------------------------------------- the flow


def test_update_a_to_b_restarts_in_place_and_runs_b_confirmed(tmp_path, images):
    slots = flashed_a(tmp_path, images)
    hive = Hive(slots, images)
    try:
        assert hive.online() == "good-a"
        pid = hive.sim.proc.pid
        mark = hive.sim.log.mark()
        r = update(hive.port, images["good_b"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(r"\[console\] OK UPDATE stage=begin slot=B bytes=\d+ offset=0 chunk_max=168\n", r.stdout), r.stdout
        assert "[console] OK UPDATE stage=commit slot=B image=good-b restart_ms=300" in r.stdout
        assert "[console] OK UPDATE stage=status running=B target=A staged=none installed=0" in r.stdout
        assert "update: the hive is back online on slot B" in r.stdout
        # Same process: the firmware re-executed itself, and confirmed B once online.
        assert hive.online(mark) == "good-b"
        assert hive.sim.proc.pid == pid and hive.sim.proc.poll() is None
        log = hive.sim.log.text(mark)
        assert f"cohesix-sim: restarting into the updated slot (re-exec, pid {pid})" in log
        assert "[firmware] slots: trying slot B (boot 1 of 1 before falling back to slot A)" in log
        assert "[firmware] slots: slot B reached online: it is now the last good slot" in log
        assert re.search(r"^state +active=B last_good=B attempts=0$", status(slots), re.M), status(slots)
        # And back again: B runs, so the next update goes to A.
        r = update(hive.port, images["good_a"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert "stage=commit slot=A image=good-a" in r.stdout
        assert re.search(r"^state +active=A last_good=A attempts=0$", status(slots), re.M)
    finally:
        hive.kill()


def test_update_interactive_shell(tmp_path, images):
    slots = flashed_a(tmp_path, images)
    hive = Hive(slots, images)
    try:
        hive.online()
        r = cohsh("--tcp-port", str(hive.port), "--role", "queen", "--ticket", queen_ticket(), stdin=f"update {images['good_b']}\nquit\n",
                  env={"COHSH_CONSOLE_LOCK": "0"}, timeout=UPDATE_TIMEOUT_S)
        assert "update: the hive is back online on slot B" in r.stdout, r.stdout + r.stderr
        assert re.search(r"^state +active=B last_good=B attempts=0$", status(slots), re.M)
    finally:
        hive.kill()


def test_b_that_never_gets_online_is_abandoned_for_a_after_restart(tmp_path, images):
    slots = flashed_a(tmp_path, images)
    hive = Hive(slots, images)
    try:
        hive.online()
        script = tmp_path / "u.coh"
        script.write_text(f"update {images['silent']}\n")
        # cohsh waits for the hive to come back while the launcher (this test) restarts it.
        shell = subprocess.Popen([str(COHSH), "--tcp-port", str(hive.port), "--role", "queen", "--ticket", queen_ticket(), "--script", str(script)],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=tool_env({"COHSH_CONSOLE_LOCK": "0"}))
        # B (silent) never opens its console: the online watchdog stops the firmware (the host's reset).
        rc = hive.sim.proc.wait(EXIT_WAIT_S + ONLINE_TIMEOUT_MS / 1000)
        assert rc == NOT_ONLINE_EXIT
        assert "cohesix-sim: slot B did not reach online within 3000 ms: stopping; the next boot falls back to slot A" in hive.sim.log.text()
        hive.kill()
        # The launcher starts it again: back on A, and the record says why.
        again = Hive(slots, images, hive.port)
        try:
            assert again.online() == "good-a"
            assert "[firmware] slots: slot B did not reach online in 1 boot: falling back to last good slot A" in again.sim.log.text()
            out, err = shell.communicate(timeout=UPDATE_TIMEOUT_S)
            assert shell.returncode == 1
            assert "update: the hive came back on slot A: slot B did not reach online and it fell back" in err, out + err
            assert re.search(r"^state +active=A last_good=A attempts=0$", status(slots), re.M)
        finally:
            again.kill()
    finally:
        hive.kill()


def test_dropped_connection_resumes_where_it_stopped(tmp_path, images):
    slots = flashed_a(tmp_path, images)
    hive = Hive(slots, images)
    try:
        hive.online()
        data = images["good_b"].read_bytes()
        c = console(hive.port)
        half = (len(data) // 2) // CHUNK_BYTES * CHUNK_BYTES
        assert send_image(c, data, upto=half).endswith("offset=0 chunk_max=168")
        c.close()  # the connection drops mid-upload
        r = update(hive.port, images["good_b"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"stage=begin slot=B bytes={len(data)} offset={half} chunk_max=168" in r.stdout
        assert f"update: resuming at {half} of {len(data)} bytes" in r.stdout
        assert "update: the hive is back online on slot B" in r.stdout
        assert f"[root-task] update: resuming the upload into slot B at {half} of {len(data)} bytes" in hive.sim.log.text()
    finally:
        hive.kill()


# ---------------------------------------------------------------- refusals: the active slot untouched


@pytest.fixture
def running_a(tmp_path, images):
    slots = flashed_a(tmp_path, images)
    hive = Hive(slots, images)
    hive.online()
    yield hive, slots, state(slots), (slots / "A.img").read_bytes()
    hive.kill()


@pytest.mark.parametrize("image,detail,error", [
    ("bad_sig", "bad-signature", "image: signature: Ed25519 signature by key"),
    ("untrusted", "untrusted-key", "image: signature: signed by key"),
    ("other_engine", "wrong-engine", "image: built for engine"),
])
def test_refused_image_leaves_slots_untouched(running_a, images, image, detail, error):
    hive, slots, before, a_bytes = running_a
    r = update(hive.port, images[image])
    assert r.returncode == 1
    assert re.search(rf"\[console\] ERR UPDATE reason=policy detail={detail} error={re.escape(error)}", r.stdout), r.stdout
    assert_untouched(slots, before, a_bytes)
    assert "update refused: image: " in hive.sim.log.text()
    assert hive.sim.proc.poll() is None
    assert not list(slots.glob(".*.part"))


def test_truncated_upload_refused_incomplete(running_a, images):
    hive, slots, before, a_bytes = running_a
    data = images["good_b"].read_bytes()
    c = console(hive.port)
    send_image(c, data, upto=CHUNK_BYTES * 10)
    assert ask(c, "UPDATE COMMIT") == f"ERR UPDATE reason=policy detail=incomplete error=received {CHUNK_BYTES * 10} of {len(data)} bytes"
    assert ask(c, "UPDATE ABORT") == "OK UPDATE stage=abort"
    assert_untouched(slots, before, a_bytes)


def test_oversize_upload_refused_too_big(running_a, images):
    hive, slots, before, a_bytes = running_a
    c = console(hive.port)
    assert ask(c, f"UPDATE BEGIN {IMAGE_BYTES_MAX + 1} {'0' * 64}") == f"ERR UPDATE reason=quota detail=too-big max={IMAGE_BYTES_MAX}"
    data = images["good_b"].read_bytes()
    ask(c, f"UPDATE BEGIN 200 {hashlib.sha256(data[:200]).hexdigest()}")
    ask(c, f"UPDATE DATA 0 {base64.b64encode(data[:168]).decode()}")
    assert ask(c, f"UPDATE DATA 168 {base64.b64encode(data[168:336]).decode()}") == \
        "ERR UPDATE reason=policy detail=invalid-payload bytes=200 error=past the announced size"
    assert_untouched(slots, before, a_bytes)


def test_update_while_another_in_progress_refused_busy(running_a, images):
    hive, slots, before, a_bytes = running_a
    c = console(hive.port)
    data = images["good_b"].read_bytes()
    send_image(c, data, upto=CHUNK_BYTES * 4)
    r = update(hive.port, images["good_a"])
    assert r.returncode == 1
    assert f"[console] ERR UPDATE reason=busy detail=update-in-progress received={CHUNK_BYTES * 4} bytes={len(data)}" in r.stdout, r.stdout
    assert_untouched(slots, before, a_bytes)


def test_worker_and_unattached_refused(running_a, images):
    hive, slots, before, a_bytes = running_a
    spawn = '{"spawn":"heartbeat","ticks":100}'
    queen = console(hive.port)  # kept open: a queen console lost cuts the root (spec §15)
    assert ask(queen, f"SPAWN {spawn}", "SPAWN") == f"OK SPAWN payload={spawn}"
    c = ConsoleClient(hive.port)
    assert ask(c, f"AUTH {AUTH_TOKEN}", "AUTH") == "OK AUTH"
    assert ask(c, f"UPDATE BEGIN 100 {'0' * 64}") == "ERR UPDATE reason=policy detail=unauthenticated"
    ticket = mint_ticket("worker-heartbeat", subject="worker-1")
    for _ in range(20):  # until the spawned worker is known to NineDoor
        if ask(c, f"ATTACH worker-heartbeat {ticket}", "ATTACH").startswith("OK ATTACH"):
            break
        time.sleep(0.1)
    else:
        pytest.fail("worker-1 could not attach")
    assert ask(c, f"UPDATE BEGIN 100 {'0' * 64}") == "ERR UPDATE reason=policy detail=unauthenticated"
    assert ask(c, "UPDATE STATUS") == "ERR UPDATE reason=policy detail=unauthenticated"
    assert_untouched(slots, before, a_bytes)


def test_hive_not_booted_from_slots_refuses_no_slots(tmp_path, images):
    sim = Sim(images["good_a"], "none", ("--trust-key", str(images["pub"])))
    try:
        port = sim.wait_ready()
        r = update(port, images["good_b"])
        assert r.returncode == 1
        assert "[console] ERR UPDATE reason=policy detail=no-slots error=this hive did not boot from A/B slots" in r.stdout, r.stdout
    finally:
        sim.kill()


# ---------------------------------------------------------------- power loss


def test_power_loss_at_20_random_points_boots_a_verified_image(tmp_path, images):
    """kill -9 at random times during an update and during the trial boot; the next start must come up online
    on a verified image, and the state record says which slot and the log why."""
    rng = random.Random(POWER_LOSS_SEED)
    template = flashed_a(tmp_path / "template", images)
    first = Hive(template, images)
    try:
        assert first.online() == "good-a"
    finally:
        first.kill()
    outcomes = []
    for case in range(POWER_LOSS_CASES):
        phase = "update" if case % 2 == 0 else "trial-boot"
        slots = tmp_path / f"case-{case}"
        shutil.copytree(template, slots)
        hive = Hive(slots, images)
        hive.online()
        mark = hive.sim.log.mark()
        script = tmp_path / f"u{case}.coh"
        script.write_text(f"update {images['good_b']}\n")
        shell = subprocess.Popen([str(COHSH), "--tcp-port", str(hive.port), "--role", "queen", "--ticket", queen_ticket(), "--script", str(script)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=tool_env({"COHSH_CONSOLE_LOCK": "0"}))
        if phase == "update":
            delay_ms = rng.randint(0, 900)
        else:
            hive.sim.expect_log(r"cohesix-sim: restarting into the updated slot", 20.0, mark, what="restart")
            delay_ms = rng.randint(0, 150)  # the trial boot to its confirm takes ~100 ms here
        time.sleep(delay_ms / 1000)
        before = hive.sim.log.text(mark)
        hive.kill()  # SIGKILL: power loss
        shell.kill()
        shell.wait()
        reached = ("confirmed B" if "slot B reached online" in before else "trial boot" if "restarting into" in before
                   else "installed" if "installed in slot B" in before else "receiving" if "receiving" in before else "before begin")
        after = Hive(slots, images)
        try:
            image_id = after.online()
            why = re.search(r"\[firmware\] slots: (.*)\n", after.sim.log.text()).group(1)
            st = state(slots).split(" check=")[0]
            running = "A" if image_id == "good-a" else "B"
            assert image_id in ("good-a", "good-b")
            assert f"active={running} last_good={running} attempts=0" in st, (st, why)
            outcomes.append({"case": case, "phase": phase, "kill_after_ms": delay_ms, "reached": reached,
                             "next_boot": image_id, "state": st, "why": why})
        finally:
            after.kill()
    POWER_LOSS_REPORT.write_text(json.dumps(outcomes, indent=1))
    for o in outcomes:
        print(f"{o['case']:2} {o['phase']:10} +{o['kill_after_ms']:3} ms reached={o['reached']:12} -> {o['next_boot']}: {o['why']}")
    assert len(outcomes) == POWER_LOSS_CASES


# ---------------------------------------------------------------- slots on a disk (the layout the seL4 port will keep)


def test_disk_flashed_by_cohimg_boots_in_the_firmware_and_takes_an_update(tmp_path, images):
    # cohimg (TypeScript) writes the layout, the firmware (C, firmware/slot_disk.c) reads it and writes its
    # state copies, and cohimg reads those back: the same bytes on both sides.
    disk = tmp_path / "disk.img"
    r = cohimg("flash", str(images["good_a"]), "--to", str(disk), "--slot", "A", "--trust-key", str(images["pub"]))
    assert "into slot A of" in r.stdout and "read back and compared: identical" in r.stdout, r.stdout
    port = free_port()
    sim = Sim(None, "none", ("--slot-disk", str(disk), "--trust-key", str(images["pub"]), "--online-timeout-ms",
                             str(ONLINE_TIMEOUT_MS), "--console-port", str(port)))
    try:
        sim.expect_log(CONFIRMED_RE, 10.0, what="confirm of slot A")
        st = cohimg("slot", "status", "--disk", str(disk)).stdout
        assert re.search(r"^state +active=A last_good=A attempts=0$", st, re.M), st
        r = update(port, images["good_b"])
        assert r.returncode == 0, r.stdout + r.stderr
        assert "update: the hive is back online on slot B" in r.stdout
        st = cohimg("slot", "status", "--disk", str(disk)).stdout
        assert re.search(r"^state +active=B last_good=B attempts=0$", st, re.M), st
        assert re.search(rf"^slot B +{images['good_b'].stat().st_size} bytes at sector", st, re.M), st
        # A refused image on a disk: the running slot A... now B, untouched, and the other slot recorded empty.
        r = update(port, images["bad_sig"])
        assert "detail=bad-signature" in r.stdout
        st = cohimg("slot", "status", "--disk", str(disk)).stdout
        assert re.search(r"^state +active=B last_good=B attempts=0$", st, re.M) and re.search(r"^slot A +\(empty\)", st, re.M), st
    finally:
        sim.kill()


def test_no_bootable_slot_on_the_disk_boots_the_factory_image_and_says_why(tmp_path, images):
    not_a_disk = tmp_path / "blank.img"
    not_a_disk.write_bytes(bytes(64 * 1024))
    sim = Sim(images["good_a"], "none", ("--slot-disk", str(not_a_disk), "--trust-key", str(images["pub"])))
    try:
        sim.wait_ready()
        assert ("[firmware] slots: slot disk: no COHSLOTS header: not a slot disk: booting the factory image "
                f"{images['good_a']}") in sim.log.text()
    finally:
        sim.kill()
