# test_sel4_slots: the seL4 hive boots its image from the A/B slots of a virtio-blk disk, installs an update over TCP into the other slot, and falls back to the factory image linked into the root task.
"""Runs only when an seL4 build of sel4-platform/ is configured (COHESIX_SEL4_BUILD_DIR, as test_sel4_qemu.py).
QEMU's virt board gives user mode no PSCI call (sel4-platform/hal_sel4.c hal_restart), so a reset the hive asks
for ends in SEL4_RESET_LINE and the test stands in for the reset line as the launcher would: it restarts QEMU
on the same disk and ports.
"""
from __future__ import annotations

import json
import re
import subprocess
import threading
from pathlib import Path

import pytest

from hivekit import BANNER, REPO, Stream, build_image, cohimg
from opskit import cohsh
from test_sel4_qemu import (BOARD_IMAGE, KILL_TIMEOUT_S, QEMU_BOOT_TIMEOUT_S, QEMU_SCRIPT, free_port, pytestmark,  # noqa: F401
                            relink, restore_board_image)

BOARD_MANIFEST = REPO / "boards" / "qemu-virt-aarch64" / "manifest.json"
DEV_KEY = REPO / "build" / "keys" / "dev.key"
RESET_LINE = "cohesix-sel4: reset requested"  # SEL4_RESET_LINE in sel4-platform/sel4_platform.h
CONSOLE_READY_TIMEOUT_S = 30.0
# The upload crosses QEMU's user networking in 168-byte chunks, each written to the disk by polled requests.
UPDATE_TIMEOUT_S = 240.0
CONFIRMED = "cohesix-sel4: slots: slot {} reached online: it is now the last good slot"


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
    return out


class DiskHive:
    """QEMU (through qemu.sh) with a slot disk attached; restart() is the launcher's stand-in for a reset line."""

    def __init__(self, boot_image: Path, disk: Path | None):
        self.boot_image, self.disk = boot_image, disk
        self.console_port, self.ninep_port = free_port(), free_port()
        self.boots: list[Stream] = []
        self.proc = None
        self.start()

    def start(self) -> None:
        args = [str(QEMU_SCRIPT), "--console-port", str(self.console_port), "--9p-port", str(self.ninep_port)]
        if self.disk is not None:
            args += ["--disk", str(self.disk)]
        self.proc = subprocess.Popen([*args, str(self.boot_image)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
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
            self.proc.kill()
            self.proc.wait(KILL_TIMEOUT_S)
        for p in (self.proc.stdin, self.proc.stdout):
            p.close()


@pytest.fixture
def hives():
    started: list[DiskHive] = []

    def boot(boot_image: Path, disk: Path | None) -> DiskHive:
        h = DiskHive(boot_image, disk)
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
    h.expect(r"cohesix-sel4: virtio-blk in slot \d+, \d+ sectors of 512 bytes", 1.0, what="the disk's line")
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
    assert r is not None and r.returncode == 0, (r.stdout + r.stderr) if r else "cohsh did not finish"
    assert "update: the hive is back online on slot B" in r.stdout, r.stdout + r.stderr
    assert "[root-task] update:" in first, first[-3000:]
    assert re.search(r"state\s+active=B last_good=B attempts=0", status(disk)), status(disk)


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
