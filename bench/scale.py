#!/usr/bin/env python3
# bench/scale.py: how the host-firmware hive's costs grow with live heartbeat workers (issue 17); prints a table, writes JSON.
"""Usage: build/pyenv/bin/python bench/scale.py [--name NAME] [--workers 8,24] [--rounds N]

For each worker count N, one fresh build/cohesix-sim (dev image, UART on stdio) and an operator on the
TCP console (AUTH, ATTACH queen, SPAWN, KILL: the verbs cohsh sends):
  - spawn N heartbeat workers one after another: spawn rate, spawn -> first heartbeat p99 (polled
    with CAT /worker/<id>/telemetry after the spawns: heartbeats are not on the firmware log);
  - at idle: arena bytes in use per worker (the UART `tasks` rows), whole-hive RSS, the process's CPU
    per second with every worker beating, and that CPU per beat (flat = cost grows with the work; a
    per-turn table scan makes it climb with N). A direct pump-turn figure (turns from pump_turns()) is to come;
  - kill all, then spawn/kill N `--rounds` times: arena bytes in use back to the figure before the first spawn.
Not yet measured here (issue 17 lists it): 9P getattr rate with N workers beating vs none.
Needs a build (sh scripts/build.sh). The dev image's limits cap N (LIVE_WORKERS_MAX, TASKS_MAX): a SPAWN
over them answers Busy, and the bench reports the count it reached.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
from hivekit import AUTH_TOKEN, ConsoleClient, Sim, cpu_ms  # noqa: E402
from hive_ops import DEV_IMAGE  # noqa: E402

RESULTS = REPO / "bench" / "results"

# Targets from issue 17.
IDLE_ARENA_BYTES_TARGET = 128 * 1024
RSS_BYTES_TARGET = 160 * 1024 * 1024  # at 1024 idle workers
IDLE_COST_RATIO_TARGET = 1.10  # idle cost with N workers over idle cost with the smallest N
FIRST_BEAT_P99_TARGET = 1.1  # x the beat interval
SPAWN_RATE_TARGET = 500.0  # workers/s

WORKERS_DEFAULT = "8,24"  # 24 = LIVE_WORKERS_MAX today (js/root-task/policy/limits.ts)
ROUNDS_DEFAULT = 10
HEARTBEAT_TICKS = 100000  # long enough that no worker finishes inside a run
BEAT_INTERVAL_MS = 1000  # worker-heart's heartbeat interval (spec §6)
SPAWNED_TIMEOUT_S = 5.0
FIRST_BEAT_TIMEOUT_S = 10.0
KILLED_TIMEOUT_S = 5.0
IDLE_WINDOW_S = 3.0
SETTLE_S = 1.5  # after kill-all: the pump reaps and the arenas go back
WATCH_POLL_S = 0.002

SPAWN = '{"spawn":"heartbeat","ticks":%d}' % HEARTBEAT_TICKS
SPAWNED_RE = re.compile(r"\[ninedoor\] spawned (worker-\d+) ")
KILLED_RE = re.compile(r"\[ninedoor\] killed (worker-\d+)")
TASK_ROW = re.compile(r"\[tasks\] id=\d+ label=(\S+) task=(\S+) state=(\S+) arena_used=(\d+) arena_bytes=(\d+) "
                      r"arena_peak=(\d+)")


class LogWatch:
    """Stamps the arrival time (perf_counter) of each spawned / first-beat / killed line on the firmware log."""

    def __init__(self, sim: Sim):
        self.sim, self.pos = sim, 0
        self.spawned: dict[str, float] = {}
        self.killed: dict[str, float] = {}
        self._stop = threading.Event()
        self._tail = ""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            end = self.sim.log.mark()
            if end > self.pos:
                now = time.perf_counter()
                text = self._tail + self.sim.log.text(self.pos)[: end - self.pos]
                self.pos = end
                lines = text.split("\n")
                self._tail = lines.pop()  # an unfinished line waits for its end
                for line in lines:
                    for rx, seen in ((SPAWNED_RE, self.spawned), (KILLED_RE, self.killed)):
                        m = rx.search(line)
                        if m and m.group(1) not in seen:
                            seen[m.group(1)] = now
            time.sleep(WATCH_POLL_S)

    def wait(self, seen: dict[str, float], ids: list[str], timeout_s: float) -> list[str]:
        """Waits until every id is in `seen`; returns the ones still missing at the deadline."""
        deadline = time.perf_counter() + timeout_s
        while time.perf_counter() < deadline:
            missing = [i for i in ids if i not in seen]
            if not missing:
                return []
            time.sleep(WATCH_POLL_S)
        return [i for i in ids if i not in seen]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def tasks(sim: Sim) -> dict[str, dict]:
    rows = [m.groups() for m in TASK_ROW.finditer(sim.uart_command("tasks"))]
    return {label: {"task": task, "state": state, "arena_used": int(used), "arena_bytes": int(quota), "arena_peak": int(peak)}
            for label, task, state, used, quota, peak in rows}


def arena_used_total(t: dict[str, dict]) -> int:
    return sum(r["arena_used"] for r in t.values() if r["state"] == "running")


def percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))] if s else float("nan")


class Hive:
    def __init__(self) -> None:
        self.sim = Sim(DEV_IMAGE, "stdio")
        self.sim.wait_ready()
        self.watch = LogWatch(self.sim)
        self.console = ConsoleClient(self.sim.port)
        self._expect(f"AUTH {AUTH_TOKEN}", "OK AUTH")
        self._expect("ATTACH queen", "OK ATTACH role=queen")
        self.next_id = 1

    def _expect(self, line: str, want: str) -> None:
        got = self.console.command(line)
        if got != [want]:
            raise SystemExit(f"console {line!r} answered {got!r}, not {want!r}")

    def spawn(self) -> tuple[str | None, float]:
        """Spawns one worker; returns (its id or None if refused, the time SPAWN was sent)."""
        t0 = time.perf_counter()
        got = self.console.command(f"SPAWN {SPAWN}")
        if got != [f"OK SPAWN payload={SPAWN}"]:
            return None, t0
        wid = f"worker-{self.next_id}"
        # SPAWN is acknowledged before it acts (spec §3.5); a refusal after the ACK is a second ERR line.
        if self.watch.wait(self.watch.spawned, [wid], SPAWNED_TIMEOUT_S):
            return None, t0
        self.next_id += 1
        return wid, t0

    def telemetry_lines(self, wid: str) -> int:
        """Lines in the worker's telemetry ring (CAT: `OK CAT ...`, lines, `END`; an ERR is one line)."""
        self.console.send_line(f"CAT /worker/{wid}/telemetry")
        first = self.console.recv_line()
        if not first.startswith("OK"):
            return 0
        n = 0
        while self.console.recv_line() != "END":
            n += 1
        return n

    def wait_first_beats(self, ids: list[str], timeout_s: float) -> dict[str, float]:
        """When each worker's first heartbeat was seen in its telemetry ring (polled: heartbeats are not logged)."""
        seen: dict[str, float] = {}
        deadline = time.perf_counter() + timeout_s
        while len(seen) < len(ids) and time.perf_counter() < deadline:
            for w in ids:
                if w not in seen and self.telemetry_lines(w) > 0:
                    seen[w] = time.perf_counter()
        return seen

    def kill(self, wid: str) -> bool:
        got = self.console.command(f"KILL {wid}")
        return bool(got) and got[0].startswith("OK")

    def close(self) -> None:
        self.watch.stop()
        self.console.close()
        self.sim.kill()


def run_count(n: int, rounds: int) -> dict:
    hive = Hive()
    try:
        time.sleep(SETTLE_S)
        start = tasks(hive.sim)
        used_start = arena_used_total(start)
        rss_start = rss_bytes(hive.sim.proc.pid)
        idle_cpu_start = cpu_ms(hive.sim.proc.pid)
        time.sleep(IDLE_WINDOW_S)
        cpu_ms_per_s_empty = (cpu_ms(hive.sim.proc.pid) - idle_cpu_start) / IDLE_WINDOW_S

        ids, sent = [], {}
        t0 = time.perf_counter()
        for _ in range(n):
            wid, ts = hive.spawn()
            if wid is None:
                break
            ids.append(wid)
            sent[wid] = ts
        spawn_s = time.perf_counter() - t0
        beats = hive.wait_first_beats(ids, FIRST_BEAT_TIMEOUT_S)
        missing = [w for w in ids if w not in beats]
        first_beat_ms = [(beats[w] - sent[w]) * 1000 for w in ids if w in beats]

        time.sleep(SETTLE_S)
        busy = tasks(hive.sim)
        worker_used = [r["arena_used"] for label, r in busy.items() if label.startswith("worker-") and r["state"] == "running"]
        worker_quota = [r["arena_bytes"] for label, r in busy.items() if label.startswith("worker-")]
        rss_idle = rss_bytes(hive.sim.proc.pid)
        c0 = cpu_ms(hive.sim.proc.pid)
        time.sleep(IDLE_WINDOW_S)
        cpu_ms_per_s = (cpu_ms(hive.sim.proc.pid) - c0) / IDLE_WINDOW_S

        for w in ids:
            hive.kill(w)
        hive.watch.wait(hive.watch.killed, ids, KILLED_TIMEOUT_S)
        for _ in range(rounds):
            time.sleep(SETTLE_S)
            round_ids = [w for w, _ in (hive.spawn() for _ in range(len(ids))) if w]
            for w in round_ids:
                hive.kill(w)
            hive.watch.wait(hive.watch.killed, round_ids, KILLED_TIMEOUT_S)
        time.sleep(SETTLE_S)
        end = tasks(hive.sim)
        used_end = arena_used_total(end)
        workers_left = sum(r["arena_used"] for label, r in end.items() if label.startswith("worker-"))
        return {
            "workers_asked": n, "workers_live": len(ids), "first_beats_missing": len(missing),
            "spawn_rate_per_s": len(ids) / spawn_s if spawn_s > 0 else None,
            "first_beat_ms_p50": percentile(first_beat_ms, 50), "first_beat_ms_p99": percentile(first_beat_ms, 99),
            "worker_arena_used_mean_bytes": sum(worker_used) / len(worker_used) if worker_used else None,
            "worker_arena_used_max_bytes": max(worker_used, default=None),
            "worker_arena_quota_bytes": max(worker_quota, default=None),
            "rss_start_bytes": rss_start, "rss_idle_bytes": rss_idle,
            "cpu_ms_per_s_no_workers": cpu_ms_per_s_empty, "cpu_ms_per_s_idle": cpu_ms_per_s,
            # Each worker beats once per BEAT_INTERVAL_MS: the hive's CPU over the beats is the cost of one beat
            # (worker JS, channel, NineDoor's 9P write) plus every turn's scans spread over them.
            "cpu_ms_per_beat": cpu_ms_per_s / (len(ids) * 1000 / BEAT_INTERVAL_MS) if ids else None,
            "arena_used_start_bytes": used_start, "arena_used_after_rounds_bytes": used_end, "rounds": rounds,
            "worker_arena_used_after_rounds_bytes": workers_left,
            "system_tasks_arena_used": {k: r["arena_used"] for k, r in end.items()},
        }
    finally:
        hive.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default=f"scale-{platform.node() or 'local'}", help="bench/results/<name>.json")
    ap.add_argument("--workers", default=WORKERS_DEFAULT, help="comma-separated worker counts")
    ap.add_argument("--rounds", type=int, default=ROUNDS_DEFAULT, help="spawn/kill-all rounds after the first")
    args = ap.parse_args()
    if not DEV_IMAGE.exists():
        raise SystemExit(f"bench: {DEV_IMAGE} is missing; run `sh scripts/build.sh` first")
    counts = [int(x) for x in args.workers.split(",")]
    runs = [run_count(n, args.rounds) for n in counts]
    base_cpu = runs[0]["cpu_ms_per_s_idle"]

    head = ("workers", "live", "spawn/s", "beat p99 ms", "arena/worker KiB", "RSS MiB", "CPU ms/s",
            "vs first", "CPU ms/beat", "workers' arena back?", "all tasks' arena vs start")
    rows = []
    for r in runs:
        mean = r["worker_arena_used_mean_bytes"]
        rows.append((r["workers_asked"], r["workers_live"], f"{r['spawn_rate_per_s']:.0f}", f"{r['first_beat_ms_p99']:.0f}",
                     f"{mean / 1024:.1f}" if mean else "-", f"{r['rss_idle_bytes'] / 2**20:.1f}",
                     f"{r['cpu_ms_per_s_idle']:.2f}", f"{r['cpu_ms_per_s_idle'] / base_cpu:.2f}x" if base_cpu else "-",
                     f"{r['cpu_ms_per_beat']:.3f}",
                     "yes" if r["worker_arena_used_after_rounds_bytes"] == 0 else f"{r['worker_arena_used_after_rounds_bytes']} B left",
                     f"{r['arena_used_after_rounds_bytes'] - r['arena_used_start_bytes']:+d} B"))
    w = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    print("  ".join(f"{h:<{w[i]}}" for i, h in enumerate(head)))
    for row in rows:
        print("  ".join(f"{str(x):<{w[i]}}" for i, x in enumerate(row)))
    print(f"targets: arena/worker <= {IDLE_ARENA_BYTES_TARGET // 1024} KiB; RSS <= {RSS_BYTES_TARGET // 2**20} MiB at 1024; "
          f"idle cost <= {IDLE_COST_RATIO_TARGET:g}x; beat p99 <= {FIRST_BEAT_P99_TARGET * BEAT_INTERVAL_MS:.0f} ms; "
          f"spawn >= {SPAWN_RATE_TARGET:g}/s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_text(json.dumps({"bench": "scale", "host": platform.node(), "runs": runs}, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
