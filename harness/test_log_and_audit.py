# Issue 13 bugs 9 and 10 against the booted board: rings evict whole records, wrap notices are per worker and bounded, every refusal is on the record, floods are summarised.
"""The log ring and the audit lines (docs/ninedoor.md "Audit lines").

Bug 9: TAIL of a wrapped ring began with a fragment of a record, and after a while every retained
line of /log/queen.log was an `[audit] telemetry ring wrap ...` line that did not name the worker.
Bug 10: refused escalation attempts left nothing in /log/queen.log or the firmware log.
"""
from __future__ import annotations

import re
import time

from hivekit import AUTH_TOKEN, REPO
from hive_ops import EACCES, EINVAL, EPERM, Errno, Ninep, Operator, boot_board
from ninep_server import mint_ticket

SPAWN = '{"spawn":"heartbeat","ticks":1000}'
LIMITS = (REPO / "js" / "ninedoor" / "limits.ts").read_text()


def limit(name: str) -> int:
    """A bound from js/ninedoor/limits.ts, so the test follows the code instead of copying numbers."""
    return int(re.search(rf"export const {name} = (\d+);", LIMITS).group(1))


def queen_log(sim) -> list[str]:
    """/log/queen.log read whole over 9P as the (dev, ticketless) queen."""
    n = Ninep(sim.ninep_port)
    n.version()
    assert not isinstance(n.attach(0, "", uname="queen"), Errno)
    assert not isinstance(n.walk(0, 1, ["log", "queen.log"]), Errno)
    assert not isinstance(n.lopen(1, 0), Errno)
    data, off = b"", 0
    while True:
        chunk = n.read(1, 4096, off)
        assert not isinstance(chunk, Errno), chunk
        if not chunk:
            break
        data += chunk
        off += len(chunk)
    n.close()
    return data.decode().splitlines()


def refusals(lines: list[str]) -> list[str]:
    return [l for l in lines if l.startswith("[audit] refused ")]


def spawn_workers(sim, count: int) -> Operator:
    q = Operator(sim.port)
    q.auth_attach()
    for _ in range(count):
        assert q.request(f"SPAWN {SPAWN}") == [f"OK SPAWN payload={SPAWN}"]
    assert q.ls("/worker") == [f"worker-{i + 1}" for i in range(count)]
    return q


RECORD = re.compile(r'^(rec-\d+-x*|\{"tick":\d+,"ts_ms":\d+\})$')


def test_log_ring_evicts_whole_records(hive):
    sim = boot_board(hive, ninep=True, uart="none")
    q = spawn_workers(sim, 1)
    # Records of uneven length wrap the 1 KiB ring many times at varying byte offsets.
    for i in range(120):
        r = q.request(f"ECHO /worker/worker-1/telemetry rec-{i}-{'x' * (i * 7 % 61)}")
        assert r[0].startswith("OK ECHO"), r
        if i % 10 == 9:
            t = q.request("TAIL /worker/worker-1/telemetry")
            assert t[0] == "OK TAIL path=/worker/worker-1/telemetry" and t[-1] == "END", t
            for line in t[1:-1]:
                assert RECORD.match(line), f"TAIL began with a fragment or cut a record: {line!r} in {t}"
    # A 9P reader that rewinds to the base after a stale read starts with a whole record too.
    n = Ninep(sim.ninep_port)
    n.version()
    assert not isinstance(n.attach(0, "", uname="queen"), Errno)
    assert not isinstance(n.walk(0, 1, ["worker", "worker-1", "telemetry"]), Errno)
    assert not isinstance(n.lopen(1, 0), Errno)
    assert n.read(1, 64, 0) == Errno(EINVAL)  # below base: stale (spec §10.1); the rewind goes to a record start
    tail = q.request("TAIL /worker/worker-1/telemetry")[1:-1]
    assert tail and all(RECORD.match(l) for l in tail), tail


def test_telemetry_wrap_notices_are_aggregated_and_name_the_worker(hive):
    sim = boot_board(hive, ninep=True, uart="none")
    q = spawn_workers(sim, 2)
    assert q.request("ECHO /log/queen.log operator: before the wraps")[0].startswith("OK ECHO")
    appends = 300  # each append past the first ~10 wraps its ring: ~290 wraps per worker
    started = time.monotonic()
    for i in range(appends):
        for w in ("worker-1", "worker-2"):
            assert q.request(f"ECHO /worker/{w}/telemetry rec-{i}-{'x' * 90}")[0].startswith("OK ECHO")
    assert q.request("ECHO /log/queen.log operator: after the wraps")[0].startswith("OK ECHO")
    windows = 1 + int(time.monotonic() - started) * 1000 // limit("RING_WRAP_NOTICE_INTERVAL_MS")
    log = queen_log(sim)
    assert "operator: before the wraps" in log and "operator: after the wraps" in log, log[-20:]
    wraps = [l for l in log if l.startswith("[audit] telemetry ring wrap ")]
    for w in ("worker-1", "worker-2"):
        mine = [l for l in wraps if f" worker={w} " in l]
        assert mine, f"no wrap line names {w}: {wraps}"
        # One line per worker per interval (the interval the heartbeats began in may add one).
        assert len(mine) <= windows + 1, mine
        assert all(re.search(r"dropped_bytes=\d+ new_base=\d+ worker=worker-\d wraps=\d+$", l) for l in mine), mine
    assert all(" worker=" in l for l in wraps), "every wrap line names its worker"
    sim.expect_log(r"\[ninedoor\] \[audit\] telemetry ring wrap dropped_bytes=\d+ new_base=\d+ worker=worker-2 wraps=1\n",
                   what="the wrap line in the firmware log")


def test_every_refusal_leaves_an_audit_line(hive):
    sim = boot_board(hive, ninep=True, uart="none")
    spawn_workers(sim, 2)
    w1 = mint_ticket("worker-heartbeat", "worker-1")
    forged = mint_ticket("queen", "mallory", secret="not-the-secret")
    expired = mint_ticket("worker-heartbeat", "worker-1", ttl_s=1, issued_ms=int(time.time() * 1000) - 60_000)

    n = Ninep(sim.ninep_port)
    n.version()
    assert n.attach(0, forged) == Errno(EACCES)
    assert n.attach(0, expired) == Errno(EACCES)
    assert not isinstance(n.attach(0, w1), Errno)
    assert n.walk(0, 1, ["worker", "worker-1", "..", "..", "queen", "ctl"]) == Errno(EINVAL)
    assert n.walk(0, 1, ["worker", "worker-2", "telemetry"]) == Errno(EPERM)
    assert n.walk(0, 1, ["queen", "ctl"]) == Errno(EPERM)
    n.close()

    c = Operator(sim.port)
    assert c.request("AUTH " + "x" * len(AUTH_TOKEN)) == ["ERR AUTH reason=invalid-token"]
    c.close()
    c = Operator(sim.port)
    assert c.request(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    assert c.request(f"ATTACH queen {forged}") == ["ERR ATTACH reason=policy detail=denied"]
    c.close()

    # Console refusals reach NineDoor as door commands: wait for the last one before reading the log.
    sim.expect_log(r"\[audit\] refused src=console op=attach ", what="the console ATTACH refusal")
    lines = refusals(queen_log(sim))
    expect = [
        r"src=9p op=attach role=queen subject=- path=/ reason=ticket-rejected",
        r"src=9p op=attach role=worker-heartbeat subject=- path=/ reason=ticket-expired",
        r"src=9p op=walk role=worker-heartbeat subject=worker-1 path=- reason=traversal",
        r"src=9p op=walk role=worker-heartbeat subject=worker-1 path=/shard/1c reason=permission",
        r"src=9p op=walk role=worker-heartbeat subject=worker-1 path=/queen reason=permission",
        r"src=console op=auth role=- subject=tcp:127\.0\.0\.1:\d+#\d+ path=- reason=invalid-token",
        r"src=console op=attach role=queen subject=tcp:127\.0\.0\.1:\d+#\d+ path=- reason=denied",
    ]
    assert len(lines) == len(expect), "\n".join(lines)
    for pattern, line in zip(expect, lines):
        assert re.fullmatch(r"\[audit\] refused " + pattern, line), (pattern, line)
        sim.expect_log(re.escape(line) + r"\n", what="the refusal in the firmware log")


def test_refusal_flood_is_summarised_and_operator_lines_survive(hive):
    sim = boot_board(hive, ninep=True, uart="none")
    q = spawn_workers(sim, 1)
    assert q.request("ECHO /log/queen.log operator: before the flood")[0].startswith("OK ECHO")
    n = Ninep(sim.ninep_port)
    n.version()
    assert not isinstance(n.attach(0, mint_ticket("worker-heartbeat", "worker-1")), Errno)
    flood = 2000
    for _ in range(flood):
        assert n.walk(0, 1, ["queen", "ctl"]) == Errno(EPERM)
    log = queen_log(sim)
    assert "operator: before the flood" in log
    written = refusals(log)
    assert 1 <= len(written) < flood // 10, f"rate-bounded: {len(written)} lines for {flood} refusals"

    audit_bytes = sum(len(l) + 1 for l in log if l.startswith("[audit] "))
    assert audit_bytes <= limit("QUEEN_LOG_AUDIT_BYTES_MAX")
    # The interval ends; the next refusal brings the summary of what was held back.
    time.sleep(limit("AUDIT_INTERVAL_MS") / 1000 + 0.5)
    assert n.walk(0, 1, ["queen", "ctl"]) == Errno(EPERM)
    log = queen_log(sim)
    summaries = [l for l in log if l.startswith("[audit] refusals suppressed ")]
    assert summaries, log[-10:]
    assert all(re.fullmatch(r"\[audit\] refusals suppressed count=\d+ src=9p op=walk reason=permission interval_ms=\d+", l)
               for l in summaries), summaries
    counted = sum(int(re.search(r"count=(\d+)", l).group(1)) for l in summaries)
    assert counted + len(refusals(log)) == flood + 1, (counted, refusals(log))
    assert "operator: before the flood" in log
    assert q.request("ECHO /log/queen.log operator: after the flood")[0].startswith("OK ECHO")
    assert "operator: after the flood" in queen_log(sim)
