# test_sel4_slots: the seL4 hive boots its image from the A/B slots of a virtio-blk disk, installs an update over TCP into the other slot, and falls back to the factory image linked into the root task.
"""Runs only when an seL4 build of sel4-platform/ is configured (COHESIX_SEL4_BUILD_DIR, as test_sel4_qemu.py).
QEMU's virt board gives user mode no PSCI call (sel4-platform/hal_sel4.c hal_restart), so a reset the hive asks
for ends in SEL4_RESET_LINE and the test stands in for the reset line as the launcher would: it restarts QEMU
on the same disk and ports.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import image_kit
from hivekit import BANNER, BUILD, REPO, Stream, build_image, cohimg, hive_manifest, task_entry
from opskit import COHSH, cohsh, tool_env
from test_sel4_qemu import (BOARD_IMAGE, KILL_TIMEOUT_S, QEMU_BOOT_TIMEOUT_S, QEMU_SCRIPT, free_port, pytestmark,  # noqa: F401
                            relink, restore_board_image)

BOARD_MANIFEST = REPO / "boards" / "qemu-virt-aarch64" / "manifest.json"
DEV_KEY = REPO / "build" / "keys" / "dev.key"
RESET_LINE = "cohesix-sel4: reset requested"  # SEL4_RESET_LINE in sel4-platform/sel4_platform.h
CONSOLE_READY_TIMEOUT_S = 30.0
# The upload crosses QEMU's user networking in 168-byte chunks, each written to the disk by polled requests.
UPDATE_TIMEOUT_S = 240.0
CONFIRMED = "cohesix-sel4: slots: slot {} reached online: it is now the last good slot"
# SEL4_TRIAL_ONLINE_TIMEOUT_US in sel4-platform/root_task.c, and the boot before it.
TRIAL_WATCHDOG_S = 30.0
# Power loss: a fixed seed, so a failure is reproduced by running the test again.
POWER_LOSS_SEED = 16
POWER_LOSS_CASES = 20
POWER_LOSS_REPORT = BUILD / "sel4-ota-power-loss.json"
BENCH_REPORT = BUILD / "sel4-ota-bench.json"


@pytest.fixture(scope="module")
def boot_image() -> Path:
    if not BOARD_IMAGE.exists():
        pytest.fail(f"{BOARD_IMAGE} is missing: run `npm run build`", pytrace=False)
    return relink(BOARD_IMAGE)  # the board's image is the factory image


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Two signed board images that differ only in their id, so the UART says which slot runs."""
    d = tmp_path_factory.mktemp("sel4-slot-images")
    out = {}
    for name in ("good_a", "good_b"):
        m = json.loads(BOARD_MANIFEST.read_text())
        m["image_id"] = name.replace("_", "-")
        out[name] = build_image(d, m, name=name, key=DEV_KEY)
    # A root task that starts but never opens its console: a B that never reaches online.
    silent = hive_manifest([], [], image_id="silent")
    silent["root_task"] = "root-silent"
    silent["tasks"] = [task_entry("root-silent", ["log"])]
    out["silent"] = build_image(d, silent, fixtures=("root-silent",), name="silent", key=DEV_KEY)
    # good-b with one bit flipped in its Ed25519 signature.
    data = bytearray(out["good_b"].read_bytes())
    sig = [e for e in image_kit.unpack(bytes(data)) if e.name == "manifest.sig"][0]
    data[sig.offset + len(sig.data) - 1] ^= 0x01
    out["bad_sig"] = d / "bad-sig.img"
    out["bad_sig"].write_bytes(data)
    return out


class DiskHive:
    """QEMU (through qemu.sh) with a slot disk attached; restart() is the launcher's stand-in for a reset line."""

    def __init__(self, boot_image: Path, disk: Path | None, restart_on_reset: bool = False):
        self.boot_image, self.disk, self.restart_on_reset = boot_image, disk, restart_on_reset
        self.console_port, self.ninep_port = free_port(), free_port()
        self.boots: list[Stream] = []
        self.proc = None
        self.start()

    def start(self) -> None:
        args = [str(QEMU_SCRIPT), "--console-port", str(self.console_port), "--9p-port", str(self.ninep_port)]
        if self.disk is not None:
            args += ["--disk", str(self.disk)]
        if self.restart_on_reset:
            args += ["--restart-on-reset"]
        # Its own session: with --restart-on-reset, qemu.sh, its tail and QEMU are stopped together.
        self.proc = subprocess.Popen([*args, str(self.boot_image)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.uart = Stream(self.proc.stdout, "uart")
        self.boots.append(self.uart)

    def expect(self, pattern: str, timeout_s: float = QEMU_BOOT_TIMEOUT_S, what: str = "UART output"):
        m = self.uart.search(pattern, timeout_s)
        if m is None:
            pytest.fail(f"no {what} within {timeout_s} s (waited for /{pattern}/)\n--- uart tail ---\n"
                        f"{self.uart.text()[-3000:]}", pytrace=False)
        return m

    def online(self) -> None:
        self.expect(re.escape(BANNER), what="the root-task banner")
        self.expect(r"\[root-task\] console ready port=31337", CONSOLE_READY_TIMEOUT_S, what="the TCP console listening")

    def restart(self) -> None:
        self.kill()
        self.start()

    def kill(self) -> None:
        if self.proc.poll() is None:
            if self.restart_on_reset:
                os.killpg(self.proc.pid, signal.SIGTERM)  # the script's trap stops QEMU and its tail
            else:
                self.proc.kill()
            self.proc.wait(KILL_TIMEOUT_S)
        for p in (self.proc.stdin, self.proc.stdout):
            p.close()


@pytest.fixture
def hives():
    started: list[DiskHive] = []

    def boot(boot_image: Path, disk: Path | None, restart_on_reset: bool = False) -> DiskHive:
        h = DiskHive(boot_image, disk, restart_on_reset)
        started.append(h)
        return h

    yield boot
    for h in started:
        h.kill()


def status(disk: Path) -> str:
    return cohimg("slot", "status", "--disk", str(disk)).stdout


def test_first_use_flashes_slot_a_and_boots_it_confirmed(boot_image, images, hives, tmp_path):
    disk = tmp_path / "disk.img"
    h = hives(boot_image, disk)  # qemu.sh creates the disk and flashes the board image into slot A
    h.online()
    h.expect(r"cohesix-sel4: virtio-blk in slot \d+ \(IRQ \d+\), \d+ sectors of 512 bytes", 1.0, what="the disk's line")
    h.expect(r"cohesix-sel4: slots: trying slot A", 1.0, what="the slot pick")
    h.expect(r"cohesix-sel4: booted slot A \(\d+ bytes: disk read \d+ ms, verify and start \d+ ms\) on trial", 1.0,
             what="the boot from slot A")
    h.expect(re.escape(CONFIRMED.format("A")), 5.0, what="slot A confirmed")
    assert "factory image" not in h.uart.text()
    assert re.search(r"state\s+active=A last_good=A attempts=0", status(disk)), status(disk)


def test_update_over_tcp_to_b_resets_and_runs_b_confirmed(boot_image, images, hives, tmp_path):
    disk = tmp_path / "disk.img"
    cohimg("flash", str(images["good_a"]), "--to", str(disk), "--slot", "A")
    h = hives(boot_image, disk)
    h.online()
    h.expect(r"image good-a \(dev\) verified", 1.0, what="good-a running")
    h.expect(re.escape(CONFIRMED.format("A")), 5.0, what="slot A confirmed")
    script = tmp_path / "update.coh"
    script.write_text(f"update {images['good_b']}\n")
    result: dict = {}

    def run_update():
        result["r"] = cohsh("--tcp-port", str(h.console_port), "--role", "queen", "--script", str(script),
                            env={"COHSH_CONSOLE_LOCK": "0"}, timeout=UPDATE_TIMEOUT_S)

    t = threading.Thread(target=run_update)
    t0 = time.monotonic()
    t.start()
    try:
        h.expect(re.escape(RESET_LINE), UPDATE_TIMEOUT_S, what="the reset the update asks for")
        first = h.uart.text()
        h.restart()  # the launcher's stand-in for the reset line
        h.online()
        h.expect(r"cohesix-sel4: slots: trying slot B", 1.0, what="the trial of slot B")
        h.expect(r"image good-b \(dev\) verified", 1.0, what="good-b running")
        h.expect(re.escape(CONFIRMED.format("B")), 10.0, what="slot B confirmed")
    finally:
        t.join(UPDATE_TIMEOUT_S)
    r = result.get("r")
    BENCH_REPORT.write_text(json.dumps({"image_bytes": images["good_b"].stat().st_size,
                                        "update_to_confirmed_s": round(time.monotonic() - t0, 2),
                                        "boot_disk_read_and_verify": re.findall(r"booted slot B \(.*?\)", h.uart.text())}))
    assert r is not None and r.returncode == 0, (r.stdout + r.stderr) if r else "cohsh did not finish"
    assert "update: the hive is back online on slot B" in r.stdout, r.stdout + r.stderr
    assert "[root-task] update:" in first, first[-3000:]
    assert re.search(r"state\s+active=B last_good=B attempts=0", status(disk)), status(disk)


def test_qemu_sh_restart_on_reset_stands_in_for_the_reset_line(boot_image, images, hives, tmp_path):
    """The operator's path: qemu.sh --restart-on-reset restarts QEMU itself when the hive asks for a reset."""
    disk = tmp_path / "disk.img"
    cohimg("flash", str(images["good_a"]), "--to", str(disk), "--slot", "A")
    h = hives(boot_image, disk, restart_on_reset=True)
    h.online()
    h.expect(re.escape(CONFIRMED.format("A")), 5.0, what="slot A confirmed")
    script = tmp_path / "update.coh"
    script.write_text(f"update {images['good_b']}\n")
    r = cohsh("--tcp-port", str(h.console_port), "--role", "queen", "--script", str(script), env={"COHSH_CONSOLE_LOCK": "0"},
              timeout=UPDATE_TIMEOUT_S)
    assert r.returncode == 0 and "update: the hive is back online on slot B" in r.stdout, r.stdout + r.stderr
    h.expect(r"qemu\.sh: the hive asked for a reset: restarting QEMU \(boot 2\)", 1.0, what="qemu.sh's restart")
    h.expect(re.escape(CONFIRMED.format("B")), 10.0, what="slot B confirmed")
    assert re.search(r"state\s+active=B last_good=B attempts=0", status(disk)), status(disk)
    h.kill()
    assert h.proc.returncode is not None


def test_no_disk_boots_the_factory_image_with_why(boot_image, hives):
    h = hives(boot_image, None)
    h.online()
    text = h.uart.text()
    assert "cohesix-sel4: slots: no virtio-blk disk attached: booting the factory image (linked into the root task)" in text, text[-3000:]
    assert "virtio-blk in slot" not in text


def test_a_disk_that_is_not_a_slot_disk_boots_the_factory_image_with_why(boot_image, hives, tmp_path):
    disk = tmp_path / "blank.img"
    disk.write_bytes(bytes(1 << 20))
    h = hives(boot_image, disk)
    h.online()
    h.expect(r"cohesix-sel4: slots: slot disk: no COHSLOTS header: not a slot disk: booting the factory image", 1.0,
             what="the factory line naming why")


def corrupt_slot(disk: Path, slot: str) -> None:
    """Flips a byte in the middle of the slot's image: it still has a recorded length, but fails verification."""
    m = re.search(rf"slot {slot}\s+(\d+) bytes at sector (\d+)", status(disk))
    assert m, status(disk)
    at = int(m.group(2)) * 512 + int(m.group(1)) // 2
    with open(disk, "r+b") as f:
        f.seek(at)
        b = f.read(1)
        f.seek(at)
        f.write(bytes([b[0] ^ 0xFF]))


def test_a_corrupt_trial_slot_is_refused_and_the_last_good_slot_boots(boot_image, images, hives, tmp_path):
    disk = tmp_path / "disk.img"
    cohimg("flash", str(images["good_a"]), "--to", str(disk), "--slot", "A")
    h = hives(boot_image, disk)
    h.online()
    h.expect(re.escape(CONFIRMED.format("A")), 5.0, what="slot A confirmed")
    h.kill()
    cohimg("flash", str(images["good_b"]), "--to", str(disk), "--slot", "B")
    corrupt_slot(disk, "B")
    h.start()
    h.online()
    h.expect(r"cohesix-sel4: slot B refused: ", 1.0, what="slot B refused")
    h.expect(r"image good-a \(dev\) verified", 1.0, what="good-a running again")
    assert "factory image" not in h.uart.text()
    assert re.search(r"state\s+active=A last_good=A", status(disk)), status(disk)


def test_both_slots_failing_boots_the_factory_image_with_why(boot_image, images, hives, tmp_path):
    disk = tmp_path / "disk.img"
    cohimg("flash", str(images["good_a"]), "--to", str(disk), "--slot", "A")
    corrupt_slot(disk, "A")
    h = hives(boot_image, disk)
    h.online()
    h.expect(r"cohesix-sel4: slot A refused: ", 1.0, what="slot A refused")
    h.expect(r"cohesix-sel4: slots: .*: booting the factory image \(linked into the root task\)", 1.0,
             what="the factory line naming why")
    h.expect(r"image qemu-virt-aarch64 \(dev\) verified", 1.0, what="the factory image running")


def flashed_running_a(boot_image, images, hives, tmp_path) -> tuple[DiskHive, Path]:
    disk = tmp_path / "disk.img"
    cohimg("flash", str(images["good_a"]), "--to", str(disk), "--slot", "A")
    h = hives(boot_image, disk)
    h.online()
    h.expect(re.escape(CONFIRMED.format("A")), 5.0, what="slot A confirmed")
    return h, disk


def slot_bytes(disk: Path, slot: str) -> bytes:
    m = re.search(rf"slot {slot}\s+(\d+) bytes at sector (\d+)", status(disk))
    assert m, status(disk)
    with open(disk, "rb") as f:
        f.seek(int(m.group(2)) * 512)
        return f.read(int(m.group(1)))


def test_a_trial_b_that_never_gets_online_resets_and_falls_back_to_a(boot_image, images, hives, tmp_path):
    h, disk = flashed_running_a(boot_image, images, hives, tmp_path)
    h.kill()
    cohimg("flash", str(images["silent"]), "--to", str(disk), "--slot", "B")
    h.start()
    h.expect(r"cohesix-sel4: booted slot B .* on trial", QEMU_BOOT_TIMEOUT_S, what="the trial of slot B")
    h.expect(re.escape(RESET_LINE), TRIAL_WATCHDOG_S + QEMU_BOOT_TIMEOUT_S, what="the trial watchdog's reset")
    assert "cohesix-sel4: slots: the trial slot did not reach online in time" in h.uart.text()
    h.restart()
    h.online()
    h.expect(r"image good-a \(dev\) verified", 1.0, what="good-a running again")
    assert re.search(r"state\s+active=A last_good=A", status(disk)), status(disk)


def test_a_trial_b_that_crashes_before_confirm_is_back_on_a_after_reset(boot_image, images, hives, tmp_path):
    h, disk = flashed_running_a(boot_image, images, hives, tmp_path)
    h.kill()
    cohimg("flash", str(images["silent"]), "--to", str(disk), "--slot", "B")
    h.start()
    h.expect(r"cohesix-sel4: booted slot B .* on trial", QEMU_BOOT_TIMEOUT_S, what="the trial of slot B")
    h.restart()  # the crash: power gone before B confirmed
    h.online()
    h.expect(r"image good-a \(dev\) verified", 1.0, what="good-a running again")
    assert re.search(r"state\s+active=A last_good=A", status(disk)), status(disk)


def test_a_bad_signature_is_refused_and_slot_a_is_untouched(boot_image, images, hives, tmp_path):
    h, disk = flashed_running_a(boot_image, images, hives, tmp_path)
    before, a = status(disk), slot_bytes(disk, "A")
    script = tmp_path / "update.coh"
    script.write_text(f"update {images['bad_sig']}\n")
    r = cohsh("--tcp-port", str(h.console_port), "--role", "queen", "--script", str(script), env={"COHSH_CONSOLE_LOCK": "0"},
              timeout=UPDATE_TIMEOUT_S)
    assert r.returncode == 1, r.stdout + r.stderr
    assert re.search(r"\[console\] ERR UPDATE reason=policy detail=bad-signature", r.stdout), r.stdout
    assert RESET_LINE not in h.uart.text() and h.proc.poll() is None
    after = status(disk)
    assert re.search(r"state\s+active=A last_good=A attempts=0", after), after
    assert slot_bytes(disk, "A") == a
    assert before.splitlines()[0] == after.splitlines()[0]


def test_a_factory_booted_hive_refuses_updates_no_slots(boot_image, images, hives, tmp_path):
    h = hives(boot_image, None)
    h.online()
    script = tmp_path / "update.coh"
    script.write_text(f"update {images['good_b']}\n")
    r = cohsh("--tcp-port", str(h.console_port), "--role", "queen", "--script", str(script), env={"COHSH_CONSOLE_LOCK": "0"},
              timeout=UPDATE_TIMEOUT_S)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "[console] ERR UPDATE reason=policy detail=no-slots" in r.stdout, r.stdout


def test_power_loss_at_20_random_points_boots_a_verified_image(boot_image, images, hives, tmp_path):
    """Kills QEMU at random points of an update (upload, verify, install, reset, trial boot, confirm); the next
    boot must come up online on a verified image, and the slot state must say which."""
    rng = random.Random(POWER_LOSS_SEED)
    outcomes = []
    for case in range(POWER_LOSS_CASES):
        d = tmp_path / f"case{case}"
        d.mkdir()
        h, disk = flashed_running_a(boot_image, images, hives, d)
        script = d / "update.coh"
        script.write_text(f"update {images['good_b']}\n")
        # Whole update about 5 s on a quiet host: kill points spread over it and the trial boot after it.
        delay = rng.uniform(0.0, 8.0)
        upd = subprocess.Popen([str(COHSH), "--tcp-port", str(h.console_port), "--role", "queen", "--script", str(script)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=tool_env({"COHSH_CONSOLE_LOCK": "0"}))
        try:
            reset_at = None
            end = time.monotonic() + delay
            while time.monotonic() < end:
                if reset_at is None and RESET_LINE in h.uart.text():
                    reset_at = time.monotonic()
                    h.restart()  # the launcher stands in for the reset, and the kill may land in the trial boot
                time.sleep(0.02)
            phase = "trial boot" if reset_at is not None else ("reset" if RESET_LINE in h.uart.text() else "update")
            upd.kill()  # the operator's side goes too: no resumed upload muddles the next boot
            h.restart()  # power lost here
            h.online()
            m = h.expect(r"image (\S+) \(dev\) verified", 1.0, what="a verified image")
            if re.search(r"cohesix-sel4: booted slot [AB] .* on trial", h.uart.text()):
                h.expect(r"cohesix-sel4: slots: slot [AB] reached online", 10.0, what="the trial slot confirmed")
        finally:
            upd.kill()
            upd.wait()
        st = re.search(r"state\s+(.*)", status(disk)).group(1)
        outcomes.append({"case": case, "kill_after_s": round(delay, 2), "phase": phase, "booted": m.group(1), "state": st})
        assert m.group(1) in ("good-a", "good-b")
        assert f"last_good={'A' if m.group(1) == 'good-a' else 'B'}" in st, (outcomes[-1], h.uart.text()[-2000:])
        h.kill()
    POWER_LOSS_REPORT.write_text(json.dumps(outcomes, indent=1))
