#!/usr/bin/env python3
# bench/soak.py: the issue 13 soak: minutes of legitimate operator traffic while hostile clients attack the console and 9P.
"""Usage: build/pyenv/bin/python bench/soak.py [--minutes 10] [--name soak] [--seed 1]

Boots build/images/dev.img (its 9P listener on a free port) and, for the whole run, keeps:
- legitimate traffic: one attached queen session that PINGs every PING_INTERVAL_S (timed) and mixes in
  ECHO to /log/queen.log, CAT, LS and TAIL of a worker ring; a fresh AUTH+ATTACH+PING+QUIT session every
  FRESH_INTERVAL_S (harness/attacks.py legit_attempt, 1 s budget); a heartbeat worker spawned every
  SPAWN_INTERVAL_S with a bounded life, so workers come and go.
- attacks: attach-then-close clients (bug 1), idle pre-AUTH connections re-opened as they close (bug 2),
  a pipelining client that checks every line is answered (bug 3), forged and malformed ATTACH tickets,
  half frames held open, oversize and non-UTF-8 frames after AUTH, and mutated 9P frames on the
  Secure9P port.

Prints a table and writes bench/results/<name>.json: the legitimate PING p50/p99/max and error count
(target 0), fresh-session successes and worst time, each attack's counts, and console sessions, arena
bytes per task and the firmware's RSS at start and end. Needs a build. Not a test: it asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import re
import socket
import statistics
import struct
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
from attacks import AttachThenClose, IdlePreauth, frame, legit_attempt  # noqa: E402
from hivekit import Sim, cpu_ms, has_cpu_times  # noqa: E402
from hive_ops import DEV_IMAGE, DEV_PUB, NINEP_READY_RE, Operator, free_port  # noqa: E402

RESULTS = REPO / "bench" / "results"

MINUTES_DEFAULT = 10.0
PING_INTERVAL_S = 0.05
# Every Nth legitimate step is a file verb instead of a PING (ECHO, CAT, LS, TAIL in turn).
FILE_VERB_EVERY = 10
FRESH_INTERVAL_S = 1.0
FRESH_BUDGET_S = 1.0
SPAWN_INTERVAL_S = 20.0
# Each spawned worker beats this many times (one a second) and then exits: workers come and go.
SPAWN_TICKS = 30
SAMPLE_INTERVAL_S = 60.0
BOOT_TIMEOUT_S = 10.0
REPLY_TIMEOUT_S = 5.0

ATTACH_CLOSE_THREADS = 4
# At the console's per-source pre-AUTH bound (AUTH_PENDING_PER_SOURCE_MAX), on four addresses: the
# pool (AUTH_PENDING_SESSIONS_MAX, 16) stays full and each is re-opened as soon as the firmware closes
# it (the AUTH deadline, or an eviction when the legitimate client comes). More per source would be
# a connect flood against the attacker's own connections, which costs CPU and proves nothing more.
IDLE_PREAUTH_CONNECTIONS = 4
PIPELINE_LINES = 64
PIPELINE_PAUSE_S = 0.2
FORGE_PAUSE_S = 0.05
HALF_FRAME_CONNECTIONS = 4
NINEP_FUZZ_FRAMES_PER_CONNECTION = 200
NINEP_MSIZE = 8192
ATTACK_SOCKET_TIMEOUT_S = 2.0
NINEP_REPLY_WAIT_S = 0.02

# Each client class from its own loopback address: the console's per-source bounds (pre-AUTH pool,
# ATTACH throttle and cooldown) are keyed by address, as a hostile host on the network would be.
LEGIT_SOURCE = "127.0.0.2"
SOURCES = {
    "attach-close": "127.0.0.3", "forge": "127.0.0.8", "half": "127.0.0.9", "insider": "127.0.0.11",
    "ninep": "127.0.0.12",
}
IDLE_SOURCES = ("127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7")

TASK_ROW = re.compile(r"\[tasks\] id=\d+ label=(\S+) task=(\S+) state=(\S+) arena_used=(\d+) arena_bytes=(\d+) "
                      r"arena_peak=(\d+)")
NETSTATS_RE = re.compile(r"console_sessions=(\d+)(?: console_auth_pending=(\d+))?")


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))] if s else 0.0


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Counter:
    """Named counts shared between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.c: dict[str, int] = {}

    def add(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.c[key] = self.c.get(key, 0) + n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.c)


def sample(sim: Sim) -> dict:
    """Tasks (arena bytes) and console sessions, over the UART: it needs no TCP session of its own."""
    rows = [m.groups() for m in TASK_ROW.finditer(sim.uart_command("tasks", REPLY_TIMEOUT_S))]
    tasks = {f"{label}": {"state": state, "arena_used": int(used), "arena_peak": int(peak)}
             for label, _task, state, used, _quota, peak in rows}
    m = NETSTATS_RE.search(sim.uart_command("netstats", REPLY_TIMEOUT_S))
    return {
        "t_s": round(time.monotonic(), 1),
        "console_sessions": int(m.group(1)) if m else None,
        "console_auth_pending": int(m.group(2)) if m and m.group(2) else None,
        "arena_used_total": sum(t["arena_used"] for t in tasks.values() if t["state"] == "running"),
        "tasks": tasks,
        "rss_kb": rss_kb(sim.proc.pid),
        "cpu_ms": round(cpu_ms(sim.proc.pid)) if has_cpu_times() else None,
    }


# ---- attacks beyond harness/attacks.py ----

class Loop(threading.Thread):
    """A daemon thread running `step` until stopped; OSErrors are the firmware refusing and are counted."""

    def __init__(self, name: str, counts: Counter, stop: threading.Event, step):
        super().__init__(daemon=True, name=name)
        self.counts, self.stop, self.step = counts, stop, step

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.step()
            except (OSError, TimeoutError, ConnectionError, struct.error):
                self.counts.add(f"{self.name}.closed")
                self.stop.wait(0.05)


def recv_frame(s: socket.socket) -> str:
    def exact(n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = s.recv(n - len(out))
            if not chunk:
                raise ConnectionError("closed")
            out += chunk
        return out

    (total,) = struct.unpack("<I", exact(4))
    return exact(total - 4).decode(errors="replace")


def connect(port: int, source: str) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), ATTACK_SOCKET_TIMEOUT_S, source_address=(source, 0))


def authed(port: int, source: str, role: str | None = "queen") -> socket.socket:
    s = connect(port, source)
    s.settimeout(REPLY_TIMEOUT_S)
    s.sendall(frame("AUTH changeme"))
    if recv_frame(s) != "OK AUTH":
        raise ConnectionError("auth refused")
    if role is not None:
        s.sendall(frame(f"ATTACH {role}"))
        while not (line := recv_frame(s)).startswith(("OK ATTACH", "ERR ATTACH")):
            pass
        if not line.startswith("OK ATTACH"):
            raise ConnectionError(line)
    return s


def insider(port: int, counts: Counter, stop: threading.Event, rng: random.Random):
    """A token holder misbehaving in one session: PIPELINE_LINES commands in one write, every one of which
    must be answered (bug 3), then a garbage frame that must be refused without ending the session."""
    def step() -> None:
        s = authed(port, SOURCES["insider"])
        try:
            while not stop.is_set():
                s.sendall(b"".join(frame("CAT /proc/lifecycle/state") for _ in range(PIPELINE_LINES)))
                acks = 0
                while acks < PIPELINE_LINES:
                    line = recv_frame(s)
                    if line.startswith(("OK CAT", "ERR CAT", "ERR ")):
                        acks += 1
                counts.add("pipeline.lines", PIPELINE_LINES)
                garbage_once(s, rng)
                counts.add("garbage.refused")
                stop.wait(PIPELINE_PAUSE_S)
        except socket.timeout:
            counts.add("pipeline.lost")  # a line neither answered nor refused within REPLY_TIMEOUT_S
            raise
        finally:
            s.close()
    return step


def forger(port: int, counts: Counter, stop: threading.Event, rng: random.Random):
    """Forged, truncated and garbage tickets on ATTACH; each must be refused."""
    def step() -> None:
        # A connection per attempt: it holds one of the console's authenticated sessions only briefly.
        s = authed(port, SOURCES["forge"], role=None)
        try:
            raw = bytes(rng.randrange(256) for _ in range(rng.choice((8, 40, 72, 120))))
            ticket = "cohesix-ticket-" + raw.hex()[: rng.randrange(8, 200)]
            s.sendall(frame(f"ATTACH {rng.choice(('queen', 'worker-heartbeat', 'worker-gpu'))} {ticket}"))
            while not (line := recv_frame(s)).startswith(("OK ATTACH", "ERR ATTACH")):
                pass
            counts.add("forge.refused" if line.startswith("ERR") else "forge.ACCEPTED")
        finally:
            s.close()
        stop.wait(FORGE_PAUSE_S)
    return step


def half_framer(port: int, counts: Counter, stop: threading.Event):
    """A frame header promising more than ever comes, held until the firmware closes it."""
    def step() -> None:
        s = connect(port, SOURCES["half"])
        try:
            s.sendall(struct.pack("<I", 200)[:3])
            counts.add("half.connections")
            s.settimeout(0.5)
            while not stop.is_set():
                try:
                    if s.recv(256) == b"":
                        return
                except socket.timeout:
                    continue
        finally:
            s.close()
    return step


def garbage_once(s: socket.socket, rng: random.Random) -> None:
    """After AUTH: an oversize frame, a non-UTF-8 frame or an unknown verb; each gets its ERR and the session goes on."""
    kind = rng.randrange(3)
    if kind == 0:
        s.sendall(struct.pack("<I", 4 + 300) + b"x" * 300)
    elif kind == 1:
        s.sendall(struct.pack("<I", 4 + 3) + b"\xff\xfe\xfd")
    else:
        s.sendall(frame("FROB " + "z" * rng.randrange(0, 200)))
    while not recv_frame(s).startswith("ERR "):
        pass


def ninep_fuzzer(port: int, counts: Counter, stop: threading.Event, rng: random.Random):
    """Tversion, an attach, then mutated frames of the 9P2000.L messages NineDoor takes."""
    def msg(kind: int, tag: int, body: bytes) -> bytes:
        return struct.pack("<IBH", 7 + len(body), kind, tag) + body

    def s9(x: str) -> bytes:
        b = x.encode()
        return struct.pack("<H", len(b)) + b

    seeds = [
        (100, struct.pack("<I", NINEP_MSIZE) + s9("9P2000.L")),  # Tversion
        (104, struct.pack("<II", 1, 0xFFFFFFFF) + s9("") + s9("queen") + struct.pack("<I", 0)),  # Tattach
        (110, struct.pack("<IIH", 1, 2, 2) + s9("proc") + s9("lifecycle")),  # Twalk
        (12, struct.pack("<II", 2, 0)),  # Tlopen
        (116, struct.pack("<IQI", 2, 0, 4096)),  # Tread
        (24, struct.pack("<IQ", 1, 0x3FFF)),  # Tgetattr
        (40, struct.pack("<IQI", 1, 0, 4096)),  # Treaddir
        (120, struct.pack("<I", 2)),  # Tclunk
    ]

    def mutate(b: bytes) -> bytes:
        b = bytearray(b)
        for _ in range(rng.randrange(1, 4)):
            op = rng.randrange(4)
            if op == 0 and b:
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            elif op == 1:
                b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
            elif op == 2 and b:
                del b[rng.randrange(len(b))]
            else:
                i = rng.randrange(len(b) + 1)
                b[i:i] = rng.choice((b"\xff\xff\xff\xff", b"\x00\x00", b"..", b"/"))
        return bytes(b)

    def step() -> None:
        s = connect(port, SOURCES["ninep"])
        s.settimeout(NINEP_REPLY_WAIT_S)
        try:
            s.sendall(msg(seeds[0][0], 0xFFFF, seeds[0][1]) + msg(seeds[1][0], 1, seeds[1][1]))
            for _ in range(NINEP_FUZZ_FRAMES_PER_CONNECTION):
                if stop.is_set():
                    return
                kind, body = rng.choice(seeds)
                if rng.random() < 0.1:
                    wire = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
                elif rng.random() < 0.5:
                    wire = msg(kind, rng.randrange(0x10000), mutate(body))
                else:
                    wire = mutate(msg(kind, rng.randrange(0x10000), body))
                s.sendall(wire)
                counts.add("ninep.frames")
                try:
                    if s.recv(NINEP_MSIZE) == b"":
                        counts.add("ninep.closed_by_server")
                        return
                except socket.timeout:
                    pass
        finally:
            s.close()
    return step


# ---- legitimate traffic ----

class Legit:
    def __init__(self, sim: Sim, counts: Counter, stop: threading.Event):
        self.sim, self.counts, self.stop = sim, counts, stop
        self.ping_ms: list[float] = []
        self.fresh_ms: list[float] = []
        self.errors: list[str] = []
        self.workers: list[str] = []
        self.lock = threading.Lock()

    def error(self, what: str) -> None:
        with self.lock:
            if len(self.errors) < 50:
                self.errors.append(what)
        self.counts.add("legit.errors")

    def attach(self) -> Operator | None:
        try:
            op = Operator(self.sim.port, source=LEGIT_SOURCE)
            op.auth_attach()
            return op
        except (OSError, AssertionError, TimeoutError, ConnectionError) as e:
            self.error(f"operator attach: {type(e).__name__}: {e}")
            return None

    def operator_loop(self) -> None:
        op = None
        n = 0
        next_spawn = time.monotonic()
        while not self.stop.is_set():
            n += 1
            if op is None:
                op = self.attach()
                if op is None:
                    self.stop.wait(FRESH_INTERVAL_S)
                    continue
            try:
                if time.monotonic() >= next_spawn:
                    next_spawn += SPAWN_INTERVAL_S
                    spawn = f'{{"spawn":"heartbeat","ticks":{SPAWN_TICKS}}}'
                    r = op.request(f"SPAWN {spawn}")
                    if not r[0].startswith("OK SPAWN"):
                        self.error(f"SPAWN: {r}")
                elif n % FILE_VERB_EVERY == 0:
                    verb = (n // FILE_VERB_EVERY) % 4
                    if verb == 0:
                        r = op.request(f"ECHO /log/queen.log soak-{n}")
                        ok = r[0].startswith("OK ECHO")
                    elif verb == 1:
                        r = op.request("CAT /proc/lifecycle/state")
                        ok = r[0].startswith("OK CAT") and r[-1] == "END"
                    elif verb == 2:
                        r = op.request("LS /worker")
                        ok = r[0].startswith("OK LS") and r[-1] == "END"
                        self.workers = r[1:-1]
                    else:
                        path = f"/worker/{self.workers[-1]}/telemetry" if self.workers else "/log/queen.log"
                        r = op.request(f"TAIL {path}")
                        # A worker that exited since the LS is gone from the namespace: its ring is no longer
                        # a TAIL target (spec §3.3 invalid-path) or not found. An operator expects that.
                        gone = "reason=not-found" in r[0] or "detail=invalid-path" in r[0]
                        ok = (r[0].startswith("OK TAIL") and r[-1] == "END") or gone
                    if not ok:
                        self.error(f"file verb: {r}")
                else:
                    t0 = time.perf_counter()
                    r = op.request("PING")
                    ms = (time.perf_counter() - t0) * 1000
                    if r != ["OK PING reply=pong"]:
                        self.error(f"PING: {r}")
                    else:
                        with self.lock:
                            self.ping_ms.append(ms)
            except (OSError, AssertionError, TimeoutError, ConnectionError) as e:
                self.error(f"operator session: {type(e).__name__}: {e}")
                try:
                    op.close()
                except OSError:
                    pass
                op = None
            self.stop.wait(PING_INTERVAL_S)
        if op is not None:
            op.close()

    def fresh_loop(self) -> None:
        while not self.stop.is_set():
            r = legit_attempt(self.sim.port, source=LEGIT_SOURCE, budget_s=FRESH_BUDGET_S)
            with self.lock:
                self.fresh_ms.append(r.elapsed_s * 1000)
            if r.ok:
                self.counts.add("fresh.ok")
            else:
                self.error(f"fresh session failed in {r.elapsed_s:.2f} s: {r.transcript[-4:]}")
            self.stop.wait(FRESH_INTERVAL_S)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=MINUTES_DEFAULT)
    ap.add_argument("--name", default="soak")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    ninep_port = free_port()
    sim = Sim(DEV_IMAGE, "stdio", ("--trust-key", str(DEV_PUB), "--9p-port", str(ninep_port)))
    try:
        m = sim.log.search(r"console ready port=(\d+)", BOOT_TIMEOUT_S)
        n9 = sim.log.search(NINEP_READY_RE, BOOT_TIMEOUT_S)
        if m is None or n9 is None:
            raise SystemExit(f"the hive did not boot:\n{sim.describe()}")
        sim.port = int(m.group(1))
        ninep_port = int(n9.group(1))
        start = sample(sim)

        counts = Counter()
        stop = threading.Event()
        legit = Legit(sim, counts, stop)
        attacks = [AttachThenClose(sim.port, threads=ATTACH_CLOSE_THREADS, source=SOURCES["attach-close"]),
                   IdlePreauth(sim.port, connections=IDLE_PREAUTH_CONNECTIONS, sources=IDLE_SOURCES)]
        threads = [
            threading.Thread(target=legit.operator_loop, daemon=True),
            threading.Thread(target=legit.fresh_loop, daemon=True),
            Loop("insider", counts, stop, insider(sim.port, counts, stop, random.Random(rng.random()))),
            Loop("forge", counts, stop, forger(sim.port, counts, stop, random.Random(rng.random()))),
            Loop("ninep", counts, stop, ninep_fuzzer(ninep_port, counts, stop, random.Random(rng.random()))),
            *[Loop("half", counts, stop, half_framer(sim.port, counts, stop)) for _ in range(HALF_FRAME_CONNECTIONS)],
        ]
        for a in attacks:
            a.start()
        for t in threads:
            t.start()
        t0 = time.monotonic()
        end = t0 + args.minutes * 60
        samples = [start]
        while time.monotonic() < end:
            time.sleep(min(SAMPLE_INTERVAL_S, max(0.0, end - time.monotonic())))
            if sim.proc.poll() is not None:
                raise SystemExit(f"the firmware stopped during the soak:\n{sim.describe()}")
            samples.append(sample(sim))
            print(f"[soak] {round(time.monotonic() - t0)} s: pings={len(legit.ping_ms)} errors={len(legit.errors)} "
                  f"sessions={samples[-1]['console_sessions']} arena_used={samples[-1]['arena_used_total']} "
                  f"rss_kb={samples[-1]['rss_kb']}", flush=True)
        stop.set()
        attack_stats = {type(a).__name__: vars(a.stop()) for a in attacks}
        for t in threads:
            t.join(REPLY_TIMEOUT_S + 1)
        time.sleep(2.0)  # let the attackers' last connections close before the end sample
        final = sample(sim)
    finally:
        sim.kill()

    pings = legit.ping_ms
    result = {
        "machine": platform.machine(), "minutes": args.minutes, "seed": args.seed,
        "legit": {
            "pings": len(pings),
            "ping_p50_ms": round(statistics.median(pings), 3) if pings else None,
            "ping_p99_ms": round(pct(pings, 99), 3), "ping_max_ms": round(max(pings), 3) if pings else None,
            "fresh_sessions_ok": counts.snapshot().get("fresh.ok", 0),
            "fresh_session_p99_ms": round(pct(legit.fresh_ms, 99), 1),
            "fresh_session_max_ms": round(max(legit.fresh_ms), 1) if legit.fresh_ms else None,
            "errors": counts.snapshot().get("legit.errors", 0),
            "first_errors": legit.errors[:10],
        },
        "attacks": {**attack_stats, **counts.snapshot()},
        "start": start, "end": final, "samples": samples[1:],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{args.name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")

    lg = result["legit"]
    print(f"{'what':40} {'start':>12} {'end':>12}")
    print(f"{'console sessions (authenticated)':40} {start['console_sessions']!s:>12} {final['console_sessions']!s:>12}")
    print(f"{'console connections in AUTH':40} {start['console_auth_pending']!s:>12} {final['console_auth_pending']!s:>12}")
    print(f"{'arena bytes used, all tasks':40} {start['arena_used_total']:>12} {final['arena_used_total']:>12}")
    for label in sorted(set(start["tasks"]) & set(final["tasks"])):
        print(f"{'  ' + label:40} {start['tasks'][label]['arena_used']:>12} {final['tasks'][label]['arena_used']:>12}")
    print(f"{'firmware RSS KiB':40} {start['rss_kb']:>12} {final['rss_kb']:>12}")
    if start["cpu_ms"] is not None:
        busy = (final["cpu_ms"] - start["cpu_ms"]) / 1000 / (args.minutes * 60) * 100
        result["firmware_cpu_percent"] = round(busy, 1)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"{'firmware CPU over the run, % of one CPU':40} {'':>12} {busy:>12.1f}")
    print()
    print(f"legit PINGs {lg['pings']}: p50 {lg['ping_p50_ms']} ms, p99 {lg['ping_p99_ms']} ms, max {lg['ping_max_ms']} ms; "
          f"fresh AUTH+ATTACH+PING sessions ok {lg['fresh_sessions_ok']}, p99 {lg['fresh_session_p99_ms']} ms, "
          f"max {lg['fresh_session_max_ms']} ms; errors {lg['errors']}")
    print("attacks:", json.dumps(result["attacks"], sort_keys=True))
    for e in lg["first_errors"]:
        print("  error:", e)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
