#!/usr/bin/env python3
# bench/firmware.py: measures the firmware figures (cold boot, bytecode vs source load, smallest idle arena) and writes JSON.
"""Usage: build/pyenv/bin/python bench/firmware.py [--name NAME] [--boot-runs N] [--load-iterations N]

Prints a table (figure, value, target, met?) and writes bench/results/<name>.json.
Needs a build (sh scripts/build.sh); scripts/bench.sh builds and then runs this.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
from hivekit import BASE_MANIFEST, BUILD, BUNDLES, COHC, COHIMG, SIM  # noqa: E402
from procs import stop_process  # noqa: E402

BENCH_ENGINE_LOAD = BUILD / "bench" / "bench_engine_load"
RESULTS = REPO / "bench" / "results"

# Targets from issue 2 ("Figures to report").
BOOT_MS_TARGET = 25.0
LOAD_SPEEDUP_TARGET = 5.0
IDLE_ARENA_BYTES_TARGET = 192 * 1024

BOOT_RUNS_DEFAULT = 20
LOAD_ITERATIONS_DEFAULT = 500
BOOT_TIMEOUT_S = 5.0
STOP_TIMEOUT_S = 5.0
LOAD_TIMEOUT_S = 300.0
COHIMG_TIMEOUT_S = 60.0
READ_CHUNK_BYTES = 4096
CONSOLE_READY = b"console ready port="

# Arena search: the manifest's bounds (docs/image-format.md) in page steps; the same names as
# host/image/manifest.ts and engine/port/task.h (host/node/limits.test.ts checks those two).
TASK_ARENA_PAGE_BYTES = 4096
TASK_ARENA_BYTES_MIN = 64 * 1024
ARENA_BYTES_SEARCH_MAX = 1024 * 1024  # the board's worker-heart arena: known to run
# An idle worker "runs" when its first heartbeat (interval 1000 ms) arrives and nothing faults for this long.
IDLE_WATCH_S = 1.5
FIRST_BEAT = b'[root-task] worker-1: {"tick":1,'
WORKER_TROUBLE = re.compile(rb"\[worker-1\] task faulted|revoked worker-1|boot task worker-heart not started")


def read_until(proc: subprocess.Popen, seen: bytes, needle: bytes | None, deadline: float) -> tuple[bool, bytes]:
    """Reads proc's stderr into `seen` until `needle` appears (True), EOF or the deadline (False)."""
    fd = proc.stderr.fileno()
    while (left := deadline - time.perf_counter()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, READ_CHUNK_BYTES)
        if not chunk:
            break
        seen += chunk
        if needle is not None and needle in seen:
            return True, seen
    return False, seen


def run_until(argv: list[str], needle: bytes, timeout_s: float) -> tuple[float | None, subprocess.Popen, bytes]:
    """Starts argv; returns (seconds until `needle` appeared on stderr or None, the process, stderr so far)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    found, seen = read_until(proc, b"", needle, t0 + timeout_s)
    return (time.perf_counter() - t0 if found else None), proc, seen


def stop(proc: subprocess.Popen) -> None:
    stop_process(proc, STOP_TIMEOUT_S)
    proc.stderr.close()


def sim_argv(image: Path) -> list[str]:
    return [str(SIM), "--image", str(image), "--console-port", "0", "--9p-port", "0", "--uart", "none"]


def percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def bench_boot(image: Path, runs: int) -> dict:
    samples = []
    for i in range(runs):
        dt, proc, seen = run_until(sim_argv(image), CONSOLE_READY, BOOT_TIMEOUT_S)
        stop(proc)
        if dt is None:
            raise SystemExit(f"boot run {i}: no console ready line within {BOOT_TIMEOUT_S} s: {seen.decode(errors='replace')}")
        samples.append(dt * 1000)
    return {"runs": runs, "median_ms": statistics.median(samples), "p90_ms": percentile(samples, 90),
            "min_ms": min(samples), "samples_ms": samples}


def bench_load(iterations: int) -> dict:
    js, qbc = BUNDLES / "root-task.js", BUILD / "qbc" / "root-task.qbc"
    r = subprocess.run([str(BENCH_ENGINE_LOAD), str(js), str(qbc), str(iterations)], capture_output=True, text=True,
                       timeout=LOAD_TIMEOUT_S)
    if r.returncode != 0:
        raise SystemExit(f"bench_engine_load failed: {r.stderr.strip()}")
    kv = dict(line.split("=", 1) for line in r.stdout.split())
    return {"bundle": "root-task", "iterations": int(kv["iterations"]), "source_bytes": int(kv["source_bytes"]),
            "qbc_bytes": int(kv["qbc_bytes"]), "bytecode_load_us_median": float(kv["bytecode_load_us_median"]),
            "source_load_us_median": float(kv["source_load_us_median"]), "speedup": float(kv["speedup"])}


def worker_runs_in(workdir: Path, qbc_dir: Path, arena_bytes: int) -> tuple[bool, str]:
    """Builds the board image with worker-heart's arena set to arena_bytes and watches it idle."""
    manifest = json.loads(BASE_MANIFEST.read_text())
    worker = next(t for t in manifest["tasks"] if t["name"] == "worker-heart")
    worker["arena_bytes"] = arena_bytes
    template = workdir / f"arena-{arena_bytes}.json"
    template.write_text(json.dumps(manifest, indent=2))
    image = workdir / f"arena-{arena_bytes}.img"
    # Packs the bundles compiled once (no --cohc): only the manifest changes between probes.
    r = subprocess.run([str(COHIMG), "build", "--manifest", str(template), "--bundles", str(qbc_dir), "--out", str(image)],
                       capture_output=True, text=True, timeout=COHIMG_TIMEOUT_S)
    if r.returncode != 0:
        raise SystemExit(f"cohimg build failed: {r.stderr.strip()}")
    t0 = time.perf_counter()
    dt, proc, seen = run_until(sim_argv(image), FIRST_BEAT, BOOT_TIMEOUT_S)
    try:
        if dt is None:
            return False, seen.decode(errors="replace")
        # Watch the rest of the window for a fault after the first beat.
        _, seen = read_until(proc, seen, None, t0 + IDLE_WATCH_S)
        ok = FIRST_BEAT in seen and not WORKER_TROUBLE.search(seen)
        return ok, seen.decode(errors="replace")
    finally:
        stop(proc)


def bench_arena() -> dict:
    with tempfile.TemporaryDirectory(prefix="cohesix-bench-") as tmp:
        workdir = Path(tmp)
        qbc_dir = BUILD / "qbc"
        lo, hi = TASK_ARENA_BYTES_MIN // TASK_ARENA_PAGE_BYTES, ARENA_BYTES_SEARCH_MAX // TASK_ARENA_PAGE_BYTES
        probes = []
        ok, log = worker_runs_in(workdir, qbc_dir, hi * TASK_ARENA_PAGE_BYTES)
        probes.append({"arena_bytes": hi * TASK_ARENA_PAGE_BYTES, "runs": ok})
        if not ok:
            raise SystemExit(f"worker-heart does not run even in {hi * TASK_ARENA_PAGE_BYTES} bytes:\n{log}")
        ok, _ = worker_runs_in(workdir, qbc_dir, lo * TASK_ARENA_PAGE_BYTES)
        probes.append({"arena_bytes": lo * TASK_ARENA_PAGE_BYTES, "runs": ok})
        if ok:
            hi = lo
        # Invariant: hi pages run, lo pages do not; the loop halves the gap, so it ends in log2(48) probes.
        while hi - lo > 1:
            mid = (lo + hi) // 2
            ok, _ = worker_runs_in(workdir, qbc_dir, mid * TASK_ARENA_PAGE_BYTES)
            probes.append({"arena_bytes": mid * TASK_ARENA_PAGE_BYTES, "runs": ok})
            if ok:
                hi = mid
            else:
                lo = mid
        return {"smallest_arena_bytes": hi * TASK_ARENA_PAGE_BYTES, "watch_s": IDLE_WATCH_S, "probes": probes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default=platform.node() or "local", help="results file name (bench/results/<name>.json)")
    ap.add_argument("--boot-runs", type=int, default=BOOT_RUNS_DEFAULT)
    ap.add_argument("--load-iterations", type=int, default=LOAD_ITERATIONS_DEFAULT)
    args = ap.parse_args()
    for p in (SIM, COHC, BENCH_ENGINE_LOAD, BUNDLES / "root-task.js", BUILD / "qbc" / "root-task.qbc",
              BUILD / "images" / "dev.img"):
        if not p.exists():
            raise SystemExit(f"bench: {p} is missing; run `sh scripts/build.sh` (or npm run bench) first")
    if shutil.which("node") is None:
        raise SystemExit("bench: node is needed for bin/cohimg")

    boot = bench_boot(BUILD / "images" / "dev.img", args.boot_runs)
    load = bench_load(args.load_iterations)
    arena = bench_arena()

    rows = [
        ("cold boot to console ready, median", f"{boot['median_ms']:.1f} ms", f"<= {BOOT_MS_TARGET:g} ms",
         boot["median_ms"] <= BOOT_MS_TARGET),
        ("cold boot to console ready, p90", f"{boot['p90_ms']:.1f} ms", f"<= {BOOT_MS_TARGET:g} ms",
         boot["p90_ms"] <= BOOT_MS_TARGET),
        ("root-task load: bytecode vs source", f"{load['speedup']:.1f}x ({load['bytecode_load_us_median']:.0f} us vs "
         f"{load['source_load_us_median']:.0f} us)", f">= {LOAD_SPEEDUP_TARGET:g}x", load["speedup"] >= LOAD_SPEEDUP_TARGET),
        ("smallest arena, idle worker-heart", f"{arena['smallest_arena_bytes'] // 1024} KiB",
         f"<= {IDLE_ARENA_BYTES_TARGET // 1024} KiB", arena["smallest_arena_bytes"] <= IDLE_ARENA_BYTES_TARGET),
    ]
    w = [max(len(str(r[i])) for r in rows + [("figure", "value", "target", "met?")]) for i in range(3)]
    print(f"{'figure':<{w[0]}}  {'value':<{w[1]}}  {'target':<{w[2]}}  met?")
    for fig, val, tgt, met in rows:
        print(f"{fig:<{w[0]}}  {val:<{w[1]}}  {tgt:<{w[2]}}  {'yes' if met else 'NO'}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    result = {
        "name": args.name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "cold_boot": {**boot, "target_ms": BOOT_MS_TARGET},
        "engine_load": {**load, "target_speedup": LOAD_SPEEDUP_TARGET},
        "idle_arena": {**arena, "target_bytes": IDLE_ARENA_BYTES_TARGET},
        "met": {"cold_boot": rows[0][3] and rows[1][3], "engine_load": rows[2][3], "idle_arena": rows[3][3]},
    }
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
