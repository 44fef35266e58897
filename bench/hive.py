#!/usr/bin/env python3
# bench/hive.py: the hive figures of issue 4: console PING round trip, TAIL of a full ring, whole-hive memory against Node, spawn time.
"""Usage: build/pyenv/bin/python bench/hive.py [--name NAME] [--pings N] [--tails N] [--spawns N] [--workers N]

Boots build/images/dev.img (boards/host/manifest.json: root-task, NineDoor, worker-heart) with
build/cohesix-sim, drives it over the TCP console and the UART, runs the same bundles on Node
(bench/hive-node.mjs), prints a table and writes bench/results/<name>.json. Needs a build.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
from hivekit import Sim  # noqa: E402
from hive_ops import DEV_IMAGE, DEV_PUB, Operator  # noqa: E402

RESULTS = REPO / "bench" / "results"
NODE_SCRIPT = REPO / "bench" / "hive-node.mjs"
NODE_TIMEOUT_S = 60.0

# Target from issue 4 ("Figures to report").
RSS_RATIO_TARGET = 0.25

PINGS_DEFAULT = 2000
TAILS_DEFAULT = 500
SPAWNS_DEFAULT = 5
WORKERS_DEFAULT = 16
RING_BYTES = 1024  # ring_bytes_per_worker (spec §10.1)
# Filler records written into the ring after its first heartbeat, up to exactly RING_BYTES.
FILL_RECORD_BYTES = 100
# worker-heart's interval (HEARTBEAT_INTERVAL_MS_DEFAULT): the first record comes one interval after attach.
HEARTBEAT_INTERVAL_MS = 1000
SPAWN_POLL_S = 0.005
SPAWN_BEAT_TIMEOUT_S = 5.0
SETTLE_S = 2.0  # every worker has beaten at least once after this
TASK_ROW = re.compile(r"\[tasks\] id=\d+ label=(\S+) task=(\S+) state=(\S+) arena_used=(\d+) arena_bytes=(\d+) "
                      r"arena_peak=(\d+)")


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def boot() -> Sim:
    sim = Sim(DEV_IMAGE, "stdio", ("--trust-key", str(DEV_PUB)))
    m = sim.log.search(r"console ready port=(\d+)", 5.0)
    if m is None:
        raise SystemExit(f"the hive did not boot:\n{sim.describe()}")
    sim.port = int(m.group(1))
    return sim


def bench_ping(op: Operator, n: int) -> dict:
    # Client-side time from sending PING to the bare PONG that ends its reply (spec §3.3).
    for _ in range(50):
        op.request("PING")
    rtt = []
    for _ in range(n):
        t0 = time.perf_counter()
        op.request("PING")
        rtt.append((time.perf_counter() - t0) * 1000)
    return {"count": n, "p50_ms": round(statistics.median(rtt), 3), "p99_ms": round(pct(rtt, 99), 3),
            "max_ms": round(max(rtt), 3)}


def bench_tail(op: Operator, n: int) -> dict:
    """TAIL of a ring holding exactly RING_BYTES. Measured between two heartbeats: the next beat wraps the
    ring, and a wrapped ring's TAIL is refused today (the console reads from offset 0, below `base`)."""
    spawn = '{"spawn":"heartbeat","ticks":100000}'
    assert op.request(f"SPAWN {spawn}")[0].startswith("OK SPAWN")
    worker = sorted(op.ls("/worker"), key=lambda w: int(w.split("-")[1]))[-1]
    path = f"/worker/{worker}/telemetry"
    deadline = time.perf_counter() + SPAWN_BEAT_TIMEOUT_S
    while len(first := op.request(f"TAIL {path}")) <= 2:
        assert time.perf_counter() < deadline, f"{worker}: no heartbeat"
        time.sleep(SPAWN_POLL_S)
    t_beat = time.perf_counter()
    used = sum(len(x.encode()) + 1 for x in first[1:-1])
    # Fill to exactly RING_BYTES with records of at most FILL_RECORD_BYTES (+ newline), no wrap.
    while used < RING_BYTES:
        size = min(FILL_RECORD_BYTES, RING_BYTES - used - 1)
        r = op.request(f"ECHO {path} {'r' * size}")
        assert r[0].startswith("OK ECHO"), r
        used += size + 1
    full = op.request(f"TAIL {path}")
    retained = sum(len(x.encode()) + 1 for x in full[1:-1])
    assert retained == RING_BYTES, f"ring holds {retained} bytes"
    window = HEARTBEAT_INTERVAL_MS / 1000 * 0.8 - (time.perf_counter() - t_beat)
    t0 = time.perf_counter()
    done = lines = 0
    while done < n and time.perf_counter() - t0 < window:
        r = op.request(f"TAIL {path}")
        assert r[-1] == "END", r
        lines += len(r) - 2
        done += 1
    s = time.perf_counter() - t0
    return {"count": done, "ring_bytes_retained": retained, "lines_per_tail": len(full) - 2,
            "tails_per_s": round(done / s, 1), "content_kib_per_s": round(done * retained / 1024 / s, 1),
            "lines_per_s": round(lines / s, 1), "mean_ms": round(s / done * 1000, 3)}


def bench_spawn(op: Operator, n: int) -> dict:
    """SPAWN sent → first heartbeat record visible in the new worker's ring (polled with TAIL every 5 ms)."""
    out = []
    for _ in range(n):
        before = set(op.ls("/worker"))
        spawn = '{"spawn":"heartbeat","ticks":100000}'
        t0 = time.perf_counter()
        r = op.request(f"SPAWN {spawn}")
        t_ack = time.perf_counter()
        assert r[0].startswith("OK SPAWN"), r
        worker = sorted(set(op.ls("/worker")) - before, key=lambda w: int(w.split("-")[1]))[-1]
        deadline = t0 + SPAWN_BEAT_TIMEOUT_S
        while True:
            t = op.request(f"TAIL /worker/{worker}/telemetry")
            if len(t) > 2:
                break
            if time.perf_counter() > deadline:
                raise SystemExit(f"{worker}: no heartbeat within {SPAWN_BEAT_TIMEOUT_S} s")
            time.sleep(SPAWN_POLL_S)
        t_beat = time.perf_counter()
        out.append(((t_ack - t0) * 1000, (t_beat - t0) * 1000))
    beats = [b for _, b in out]
    return {"count": n, "ack_ms_p50": round(statistics.median(a for a, _ in out), 3),
            "first_beat_ms_p50": round(statistics.median(beats), 1), "first_beat_ms_max": round(max(beats), 1),
            "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
            "overhead_ms_p50": round(statistics.median(beats) - HEARTBEAT_INTERVAL_MS, 1)}


def bench_memory(sim: Sim, op: Operator, workers: int) -> dict:
    have = len(op.ls("/worker"))
    spawn = '{"spawn":"heartbeat","ticks":100000}'
    for _ in range(workers - have):
        assert op.request(f"SPAWN {spawn}")[0].startswith("OK SPAWN")
    time.sleep(SETTLE_S)
    names = op.ls("/worker")
    assert len(names) == workers, names
    last = op.request(f"TAIL /worker/{names[-1]}/telemetry")
    assert len(last) > 2, f"{names[-1]} has not beaten: {last}"
    rows = [m.groups() for m in TASK_ROW.finditer(sim.uart_command("tasks", 5.0))]
    running = [r for r in rows if r[2] == "running"]
    arenas_used = sum(int(r[3]) for r in running)
    arenas_peak = sum(int(r[5]) for r in running)
    arenas_quota = sum(int(r[4]) for r in running)
    by = {}
    for r in running:
        by.setdefault(r[1], []).append(int(r[3]))
    return {"workers": workers, "tasks": len(running), "rss_kb": rss_kb(sim.proc.pid),
            "arenas_used_kb": round(arenas_used / 1024), "arenas_peak_kb": round(arenas_peak / 1024),
            "arenas_quota_kb": round(arenas_quota / 1024),
            "arena_used_kb_by_task": {k: round(sum(v) / 1024 / len(v)) for k, v in by.items()}}


def node_hive(workers: int) -> dict:
    r = subprocess.run(["node", str(NODE_SCRIPT), "--workers", str(workers)], cwd=REPO, capture_output=True,
                       text=True, timeout=NODE_TIMEOUT_S)
    if r.returncode != 0:
        raise SystemExit(f"bench/hive-node.mjs failed ({r.returncode}): {r.stderr.strip()}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if out["workers"] != workers or not out["beating"]:
        raise SystemExit(f"the Node hive did not run {workers} beating workers: {out}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", default="hive")
    ap.add_argument("--pings", type=int, default=PINGS_DEFAULT)
    ap.add_argument("--tails", type=int, default=TAILS_DEFAULT)
    ap.add_argument("--spawns", type=int, default=SPAWNS_DEFAULT)
    ap.add_argument("--workers", type=int, default=WORKERS_DEFAULT)
    a = ap.parse_args()
    if not DEV_IMAGE.exists():
        raise SystemExit(f"{DEV_IMAGE} missing: run sh scripts/build.sh")

    sim = boot()
    try:
        op = Operator(sim.port)
        op.auth_attach()
        ping = bench_ping(op, a.pings)
        spawn = bench_spawn(op, a.spawns)
        tail = bench_tail(op, a.tails)
        mem = bench_memory(sim, op, a.workers)
    finally:
        sim.kill()
    node = node_hive(a.workers)
    ratio = mem["rss_kb"] / node["rss_kb"]

    rows = [
        ("console PING→PONG p50", f"{ping['p50_ms']:.3f} ms", "", ""),
        ("console PING→PONG p99", f"{ping['p99_ms']:.3f} ms", "", ""),
        (f"TAIL of a full ring ({tail['ring_bytes_retained']} B, {tail['lines_per_tail']} lines)",
         f"{tail['tails_per_s']:.0f}/s = {tail['content_kib_per_s']:.0f} KiB/s", "", ""),
        (f"firmware RSS, queen + NineDoor + {a.workers} workers", f"{mem['rss_kb'] / 1024:.1f} MiB", "", ""),
        ("sum of arenas in use (UART tasks)", f"{mem['arenas_used_kb'] / 1024:.1f} MiB", "", ""),
        (f"Node RSS, same bundles + {a.workers} workers", f"{node['rss_kb'] / 1024:.1f} MiB", "", ""),
        ("firmware RSS / Node RSS", f"{ratio:.3f}", f"≤ {RSS_RATIO_TARGET}", "yes" if ratio <= RSS_RATIO_TARGET else "NO"),
        ("spawn: SPAWN → OK SPAWN p50", f"{spawn['ack_ms_p50']:.3f} ms", "", ""),
        ("spawn: SPAWN → first heartbeat p50", f"{spawn['first_beat_ms_p50']:.1f} ms",
         f"(interval {HEARTBEAT_INTERVAL_MS} ms)", ""),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'figure':<{w}}  {'value':<24} {'target':<18} met")
    for r in rows:
        print(f"{r[0]:<{w}}  {r[1]:<24} {r[2]:<18} {r[3]}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "image": str(DEV_IMAGE.relative_to(REPO)),
        "ping": ping, "tail_full_ring": tail, "spawn": spawn, "memory_firmware": mem, "memory_node": node,
        "rss_ratio": round(ratio, 4), "rss_ratio_target": RSS_RATIO_TARGET, "rss_ratio_met": ratio <= RSS_RATIO_TARGET,
    }
    out = RESULTS / f"{a.name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
