#!/usr/bin/env python3
"""Interpreter ops and calls per JS function for one small 9P op inside the firmware: where callgrind sees only JS_CallInternal.

Usage: build/pyenv/bin/python bench/jsprof.py [--op getattr|walk_open_read_clunk] [--short N] [--long N] [--top N]
Needs `sh scripts/build.sh` first. Copies the engine drop to build/jsprof/quickjs-ng, applies
bench/jsprof/opcode-profile.patch (a counter in the interpreter's dispatch), builds a profiling
cohesix-sim in build/jsprof/build, and runs the dev image (same bytecode: the patch changes no format
or define) under the loop of bench/ninep.py twice, a short and a long run, so boot and set-up cancel
out. Prints ops and calls per op by function (with the bundle's source line) and by opcode, and
writes JSON. A benchmark, not a test: nothing here asserts a figure.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import ninep_callgrind  # noqa: E402  (serve: boot, the loop of bench/ninep.py, stop)

ENGINE = os.path.join(REPO, "engine", "quickjs-ng")
PATCH = os.path.join(HERE, "jsprof", "opcode-profile.patch")
WORK = os.path.join(REPO, "build", "jsprof")
IMAGE = os.path.join(REPO, "build", "images", "dev.img")
BUNDLES = os.path.join(REPO, "build", "bundles")
BUILD_TIMEOUT_S = 600
DEFAULT_SHORT, DEFAULT_LONG, DEFAULT_TOP = 500, 3000, 40


def build_sim():
    """The profiling cohesix-sim: a patched copy of the engine drop, its own build directory."""
    src = os.path.join(WORK, "quickjs-ng")
    stamp = os.path.join(WORK, "stamp")
    want = f"{os.path.getmtime(os.path.join(ENGINE, 'quickjs.c'))} {os.path.getmtime(PATCH)}"
    if not os.path.exists(stamp) or open(stamp).read() != want:
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(ENGINE, src)
        with open(PATCH) as f:
            subprocess.run(["patch", "-p1", "--quiet"], stdin=f, cwd=src, check=True, timeout=BUILD_TIMEOUT_S)
        with open(stamp, "w") as f:
            f.write(want)
    out = os.path.join(WORK, "build")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    if not os.path.exists(os.path.join(out, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", REPO, "-B", out, *gen, "-DCMAKE_BUILD_TYPE=Release", f"-DCOHESIX_QJS_DIR={src}"],
                       check=True, stdout=subprocess.DEVNULL, timeout=BUILD_TIMEOUT_S)
    subprocess.run(["cmake", "--build", out, "--target", "cohesix-sim"], check=True, stdout=subprocess.DEVNULL,
                   timeout=BUILD_TIMEOUT_S)
    return os.path.join(out, "cohesix-sim")


def run(sim, op, n, tmp):
    """(per-function {name: [ops, calls]}, per-opcode {number: ops}) of one firmware run serving n ops."""
    out = os.path.join(tmp, f"prof.{op}.{n}")
    ninep_callgrind.serve([sim, "--image", IMAGE], op, n, env=dict(os.environ, QJS_PROF=out))  # written at exit
    funcs, opcodes = {}, {}
    with open(out) as f:
        for line in f:
            kind, ops, calls, name = line.rstrip("\n").split(" ", 3)
            if kind == "F":
                acc = funcs.setdefault(name, [0, 0])
                acc[0] += int(ops)
                acc[1] += int(calls)
            else:
                opcodes[int(name)] = int(ops)
    return funcs, opcodes


def opcode_names():
    names, i = {}, 0
    with open(os.path.join(ENGINE, "quickjs-opcode.h")) as f:
        for line in f:
            m = re.match(r"\s*DEF\(\s*(\w+),", line)
            if m:
                names[i] = m.group(1)
                i += 1
    return names


def source_line(name, cache={}):
    """The bundle line a function starts on (`fn@bundle.js:line`), for telling methods apart."""
    m = re.match(r"(.*)@(.+\.js):(\d+)$", name)
    if not m:
        return ""
    path = os.path.join(BUNDLES, m.group(2))
    if path not in cache:
        cache[path] = open(path).read().split("\n") if os.path.exists(path) else []
    lines, ln = cache[path], int(m.group(3))
    return lines[ln - 1].strip()[:70] if 0 < ln <= len(lines) else ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--op", default="walk_open_read_clunk", choices=["getattr", "walk_open_read_clunk"])
    ap.add_argument("--short", type=int, default=DEFAULT_SHORT, help="ops in the short run")
    ap.add_argument("--long", type=int, default=DEFAULT_LONG, help="ops in the long run")
    ap.add_argument("--top", type=int, default=DEFAULT_TOP, help="rows of each table")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "jsprof.json"))
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    sim = build_sim()
    tmp = tempfile.mkdtemp(prefix="cohesix-jsprof-")
    try:
        (f1, o1), (f2, o2) = run(sim, a.op, a.short, tmp), run(sim, a.op, a.long, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    d = a.long - a.short
    funcs = sorted(((name, (f2[name][0] - f1.get(name, [0, 0])[0]) / d, (f2[name][1] - f1.get(name, [0, 0])[1]) / d)
                    for name in f2), key=lambda r: -r[1])
    names = opcode_names()
    ops = sorted(((names.get(k, str(k)), (v - o1.get(k, 0)) / d) for k, v in o2.items()), key=lambda r: -r[1])
    total_ops, total_calls = sum(r[1] for r in funcs), sum(r[2] for r in funcs)
    print(f"{a.op}: {total_ops:.0f} interpreter ops and {total_calls:.0f} JS calls per op")
    print(f"{'ops/op':>8} {'calls/op':>8}  function (bundle line)")
    for name, o, c in funcs[:a.top]:
        print(f"{o:8.1f} {c:8.2f}  {name}  {source_line(name)}")
    print(f"{'ops/op':>8}  opcode")
    for name, o in ops[:a.top]:
        print(f"{o:8.1f}  {name}")
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"op": a.op, "short": a.short, "long": a.long, "ops_per_op": round(total_ops, 1),
                   "calls_per_op": round(total_calls, 2),
                   "functions": [{"name": n, "ops": round(o, 1), "calls": round(c, 2)} for n, o, c in funcs if o >= 0.5],
                   "opcodes": [{"name": n, "ops": round(o, 1)} for n, o in ops if o >= 0.5]}, f, indent=2)
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
