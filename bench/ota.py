#!/usr/bin/env python3
"""bench/ota.py: seconds for an over-the-air update of the dev image on the host firmware booted from a
slot disk (upload, verify + install, restart -> ONLINE), and the disk read + verify time at boot.

Prints a table and writes bench/results/ota.json. A benchmark, not a test: it asserts nothing."""
from __future__ import annotations

import base64
import hashlib
import json
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
from hivekit import AUTH_TOKEN, COHIMG, SIM, ConsoleClient  # noqa: E402
from hive_ops import DEV_IMAGE, DEV_PUB  # noqa: E402

RESULTS = REPO / "bench" / "results"
RUNS = 5
CHUNK_BYTES = 168  # UPDATE_CHUNK_BYTES_MAX
WINDOW = 32  # UPDATE_PIPELINE_WINDOW in host/cohsh/update.ts
BACK_ONLINE_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ack(c: ConsoleClient) -> str:
    while True:
        line = c.recv_line(10.0)
        if line.startswith(("OK ", "ERR ")):
            return line


def connect(port: int, deadline: float) -> ConsoleClient:
    while True:
        try:
            c = ConsoleClient(port)
            c.send_line(f"AUTH {AUTH_TOKEN}")
            assert ack(c) == "OK AUTH"
            c.send_line("ATTACH queen")
            assert ack(c).startswith("OK ATTACH")
            return c
        except (OSError, ConnectionError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def one_update(port: int, image: bytes, slot: str) -> dict:
    c = connect(port, time.monotonic() + BACK_ONLINE_S)
    t0 = time.monotonic()
    c.send_line(f"UPDATE BEGIN {len(image)} {hashlib.sha256(image).hexdigest()}")
    assert ack(c).startswith("OK UPDATE stage=begin")
    lines = [f"UPDATE DATA {o} {base64.b64encode(image[o:o + CHUNK_BYTES]).decode()}" for o in range(0, len(image), CHUNK_BYTES)]
    sent = answered = 0
    while answered < len(lines):
        while sent < len(lines) and sent - answered < WINDOW:
            c.send_line(lines[sent])
            sent += 1
        r = ack(c)
        assert r.startswith("OK UPDATE stage=data"), r
        answered += 1
    t1 = time.monotonic()
    c.send_line("UPDATE COMMIT")
    r = ack(c)
    assert r.startswith(f"OK UPDATE stage=commit slot={slot}"), r
    t2 = time.monotonic()
    c.close()
    while True:  # until the restarted hive answers from the new slot
        c = connect(port, t2 + BACK_ONLINE_S)
        c.send_line("UPDATE STATUS")
        r = ack(c)
        c.close()
        if f"running={slot}" in r:
            break
        time.sleep(0.005)
    t3 = time.monotonic()
    return {"upload_s": t1 - t0, "verify_install_s": t2 - t1, "restart_online_s": t3 - t2, "total_s": t3 - t0}


def boot_verify_s(argv: list[str]) -> float:
    """Process start until the firmware logged the image verified (disk read + verify, or file read + verify)."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for line in p.stderr:
            if re.search(r"\[firmware\] image \S+ \(\w+\) verified", line):
                return time.monotonic() - t0
    finally:
        p.kill()
        p.wait()
    raise RuntimeError("no verified line")


def main() -> None:
    image = DEV_IMAGE.read_bytes()
    work = Path(tempfile.mkdtemp(prefix="cohesix-bench-ota-"))
    disk = work / "disk.img"
    subprocess.run([str(COHIMG), "flash", str(DEV_IMAGE), "--to", str(disk), "--slot", "A"], check=True, capture_output=True)
    port = free_port()
    base = [str(SIM), "--trust-key", str(DEV_PUB), "--console-port", str(port), "--9p-port", "0", "--uart", "none"]
    sim = subprocess.Popen([*base, "--slot-disk", str(disk)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = []
    try:
        slot = "B"
        for _ in range(RUNS):
            runs.append(one_update(port, image, slot))
            slot = "A" if slot == "B" else "B"
    finally:
        sim.kill()
        sim.wait()
    disk_boot = [boot_verify_s([*base, "--slot-disk", str(disk), "--console-port", str(free_port())]) for _ in range(RUNS)]
    file_boot = [boot_verify_s([*base, "--image", str(DEV_IMAGE), "--console-port", str(free_port())]) for _ in range(RUNS)]
    med = lambda k: statistics.median(r[k] for r in runs)
    rows = [("image bytes", f"{len(image)}"), ("upload (s, p50)", f"{med('upload_s'):.3f}"),
            ("verify + install (s, p50)", f"{med('verify_install_s'):.3f}"), ("restart -> ONLINE (s, p50)", f"{med('restart_online_s'):.3f}"),
            ("update total (s, p50)", f"{med('total_s'):.3f}"), ("boot: slot disk read + verify (s, p50)", f"{statistics.median(disk_boot):.3f}"),
            ("boot: --image read + verify (s, p50)", f"{statistics.median(file_boot):.3f}")]
    for k, v in rows:
        print(f"{k:40} {v}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ota.json").write_text(json.dumps({
        "machine": {"platform": platform.platform(), "python": platform.python_version()}, "image_bytes": len(image),
        "runs": runs, "boot_disk_verify_s": disk_boot, "boot_file_verify_s": file_boot}, indent=1))


if __name__ == "__main__":
    main()
