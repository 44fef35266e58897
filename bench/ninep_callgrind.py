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


def serve(cmd, op, n, env=None):
    """Boots `cmd` (a cohesix-sim command line, maybe under a tool, without its 9P port), then serves
    `n` ops of `op` to one client as bench/ninep.py does, and stops it (tools write their output at exit)."""
    port = ninep.free_port()
    err = tempfile.TemporaryFile()
    # No spin: its polls between requests depend on timing, and this counts the work of the requests.
    proc = subprocess.Popen([*cmd, "--uart", "none", "--console-port", "0", "--9p-port", str(port), "--spin-us", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        end = time.monotonic() + BOOT_TIMEOUT_S
        while True:
            err.seek(0)
            if b"secure9p ready" in err.read():
                break
            if proc.poll() is not None or time.monotonic() > end:
                err.seek(0)
                raise RuntimeError(f"{' '.join(cmd[:3])} did not get ready:\n" + err.read().decode(errors="replace"))
            time.sleep(0.1)
        c = ninep.Conn("127.0.0.1", port)
        c.s.settimeout(SOCKET_TIMEOUT_S)
        c.setup("queen")
        run_op = ninep.small_ops(c, BOOT)[op]
        for _ in range(n):
            run_op()
        c.close()
    finally:
        proc.terminate()
        proc.wait(timeout=STOP_TIMEOUT_S)
        err.close()


def instructions(img, tmp, op, n):
    """Total instructions of one firmware run that serves `n` ops of `op` to one client."""
    out = os.path.join(tmp, f"cg.{op}.{n}")
    serve(["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={out}", SIM, "--image", img], op, n)
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
