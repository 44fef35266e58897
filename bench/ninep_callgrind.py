#!/usr/bin/env python3
"""Instructions per small 9P op inside the firmware (callgrind): stable where bench/ninep.py's wall clock is noisy.

Usage: build/pyenv/bin/python bench/ninep_callgrind.py [--ops getattr,walk_open_read_clunk] [--short N] [--long N]
Needs `sh scripts/build.sh` and valgrind. Boots build/cohesix-sim under callgrind twice per op (a short and
a long run of the same loop, one client as in bench/ninep.py) and prints the difference per op, so boot and
set-up cancel out. The image is the dev manifest with CPU slices widened for valgrind's slowdown.
A benchmark, not a test: nothing here asserts a figure.
"""
import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import ninep  # noqa: E402  (the client, the frames and free_port)

SIM = os.path.join(REPO, "build", "cohesix-sim")
MANIFEST = os.path.join(REPO, "boards", "host", "manifest.json")
# Under valgrind the firmware runs ~50x slower: the dev image's 50 ms slices would fault at boot.
# Kept within TASK_CPU_SLICE_MS_MAX (engine/port/task.h).
CPU_SLICE_MS = 5000
BOOT_TIMEOUT_S = 120
SOCKET_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60
DEFAULT_SHORT, DEFAULT_LONG = 200, 1200
BOOT = b"Cohesix boot: root-task online\nimage dev profile dev\n"


def build_image(tmp):
    """The dev image with wide CPU slices, signed with the build's dev key."""
    with open(MANIFEST) as f:
        m = json.load(f)
    for t in m.get("tasks", []):
        if "cpu_slice_ms" in t:
            t["cpu_slice_ms"] = CPU_SLICE_MS
    man = os.path.join(tmp, "manifest.json")
    with open(man, "w") as f:
        json.dump(m, f)
    img = os.path.join(tmp, "callgrind.img")
    subprocess.run([os.path.join(REPO, "bin", "cohimg"), "build", "--manifest", man, "--bundles", os.path.join(REPO, "build", "qbc"),
                    "--cohc", os.path.join(REPO, "build", "engine", "cohc"), "--js", os.path.join(REPO, "build", "bundles"),
                    "--key", os.path.join(REPO, "build", "keys", "dev.key"), "--out", img],
                   check=True, stdout=subprocess.DEVNULL, cwd=REPO, timeout=BOOT_TIMEOUT_S)
    return img


def instructions(img, tmp, op, n):
    """Total instructions of one firmware run that serves `n` ops of `op` to one client."""
    port = ninep.free_port()
    out = os.path.join(tmp, f"cg.{op}.{n}")
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={out}", SIM, "--image", img,
                             "--uart", "none", "--console-port", "0", "--9p-port", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        end = time.monotonic() + BOOT_TIMEOUT_S
        while True:
            err.seek(0)
            if b"secure9p ready" in err.read():
                break
            if proc.poll() is not None or time.monotonic() > end:
                err.seek(0)
                raise RuntimeError("cohesix-sim under callgrind did not get ready:\n" + err.read().decode(errors="replace"))
            time.sleep(0.1)
        c = ninep.Conn("127.0.0.1", port)
        c.s.settimeout(SOCKET_TIMEOUT_S)
        c.setup("queen")
        getattr_body = struct.pack("<IQ", ninep.FILE_FID, 0x7FF)
        walk_body = struct.pack("<IIH", ninep.ROOT_FID, ninep.OP_FID, 2) + ninep.pstr("proc") + ninep.pstr("boot")
        open_body = struct.pack("<II", ninep.OP_FID, 0)
        read_body = struct.pack("<IQI", ninep.OP_FID, 0, 4096)
        clunk_body = struct.pack("<I", ninep.OP_FID)
        for _ in range(n):
            if op == "getattr":
                c.rpc(24, getattr_body)
            else:
                c.rpc(110, walk_body)
                c.rpc(12, open_body)
                _, data = c.rpc(116, read_body)
                c.rpc(120, clunk_body)
                if data[4:] != BOOT:
                    raise AssertionError(f"read {data[4:]!r}")
        c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=STOP_TIMEOUT_S)
        err.close()
    with open(out) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", default="getattr,walk_open_read_clunk")
    ap.add_argument("--short", type=int, default=DEFAULT_SHORT, help="ops in the short run")
    ap.add_argument("--long", type=int, default=DEFAULT_LONG, help="ops in the long run")
    a = ap.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    tmp = tempfile.mkdtemp(prefix="cohesix-bench-callgrind-")
    try:
        img = build_image(tmp)
        for op in a.ops.split(","):
            short, long_ = instructions(img, tmp, op, a.short), instructions(img, tmp, op, a.long)
            print(f"{op:<22} {(long_ - short) / (a.long - a.short):>10.0f} instructions/op")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
