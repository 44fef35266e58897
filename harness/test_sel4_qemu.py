# test_sel4_qemu: the qemu-virt-aarch64 image boots as a seL4 root task under QEMU and its UART console serves an operator.
"""Runs only when an seL4 build of sel4-platform/ is configured: COHESIX_SEL4_BUILD_DIR names a build directory
made with `cmake -G Ninja -S sel4-platform -B <dir> -DSEL4_SOURCE_DIR=<seL4 tree> -DCOHESIX_IMAGE=...`
(sel4-platform/README.md). Each test relinks the root task with the image it needs, boots QEMU exactly as
boards/qemu-virt-aarch64/qemu.sh does, and talks to the PL011 console on QEMU's stdio.
"""
from __future__ import annotations

import os
import re
import time
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from hivekit import (BANNER, REPO, UART_PROMPT, Stream, build_image, hive_manifest, task_entry)

SEL4_BUILD_ENV = "COHESIX_SEL4_BUILD_DIR"
BOARD_IMAGE = REPO / "build" / "images" / "qemu-virt-aarch64.img"
QEMU_SCRIPT = REPO / "boards" / "qemu-virt-aarch64" / "qemu.sh"
BOOT_IMAGE_NAME = "images/cohesix-root-image-arm-qemu-arm-virt"

RELINK_TIMEOUT_S = 300.0
QEMU_BOOT_TIMEOUT_S = 30.0  # TCG emulation on a loaded CI host; a quiet machine boots in about a second
QEMU_REPLY_TIMEOUT_S = 10.0
HEARTBEAT_TIMEOUT_S = 5.0  # worker-heart beats every 1000 ms (boards/qemu-virt-aarch64/manifest.json)
KILL_TIMEOUT_S = 5.0
HOARD_ARENA_BYTES = 262144

_build_dir = os.environ.get(SEL4_BUILD_ENV)
pytestmark = [
    pytest.mark.skipif(not _build_dir, reason=f"no seL4 build configured: set {SEL4_BUILD_ENV} to a build directory "
                                              "of sel4-platform/ (see sel4-platform/README.md)"),
    pytest.mark.skipif(shutil.which("qemu-system-aarch64") is None, reason="qemu-system-aarch64 is not installed"),
]


def relink(image: Path, trust_key: Path | None = None) -> Path:
    """Points the seL4 build at `image` (and the key images must be signed by, or none), rebuilds the root
    task and returns the boot image."""
    build = Path(_build_dir)
    if not (build / "CMakeCache.txt").exists():
        pytest.fail(f"{SEL4_BUILD_ENV}={build} is not a configured CMake build directory", pytrace=False)
    configure = ["cmake", f"-DCOHESIX_IMAGE={image}", f"-DCOHESIX_TRUST_KEY={trust_key or ''}", str(build)]
    for cmd in (configure, ["cmake", "--build", str(build)]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=RELINK_TIMEOUT_S)
        if r.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}", pytrace=False)
    return build / BOOT_IMAGE_NAME


def free_port() -> int:
    """A TCP port free on the host's loopback now (QEMU's forward binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QemuHive:
    """One QEMU process: the PL011 (UART console and firmware log lines, marked `[log] `) on stdin/stdout, and
    virtio-net on user networking with the hive's TCP console and NineDoor ports forwarded to free host ports."""

    def __init__(self, boot_image: Path):
        self.console_port, self.ninep_port = free_port(), free_port()
        self.proc = subprocess.Popen([str(QEMU_SCRIPT), "--console-port", str(self.console_port), "--9p-port",
                                      str(self.ninep_port), str(boot_image)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.uart = Stream(self.proc.stdout, "uart")

    def expect(self, pattern: str, timeout_s: float = QEMU_REPLY_TIMEOUT_S, start: int = 0, what: str = "UART output"):
        m = self.uart.search(pattern, timeout_s, start)
        if m is None:
            pytest.fail(f"no {what} within {timeout_s} s (waited for /{pattern}/)\n--- uart tail ---\n"
                        f"{self.uart.text()[-3000:]}", pytrace=False)
        return m

    def command(self, line: str) -> str:
        """Types one line and returns what came back up to the next prompt (log lines included)."""
        self.expect(re.escape(UART_PROMPT), QEMU_BOOT_TIMEOUT_S, what="the boot prompt")
        start = self.uart.mark()
        self.proc.stdin.write(line.encode() + b"\r")
        self.proc.stdin.flush()
        m = self.expect(re.escape(UART_PROMPT), QEMU_REPLY_TIMEOUT_S, start, what=f"prompt after '{line}'")
        return self.uart.text(start)[: m.start()]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(KILL_TIMEOUT_S)
        for p in (self.proc.stdin, self.proc.stdout):
            p.close()


@pytest.fixture
def qemu():
    started: list[QemuHive] = []

    def boot(boot_image: Path) -> QemuHive:
        h = QemuHive(boot_image)
        started.append(h)
        h.expect(re.escape(BANNER), QEMU_BOOT_TIMEOUT_S, what="the root-task banner")
        return h

    yield boot
    for h in started:
        h.kill()


@pytest.fixture(scope="module", autouse=True)
def restore_board_image():
    """Tests relink with their own images; leave the build pointing at the board's image, as configured."""
    yield
    if BOARD_IMAGE.exists():
        relink(BOARD_IMAGE)


def test_sel4_first_uart_prompt_comes_after_the_hive_is_online(qemu):
    """Issue 15 item 6: the `cohesix> ` prompt came before the boot lines ended (root-task printed it when the
    UART console started, before NineDoor served), so a new user typed into a hive still BOOTING, amid log lines."""
    if not BOARD_IMAGE.exists():
        pytest.fail(f"{BOARD_IMAGE} is missing: run `npm run build`", pytrace=False)
    hive = qemu(relink(BOARD_IMAGE))
    prompt = hive.expect(re.escape(UART_PROMPT), what="the first prompt")
    # The firmware's ONLINE signal (firmware/online.h): root-task's TCP console listening.
    online = hive.expect(r"\[root-task\] console ready port=31337", what="the TCP console listening")
    assert online.start() < prompt.start(), hive.uart.text()[: prompt.end()]
    assert "OK PING reply=pong" in hive.command("ping")


def test_sel4_boots_board_image_and_uart_console_serves(qemu):
    if not BOARD_IMAGE.exists():
        pytest.fail(f"{BOARD_IMAGE} is missing: run `npm run build`", pytrace=False)
    hive = qemu(relink(BOARD_IMAGE))
    hive.expect(r"\[firmware\] image qemu-virt-aarch64 \(dev\) verified: .*5 tasks", what="image verification")
    hive.expect(r"lifecycle transition old=BOOTING new=ONLINE reason=boot-complete", what="NineDoor up, hive ONLINE")
    # The network: virtio-net found and up, the TCP console listening (test_sel4_net.py drives it).
    hive.expect(r"cohesix-sel4: virtio-net in slot \d+ \(IRQ \d+\), MAC [0-9a-f:]{17}, 10\.0\.2\.15/24", what="virtio-net up")
    hive.expect(r"\[root-task\] console ready port=31337", what="the TCP console listening")
    assert "OK PING reply=pong" in hive.command("ping")
    for verb, label in (("bi", "OK BOOTINFO"), ("mem", "OK MEM")):
        assert label in hive.command(verb)
    listing = hive.command("tasks")
    assert "OK TASKS" in listing, listing
    assert re.search(r"\[tasks\] id=1 label=root-task task=root-task state=running arena_used=\d+ arena_bytes=4194304", listing), listing
    assert re.search(r"label=ninedoor task=ninedoor state=running", listing), listing
    # The operator path at the UART: attach, spawn a worker, read its telemetry through NineDoor, kill it.
    assert "OK ATTACH role=queen" in hive.command("attach queen")
    assert "OK SPAWN" in hive.command('spawn {"spawn":"heartbeat","ticks":100}')
    hive.expect(r"spawned worker-1 ticks=100", what="the policy's spawn line")
    deadline = time.monotonic() + HEARTBEAT_TIMEOUT_S
    tail = ""
    while time.monotonic() < deadline:
        tail = hive.command("tail /worker/worker-1/telemetry")
        if '{"tick":1,' in tail:
            break
        time.sleep(0.5)
    assert '{"tick":1,' in tail, tail
    killed = hive.command("kill worker-1")
    assert "OK KILL id=worker-1" in killed, killed
    hive.expect(r"revoked worker-1: killed by queen", what="the revocation line")
    assert "entries=0" in hive.command("ls /worker")
    assert "OK PING reply=pong" in hive.command("ping")


def test_sel4_task_allocating_forever_is_revoked_and_console_answers(qemu, tmp_path):
    boot = [{"task": "hoard", "label": "hoard-1"}, {"task": "worker-heart", "label": "worker-1"}]
    tasks = [task_entry("hoard", ["log", "timer"], HOARD_ARENA_BYTES), task_entry("worker-heart", ["log", "timer", "channel"])]
    image = build_image(tmp_path, hive_manifest(tasks, boot, image_id="sel4-hoard"), ("hoard",), "sel4-hoard")
    hive = qemu(relink(image))
    revoked = hive.expect(rf"\[root-task\] revoked hoard-1: quota \(out of memory: \d+ of {HOARD_ARENA_BYTES} arena",
                          QEMU_BOOT_TIMEOUT_S, what="revocation of hoard-1")
    # The other task runs on, and the console answers.
    hive.expect(r"\[root-task\] worker-1: \{\"tick\":\d+", HEARTBEAT_TIMEOUT_S, revoked.end(), what="worker-1 after the fault")
    assert "OK PING reply=pong" in hive.command("ping")
    listing = hive.command("tasks")
    assert "label=hoard-1" not in listing and "label=worker-1" in listing, listing


PASTE_LINE_BYTES = 300  # over the console's 256-byte line bound, and over PL011_RX_DRAIN_BYTES_MAX in one burst


def test_sel4_uart_300_byte_paste_gets_err_parse_and_console_goes_on(qemu):
    """Issue 15: a paste longer than one drain's bound used to stop echo and input for good on QEMU's PL011."""
    hive = qemu(relink(BOARD_IMAGE))
    hive.expect(r"lifecycle transition old=BOOTING new=ONLINE reason=boot-complete", what="hive ONLINE")
    line = "attach worker-heartbeat " + "x" * (PASTE_LINE_BYTES - len("attach worker-heartbeat "))
    assert len(line) == PASTE_LINE_BYTES
    reply = hive.command(line)  # written in one go: the whole paste is in QEMU's receive path at once
    assert "ERR PARSE" in reply and "console line exceeded maximum length" in reply, reply
    assert "OK PING reply=pong" in hive.command("ping")
    assert "OK PING reply=pong" in hive.command("ping")
