# test_hot_reload_ninedoor: NineDoor hot-reloaded under a live hive keeps its content and every session: console, workers, and a 9P client's fids over TCP.
"""Drives the board's dev image the way an operator would: the RELOAD verb spoken on the raw
console protocol (BEGIN, DATA chunks, COMMIT), a 9P2000.L client holding fids over TCP, and a
heartbeat worker appending to its ring. docs/hot-reload.md says what survives; this proves it.
"""
from __future__ import annotations

import base64
import json
import re
import time

import pytest

from hivekit import BUILD
from hive_ops import Ninep, Operator, boot_board

NINEDOOR_QBC = BUILD / "qbc" / "ninedoor.qbc"
SPAWN = '{"spawn":"heartbeat","ticks":100}'
SPAWN_GPU = '{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":512,"streams":1,"ttl_s":60}}'
LEASE_ACTIVE_RE = r"\[worker-2\] lease on GPU-0 active"

# RELOAD DATA carries 168 bytes a line (js/console/reload.ts: the line stays under 256 bytes).
CHUNK_BYTES = 168
O_RDONLY = 0
BEAT_WAIT_S = 5.0


def reload_over_console(op: Operator, target: str, blob: bytes) -> str:
    """Sends one RELOAD upload on an attached queen session; returns the COMMIT answer."""
    digest = blob[72:104].hex()
    begin = op.request(f"RELOAD BEGIN {target} {len(blob)} {digest}")
    assert begin[0].startswith(f"OK RELOAD stage=begin target={target} bytes={len(blob)}"), begin
    for off in range(0, len(blob), CHUNK_BYTES):
        chunk = base64.b64encode(blob[off:off + CHUNK_BYTES]).decode()
        r = op.request(f"RELOAD DATA {off} {chunk}")
        assert r == [f"OK RELOAD stage=data received={min(off + CHUNK_BYTES, len(blob))}"], r
    return op.request("RELOAD COMMIT")[0]


def ticks(op: Operator, worker: str) -> list[int]:
    r = op.request(f"TAIL /worker/{worker}/telemetry")
    assert r[0] == f"OK TAIL path=/worker/{worker}/telemetry" and r[-1] == "END", r
    return [json.loads(line)["tick"] for line in r[1:-1]]


def wait_ticks(op: Operator, worker: str, at_least: int) -> list[int]:
    deadline = time.monotonic() + BEAT_WAIT_S
    while True:
        t = ticks(op, worker)
        if len(t) >= at_least or time.monotonic() > deadline:
            return t
        time.sleep(0.2)


def read_file(nine: Ninep, fid: int, path: list[str]) -> bytes:
    assert isinstance(nine.walk(1, fid, path), bytes)
    assert isinstance(nine.lopen(fid, O_RDONLY), bytes)
    data = nine.read(fid, 8000)
    assert isinstance(data, bytes), data
    return data


def test_ninedoor_reload_keeps_content_console_workers_and_9p_fids(hive):
    if not NINEDOOR_QBC.exists():
        pytest.skip("build/qbc/ninedoor.qbc missing: run sh scripts/build.sh")
    sim = boot_board(hive, ninep=True)
    op = Operator(sim.wait_ready())
    op.auth_attach()
    assert op.request(f"ECHO /queen/ctl {SPAWN}")[0].startswith("OK ECHO")
    assert op.request(f"ECHO /queen/ctl {SPAWN_GPU}")[0].startswith("OK ECHO")
    sim.expect_log(LEASE_ACTIVE_RE, what="worker-2's lease line")
    assert op.request("ECHO /queen/telemetry/dev1/ctl {\"new\":\"segment\"}")[0].startswith("OK ECHO")
    assert op.request("ECHO /queen/telemetry/dev1/seg/seg-000001 ingest-record")[0].startswith("OK ECHO")
    assert op.request("ECHO /log/queen.log before-reload")[0].startswith("OK ECHO")
    before = wait_ticks(op, "worker-1", 2)
    assert before[:2] == [1, 2], before

    # A 9P client holding fids over TCP.
    nine = Ninep(sim.ninep_port)
    assert isinstance(nine.version(), bytes)
    assert isinstance(nine.attach(1, "queen"), bytes)
    assert b"before-reload" in read_file(nine, 2, ["log", "queen.log"])

    mark = sim.log.mark()
    answer = reload_over_console(op, "ninedoor", NINEDOOR_QBC.read_bytes())
    assert re.fullmatch(r"OK RELOAD stage=commit target=ninedoor tasks=1 restored=1 ms=[0-9.]+", answer), answer
    # Every session crossed: the console's, both workers' and the 9P client's.
    sim.expect_log(r"\[ninedoor\] reloaded: 2 workers, 4 sessions kept, 0 closed", start=mark, what="NineDoor's restore line")

    # The 9P client's open fid reads on, on the same connection, and sees what came after the reload.
    assert op.request("ECHO /log/queen.log after-reload")[0].startswith("OK ECHO")
    text = nine.read(2, 8000)
    assert isinstance(text, bytes) and b"before-reload" in text and b"after-reload" in text, text
    # A walk from its attach fid works too: the fid table crossed, not only the open file.
    assert b"state=ONLINE" in read_file(nine, 3, ["proc", "lifecycle", "state"])
    nine.close()

    # The same console session goes on, without ATTACH.
    assert op.cat_value("/proc/lifecycle/state") == "state=ONLINE"
    log = op.request("LOG")
    assert "before-reload" in log, log
    assert op.cat_value("/queen/telemetry/dev1/seg/seg-000001") == "ingest-record"
    # Nobody had to attach again.
    assert "attaching again" not in sim.log.text(mark), sim.log.text(mark)

    # The worker's session and ring crossed: ticks stay consecutive from 1.
    after = wait_ticks(op, "worker-1", len(before) + 2)
    assert after == list(range(1, len(after) + 1)), after
    assert len(after) >= len(before) + 2, (before, after)

    # A new 9P client sees the same content.
    again = Ninep(sim.ninep_port)
    assert isinstance(again.version(), bytes)
    assert isinstance(again.attach(1, "queen"), bytes)
    assert b"before-reload" in read_file(again, 2, ["log", "queen.log"])
    ring = read_file(again, 3, ["worker", "worker-1", "telemetry"])
    assert b'"tick":1,' in ring, ring
    again.close()
    op.close()
