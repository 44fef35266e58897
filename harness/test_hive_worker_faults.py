# test_hive_worker_faults: a spawned worker that allocates forever or spins forever is killed and logged while the hive answers.
"""The board manifest with root-task's `worker_tasks.heartbeat` pointed at a misbehaving fixture
(harness/fixtures/hoard.js, spin.js), spawned by the queen through /queen/ctl. Bound: about 2 s each
(the hoard fills its 1 MiB arena in well under a second; the spin trips the 50 ms slice)."""
import re
import time

import pytest

from hivekit import FAULT_TIMEOUT_S
from hive_ops import Operator, board_manifest

WORKER_ARENA_BYTES = 1048576  # worker-heart's arena in boards/host/manifest.json
SPAWN = '{"spawn":"heartbeat","ticks":100}'
# While the worker misbehaves the operator keeps asking; each answer must come within this.
PROBE_REPLY_MAX_S = 1.0


def faulty_board(fixture: str) -> dict:
    m = board_manifest()
    m["image_id"] = f"faulty-{fixture}"
    root = next(t for t in m["tasks"] if t["name"] == "root-task")
    root["config"]["worker_tasks"]["heartbeat"] = fixture
    heart = next(t for t in m["tasks"] if t["name"] == "worker-heart")
    m["tasks"].append({**heart, "name": fixture, "config": {}})
    return m


@pytest.mark.parametrize("fixture,reason", [("hoard", "memory quota exceeded"), ("spin", "cpu budget exceeded")])
def test_faulting_worker_is_revoked_and_logged_while_ping_ls_and_uart_answer(image_builder, hive, fixture, reason):
    img = image_builder(faulty_board(fixture), fixtures=[fixture])
    sim = hive(img)
    op = Operator(sim.port)
    op.auth_attach()
    for n in (1, 2):
        mark = sim.log.mark()
        assert op.request(f"SPAWN {SPAWN}") == [f"OK SPAWN payload={SPAWN}"]
        # Probe the hive while the worker runs into its limit.
        deadline = time.monotonic() + FAULT_TIMEOUT_S
        while f"revoked worker-{n}: {reason}" not in sim.log.text(mark):
            assert time.monotonic() < deadline, f"worker-{n} not revoked within {FAULT_TIMEOUT_S} s\n{sim.describe()}"
            assert op.request("PING", timeout_s=PROBE_REPLY_MAX_S) == ["OK PING reply=pong"]
            assert op.request("LS /", timeout_s=PROBE_REPLY_MAX_S)[0] == "OK LS path=/ entries=8"
        fault = sim.expect_log(rf"\[worker-{n}\] task faulted: {'quota' if fixture == 'hoard' else 'cpu'} ", start=mark,
                               what="the firmware's fault line")
        if fixture == "hoard":
            assert re.search(rf"of {WORKER_ARENA_BYTES} arena bytes in use", sim.log.text(fault.start())), sim.describe()
        sim.expect_log(rf"\[ninedoor\] revoked worker-{n}: {reason}\n", start=mark, what="the revocation line")
        # Record, nodes and task are gone; the pump, NineDoor and the UART answer.
        assert op.ls("/worker") == []
        tasks = sim.uart_command("tasks")
        assert f"label=worker-{n} " not in tasks and "[tasks] total=3 workers=0" in tasks, tasks
        assert "OK PING reply=pong" in sim.uart_command("ping")
    log = op.request("LOG")
    assert [x for x in log if x.startswith("revoked")] == [f"revoked worker-1: {reason}", f"revoked worker-2: {reason}"]
    assert op.request("PING") == ["OK PING reply=pong"]
