# test_hive_operator: the board hive driven by an operator over the TCP console: spawn, telemetry, ttl revocation, kill, lifecycle gate.
"""One operator transcript against build/images/dev.img (boards/host/manifest.json), bounded at
about 10 s: the ttl of the short worker (2 s) and the first heartbeats (1 s interval) set its pace."""
import re
import time

import pytest

from hive_ops import Operator, boot_board

SHORT = '{"spawn":"heartbeat","ticks":100,"budget":{"ttl_s":2,"ops":100}}'
LONG = '{"spawn":"heartbeat","ticks":100}'
# worker-heart beats every 1000 ms (HEARTBEAT_INTERVAL_MS_DEFAULT); the first record comes after one interval.
FIRST_BEAT_TIMEOUT_S = 3.0
# The short worker's ttl is 2 s; root-task's ttl timer and NineDoor's check fire within a pump tick or two.
TTL_REVOKE_TIMEOUT_S = 4.0
POLL_S = 0.1
BEAT_RE = re.compile(r'^\{"tick":(\d+),"ts_ms":(\d+)\}$')


def wait_beats(op: Operator, worker: str, timeout_s: float = FIRST_BEAT_TIMEOUT_S) -> list[str]:
    """TAIL the worker's ring until it holds a heartbeat record; returns the records."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = op.request(f"TAIL /worker/{worker}/telemetry")
        assert r[0] == f"OK TAIL path=/worker/{worker}/telemetry" and r[-1] == "END", r
        if len(r) > 2:
            assert all(BEAT_RE.match(x) for x in r[1:-1]), r
            return r[1:-1]
        assert time.monotonic() < deadline, f"no heartbeat of {worker} within {timeout_s} s"
        time.sleep(POLL_S)


def pressure(op: Operator) -> dict[str, int]:
    out = {}
    for name in ("busy", "quota", "cut", "policy"):
        k, v = op.cat_value(f"/proc/pressure/{name}").split("=")
        assert k == name
        out[name] = int(v)
    return out


def test_operator_spawns_tails_watches_ttl_revoke_kills_and_cordons(hive):
    sim = boot_board(hive)
    op = Operator(sim.port)
    op.auth_attach()
    assert op.cat_value("/proc/lifecycle/state") == "state=ONLINE"
    assert op.cat_value("/proc/lifecycle/reason") == "reason=boot-complete"
    assert op.cat_value("/proc/root/reachable") == "reachable=yes"
    assert op.cat_value("/proc/root/cut_reason") == "cut_reason=none"
    seen0 = int(op.cat_value("/proc/root/last_seen_ms").split("=")[1])
    p0 = pressure(op)
    assert op.ls("/worker") == []

    # Two heartbeat workers with different ttls.
    assert op.request(f"SPAWN {SHORT}") == [f"OK SPAWN payload={SHORT}"]
    assert op.request(f"SPAWN {LONG}") == [f"OK SPAWN payload={LONG}"]
    sim.expect_log(r"\[ninedoor\] spawned worker-1 ticks=100 ttl=2 ops=100\n", what="worker-1 spawn line")
    sim.expect_log(r"\[ninedoor\] spawned worker-2 ticks=100 ttl=300 ops=10000\n", what="worker-2 spawn line")
    assert op.ls("/worker") == ["worker-1", "worker-2"]
    assert op.ls("/worker/worker-1") == ["telemetry"]
    # Their telemetry, through NineDoor, as the console's bounded snapshot.
    assert int(BEAT_RE.match(wait_beats(op, "worker-1")[0]).group(1)) == 1
    assert int(BEAT_RE.match(wait_beats(op, "worker-2")[0]).group(1)) == 1

    # The short one is revoked by its ttl with the spec's line; the long one beats on.
    sim.expect_log(r"\[ninedoor\] revoked worker-1: ticket ttl expired\n", TTL_REVOKE_TIMEOUT_S,
                   what="ttl revocation of worker-1")
    assert op.ls("/worker") == ["worker-2"]
    # One reply per outcome (issue 13 bug 4): the refusal alone, no OK TAIL before it.
    assert op.request("TAIL /worker/worker-1/telemetry") == [
        "ERR TAIL reason=policy detail=invalid-path path=/worker/worker-1/telemetry error=invalid path"]
    assert "label=worker-1 " not in sim.uart_command("tasks"), "the revoked worker's task is gone"

    # KILL the other: ACK, then the two lines of spec §7, and the task and its arena are gone.
    mark = sim.log.mark()
    assert op.request("KILL worker-2") == ["OK KILL id=worker-2"]
    sim.expect_log(r"\[ninedoor\] killed worker-2\n\[ninedoor\] revoked worker-2: killed by queen\n", start=mark,
                   what="kill lines of worker-2")
    assert op.ls("/worker") == []
    tasks = sim.uart_command("tasks")
    assert "[tasks] total=3 workers=0" in tasks, tasks
    log = op.request("LOG")
    assert log[0] == "OK LOG" and log[-1] == "END", log
    want = ["spawned worker-1 ticks=100 ttl=2 ops=100", "spawned worker-2 ticks=100 ttl=300 ops=10000",
            "revoked worker-1: ticket ttl expired", "killed worker-2", "revoked worker-2: killed by queen"]
    assert [x for x in log[1:-1] if x in want] == want, log

    # Lifecycle: cordon closes new-work; spawn is refused after its ACK with the gate line; resume reopens it.
    assert op.request("ECHO /queen/lifecycle/ctl cordon") == ["OK ECHO path=/queen/lifecycle/ctl bytes=6"]
    assert op.cat_value("/proc/lifecycle/state") == "state=DRAINING"
    assert op.cat_value("/proc/lifecycle/reason") == "reason=cordon"
    mark = sim.log.mark()
    assert op.request(f"SPAWN {LONG}") == [f"OK SPAWN payload={LONG}"]
    assert op.line() == "ERR SPAWN reason=policy detail=denied error=EPERM"
    sim.expect_log(r"\[ninedoor\] lifecycle denied action=new-work state=DRAINING reason=gate-denied\n", start=mark,
                   what="the gate line")
    assert op.ls("/worker") == []
    assert op.request("ECHO /queen/lifecycle/ctl drain") == ["OK ECHO path=/queen/lifecycle/ctl bytes=5"]
    assert op.cat_value("/proc/lifecycle/state") == "state=QUIESCED"
    assert op.request("ECHO /queen/lifecycle/ctl resume") == ["OK ECHO path=/queen/lifecycle/ctl bytes=6"]
    assert op.cat_value("/proc/lifecycle/state") == "state=ONLINE"
    assert op.cat_value("/proc/lifecycle/reason") == "reason=resume"
    sim.expect_log(r"(?s)lifecycle transition old=ONLINE new=DRAINING reason=cordon\n.*"
                   r"lifecycle transition old=DRAINING new=QUIESCED reason=drain\n.*"
                   r"lifecycle transition old=QUIESCED new=ONLINE reason=resume\n", what="transition lines")

    # Spawn works again; the id is never reused, and the new worker beats (its link endpoint is one a
    # revoked worker held before: see js/ninedoor/task.ts onLink).
    assert op.request(f"SPAWN {LONG}") == [f"OK SPAWN payload={LONG}"]
    assert op.quiet(0.2) == []
    sim.expect_log(r"\[ninedoor\] spawned worker-3 ticks=100 ttl=300 ops=10000\n", what="worker-3 spawn line")
    assert op.ls("/worker") == ["worker-3"]
    wait_beats(op, "worker-3")

    # /proc stays true: the two refusals (TAIL of the revoked worker, the gated SPAWN) counted under policy,
    # nothing else; the root reachable, seen lately.
    p1 = pressure(op)
    assert p1 == {**p0, "policy": p0["policy"] + 2}, (p0, p1)
    assert op.cat_value("/proc/root/reachable") == "reachable=yes"
    assert op.cat_value("/proc/root/cut_reason") == "cut_reason=none"
    assert int(op.cat_value("/proc/root/last_seen_ms").split("=")[1]) > seen0
    assert op.request("QUIT") == ["OK QUIT"]


def test_worker_spawned_after_a_ttl_revocation_attaches_and_beats(hive):
    """Regression: a worker linked on the channel endpoint a revoked worker held got EBADF at Tversion
    ('heartbeat stopped after 0 ticks: attach refused: Tversion refused: errno 9')."""
    sim = boot_board(hive)
    op = Operator(sim.port)
    op.auth_attach()
    short = '{"spawn":"heartbeat","ticks":100,"budget":{"ttl_s":1,"ops":100}}'
    assert op.request(f"SPAWN {short}") == [f"OK SPAWN payload={short}"]
    sim.expect_log(r"\[ninedoor\] revoked worker-1: ticket ttl expired\n", TTL_REVOKE_TIMEOUT_S, what="ttl revocation")
    assert op.request(f"SPAWN {LONG}") == [f"OK SPAWN payload={LONG}"]
    wait_beats(op, "worker-2")
    assert "attach refused" not in sim.log.text(), sim.describe()


# Console TAIL/CAT read a ring from its base (getattr's data_version), so a wrapped ring still answers with
# its retained window (spec §10.2) while a 9P read below the base stays refused (§10.1).
def test_tail_of_a_wrapped_ring_returns_the_retained_window(hive):
    sim = boot_board(hive, uart="none")
    op = Operator(sim.port)
    op.auth_attach()
    assert op.request(f"SPAWN {LONG}") == [f"OK SPAWN payload={LONG}"]
    for i in range(12):  # 12 × 101 bytes > 1024: the ring wraps
        assert op.request(f"ECHO /worker/worker-1/telemetry {str(i).zfill(100)}")[0].startswith("OK ECHO")
    sim.expect_log(r"\[ninedoor\] \[audit\] telemetry ring wrap dropped_bytes=\d+ new_base=\d+ worker=worker-1 wraps=\d+\n", what="the wrap")
    r = op.request("TAIL /worker/worker-1/telemetry")
    assert r[0] == "OK TAIL path=/worker/worker-1/telemetry" and r[-1] == "END", r
    assert r[-2] == "11".zfill(100), r
