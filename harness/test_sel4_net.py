# test_sel4_net: the seL4 hive on QEMU serves its TCP console over virtio-net + lwIP: host tools work against it as against the host firmware, and a hostile network leaves it usable.
"""Runs only when an seL4 build of sel4-platform/ is configured (COHESIX_SEL4_BUILD_DIR, as test_sel4_qemu.py).
One QEMU boot of the board image for the module: QEMU's user networking forwards two free host ports to the
guest's console (31337) and NineDoor (5640) ports (boards/qemu-virt-aarch64/qemu.sh).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import struct
import threading
import time

import pytest

from hivekit import AUTH_TOKEN, BANNER, FRAME_HEADER_BYTES, REPO, ConsoleClient, build_image, cohimg, ping_over_tcp
from hive_ops import Operator
from opskit import script
from test_hive_ref_cohsh import cohsh_argv
from test_hot_reload import records, variants  # noqa: F401 (variants: the module fixture of worker-heart builds)
from test_sel4_qemu import (BOARD_IMAGE, QEMU_BOOT_TIMEOUT_S, QemuHive, pytestmark, relink,  # noqa: F401 (the skip marks)
                            restore_board_image)  # noqa: F401 (the module fixture: relinks the board image at the end)

CONSOLE_READY_TIMEOUT_S = 30.0
HEARTBEAT_TIMEOUT_S = 5.0
# Connections the hostile-network tests open: as many at once as the HAL has sockets (NET_SOCKETS_MAX).
SIMULTANEOUS_CONNECTIONS = 64
VANISHING_CLIENTS = 64
CONNECT_CLOSE_CYCLES = 1000
CONNECT_TIMEOUT_S = 10.0
# After a storm, the hive's closes and lwIP's timers settle within this (RST/FIN through QEMU's slirp).
SETTLE_TIMEOUT_S = 15.0
SLIRP_ACCEPT_PAUSE_S = 0.005
FLOOD_THREADS = 4
FLOOD_S = 5.0
UART_PINGS_DURING_FLOOD = 5
DIOD_TIMEOUT_S = 20.0
REF_COHSH_TIMEOUT_S = 60.0
QEMU_BOARD_MANIFEST = REPO / "boards" / "qemu-virt-aarch64" / "manifest.json"
BEAT_RE = re.compile(r'^\{"tick":(\d+),"ts_ms":(\d+)\}$')


@pytest.fixture(scope="module")
def hive():
    if not BOARD_IMAGE.exists():
        pytest.fail(f"{BOARD_IMAGE} is missing: run `npm run build`", pytrace=False)
    h = QemuHive(relink(BOARD_IMAGE))
    try:
        h.expect(re.escape(BANNER), QEMU_BOOT_TIMEOUT_S, what="the root-task banner")
        h.expect(r"\[root-task\] console ready port=31337", CONSOLE_READY_TIMEOUT_S, what="the TCP console listening")
        yield h
    finally:
        h.kill()


def connect(port: int) -> ConsoleClient:
    return ConsoleClient(port, timeout_s=CONNECT_TIMEOUT_S)


def hive_state(hive: QemuHive) -> str:
    """What the network must not leak, read at the UART: the tasks and their arenas (each arena is its own
    run of seL4 frames, so the same tasks with the same quotas hold the same frames), the total arena
    quota, and the TCP console's sessions."""
    tasks = re.sub(r" (arena_used|arena_peak|cpu_ms)=\d+", "", hive.command("tasks"))
    lines = [x for x in tasks.splitlines() if x.startswith("[tasks]")]
    lines += re.findall(r"\[mem\] total used=\S+ (quota=\S+)", hive.command("mem"))
    lines += re.findall(r"console_sessions=\d+ console_auth_pending=\d+", hive.command("netstats"))
    assert len(lines) >= 3, lines
    return "\n".join(lines)


def wait_console_answers(port: int, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            ping_over_tcp(connect, port)
            return
        except (OSError, AssertionError, TimeoutError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_sel4_cohsh_over_tcp_attaches_pings_lists_and_reads(hive):
    r = script(hive.console_port, "ping\nEXPECT SUBSTR reply=pong\nls /\nEXPECT SUBSTR entries=8\n"
                                  "cat /proc/boot\nEXPECT SUBSTR Cohesix boot: root-task online\n"
                                  "cat /proc/lifecycle/state\nEXPECT SUBSTR state=ONLINE\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK ATTACH role=queen" in r.stdout, r.stdout


def test_sel4_operator_spawns_tails_and_kills_a_heartbeat_worker_over_tcp(hive):
    op = Operator(hive.console_port)
    op.auth_attach()
    spawn = '{"spawn":"heartbeat","ticks":100}'
    assert op.request(f"SPAWN {spawn}") == [f"OK SPAWN payload={spawn}"]
    workers = op.ls("/worker")
    assert len(workers) == 1, workers
    w = workers[0]
    deadline = time.monotonic() + HEARTBEAT_TIMEOUT_S
    while True:
        r = op.request(f"TAIL /worker/{w}/telemetry")
        assert r[0] == f"OK TAIL path=/worker/{w}/telemetry" and r[-1] == "END", r
        if len(r) > 2:
            assert all(BEAT_RE.match(x) for x in r[1:-1]), r
            break
        assert time.monotonic() < deadline, f"no heartbeat of {w} within {HEARTBEAT_TIMEOUT_S} s"
        time.sleep(0.2)
    assert op.request(f"KILL {w}") == [f"OK KILL id={w}"]
    hive.expect(rf"revoked {w}: killed by queen", what="the revocation line")
    assert op.ls("/worker") == []


RELOAD_BEATS_TIMEOUT_S = 10.0  # a few of worker-heart's 1000 ms beats, under TCG


def test_sel4_cohsh_reload_over_tcp_changes_a_running_workers_behaviour(hive, variants):  # noqa: F811
    op = Operator(hive.console_port)
    op.auth_attach()
    spawn = '{"spawn":"heartbeat","ticks":100}'
    assert op.request(f"SPAWN {spawn}") == [f"OK SPAWN payload={spawn}"]
    workers = op.ls("/worker")
    assert len(workers) == 1, workers
    w = workers[0]

    def wait(pred, what):
        deadline = time.monotonic() + RELOAD_BEATS_TIMEOUT_S
        while True:
            got = records(op, w)
            if pred(got):
                return got
            assert time.monotonic() < deadline, f"no {what} within {RELOAD_BEATS_TIMEOUT_S} s: {got}"
            time.sleep(0.2)

    wait(lambda r: len(r) >= 2, "two beats")
    r = script(hive.console_port, f"reload {w} {variants['v2']}\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(rf"OK RELOAD stage=commit target={w} tasks=1 restored=1 ms=", r.stdout), r.stdout
    recs = wait(lambda r: sum(x["note"] == "v2" for x in r) >= 2, "two beats of the new code")
    old = [x for x in recs if x["note"] is None]
    new = [x for x in recs if x["note"] == "v2"]
    assert recs == old + new, recs
    assert [x["tick"] for x in recs] == list(range(1, len(recs) + 1)), recs  # the tick counter carried over
    hive.expect(rf"\[root-task\] reloaded {w} \(id \d+\) in [\d.]+ ms, state restored", what="root-task's reload line")
    assert op.request(f"KILL {w}") == [f"OK KILL id={w}"]


def diod_tool(name: str) -> str | None:
    """Debian puts the diod tools in /usr/sbin, which a non-root PATH may lack."""
    return shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)


@pytest.mark.skipif(diod_tool("diodls") is None, reason="diod tools not installed (apt-get install diod)")
def test_sel4_diod_tools_list_and_read_ninedoor_over_tcp(hive):
    server = f"127.0.0.1:{hive.ninep_port}"
    r = subprocess.run([diod_tool("diodls"), "-s", server, "-a", "queen", "/proc"], capture_output=True, text=True,
                       timeout=DIOD_TIMEOUT_S)
    assert r.returncode == 0, r.stderr
    assert {"boot", "lifecycle", "root"} <= set(r.stdout.split()), r.stdout
    r = subprocess.run([diod_tool("diodcat"), "-s", server, "-a", "queen", "/proc/boot", "/proc/lifecycle/state"],
                       capture_output=True, text=True, timeout=DIOD_TIMEOUT_S)
    assert r.returncode == 0, r.stderr
    assert "Cohesix boot: root-task online" in r.stdout and "state=ONLINE" in r.stdout, r.stdout


def test_sel4_reference_cohsh_attaches_and_pings_over_tcp(hive, tmp_path):
    argv = cohsh_argv(hive.console_port)  # skips without COHESIX_REF_COHSH (test_hive_ref_cohsh.py says how)
    r = subprocess.run(argv, input="ping\nquit\n", capture_output=True, text=True, timeout=REF_COHSH_TIMEOUT_S,
                       cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)})
    out = r.stdout + r.stderr
    assert "pong" in out.lower(), out


def test_sel4_hostile_network_leaves_console_usable_and_frames_where_they_were(hive):
    wait_console_answers(hive.console_port)
    before = hive_state(hive)
    port = hive.console_port

    # As many connections at once as the HAL has sockets: each AUTHs and PINGs, then all close.
    clients = [connect(port) for _ in range(SIMULTANEOUS_CONNECTIONS)]
    answered = 0
    for c in clients:
        c.send_line(f"AUTH {AUTH_TOKEN}")
    for c in clients:
        try:
            if c.recv_line(CONNECT_TIMEOUT_S).startswith(("OK AUTH", "ERR")):
                answered += 1
        except (OSError, TimeoutError, ConnectionError):
            pass
    for c in clients:
        c.close()
    assert answered > 0
    wait_console_answers(port)

    # Clients that vanish mid-frame: a header promising 100 bytes, 10 of them, then a reset (no FIN).
    for _ in range(VANISHING_CLIENTS):
        s = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S)
        s.sendall(struct.pack("<I", FRAME_HEADER_BYTES + 100) + b"0123456789")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    wait_console_answers(port)

    # Connect and close, again and again. The pause is for QEMU, not the hive: user networking's port
    # forward listens with a backlog of 1, so back-to-back connects find it full and the host kernel
    # resends the SYN a second later (1 in 5 cycles, 229 s for 1000 without it).
    t0 = time.monotonic()
    for _ in range(CONNECT_CLOSE_CYCLES):
        socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_S).close()
        time.sleep(SLIRP_ACCEPT_PAUSE_S)
    cycles_s = time.monotonic() - t0
    wait_console_answers(port)
    assert "OK PING reply=pong" in hive.command("ping")

    # Frames and arenas where they started, once the hive has closed what the storm left.
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    after = hive_state(hive)
    while after != before and time.monotonic() < deadline:
        time.sleep(0.5)
        after = hive_state(hive)
    print(f"\nhive before:\n{before}\nhive after:\n{after}\n"
          f"{CONNECT_CLOSE_CYCLES} connect/close cycles in {cycles_s:.1f} s")
    assert after == before


def test_sel4_uart_answers_while_the_network_is_flooded(hive):
    wait_console_answers(hive.console_port)
    stop = threading.Event()
    sent = [0]

    def flood():
        # Garbage and whole frames as fast as QEMU takes them, on fresh connections.
        while not stop.is_set():
            try:
                with socket.create_connection(("127.0.0.1", hive.console_port), timeout=CONNECT_TIMEOUT_S) as s:
                    s.settimeout(1.0)
                    for _ in range(64):
                        s.sendall(struct.pack("<I", FRAME_HEADER_BYTES + 200) + b"x" * 200)
                        sent[0] += 204
            except OSError:
                pass

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(FLOOD_THREADS)]
    for t in threads:
        t.start()
    try:
        t_end = time.monotonic() + FLOOD_S
        pings = 0
        while time.monotonic() < t_end or pings < UART_PINGS_DURING_FLOOD:
            assert "OK PING reply=pong" in hive.command("ping")
            pings += 1
    finally:
        stop.set()
        for t in threads:
            t.join(CONNECT_TIMEOUT_S)
    assert sent[0] > 0
    print(f"\n{pings} UART pings answered while {sent[0]} bytes flooded the TCP console")
    wait_console_answers(hive.console_port)


def test_sel4_release_image_boots_with_its_linked_key_and_refuses_reload_over_tcp(hive, tmp_path):
    """Issue 15 item 5: a release image boots on seL4 once the root task is linked with the key it is signed by
    (-DCOHESIX_TRUST_KEY, as cohesix-sim --trust-key), and refuses hot reload over TCP as on the host; without
    the key the root task refuses the image, naming why. Needs its own boot: stops the module's hive first."""
    hive.kill()
    cohimg("keygen", "--out", str(tmp_path / "owner"))
    manifest = json.loads(QEMU_BOARD_MANIFEST.read_text())  # the board's own: its slices are sized for TCG
    manifest["profile"] = "release"
    manifest["tasks"][0]["config"]["allow_ticketless_queen"] = False
    img = build_image(tmp_path, manifest, name="release", key=tmp_path / "owner.key")
    try:
        unkeyed = QemuHive(relink(img))
        try:
            unkeyed.expect(r"cohesix-sel4: image refused: .*release", QEMU_BOOT_TIMEOUT_S, what="the refusal without a key")
        finally:
            unkeyed.kill()
        h = QemuHive(relink(img, trust_key=tmp_path / "owner.pub"))
        try:
            h.expect(r"\[firmware\] image qemu-virt-aarch64 \(release\) verified: signed by trusted key", QEMU_BOOT_TIMEOUT_S,
                     what="the release image verified against the linked key")
            h.expect(r"\[root-task\] console ready port=31337", CONSOLE_READY_TIMEOUT_S, what="the TCP console listening")
            wait_console_answers(h.console_port)
            c = connect(h.console_port)
            assert c.command(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
            assert c.command("RELOAD ABORT") == ["ERR RELOAD reason=policy detail=release-image"]
            assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]
            c.close()
        finally:
            h.kill()
    finally:
        relink(BOARD_IMAGE)
