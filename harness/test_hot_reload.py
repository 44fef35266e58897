# test_hot_reload: RELOAD on the booted board hive, as an operator does it: cohsh reload, raw console frames, the UART `tasks` list.
"""Hot reload (js/root-task/reload.ts, firmware/reload.c) proved on build/images/dev.img:

- a good bundle changes worker-heart's record text within one tick, keeps its tick counter (ticks
  strictly consecutive across the swap), its task id, and NineDoor's session count (nothing revoked);
- bundles that throw at the module top level, in main or in restore are rolled back: the old code
  beats on, same text, consecutive ticks;
- bytecode for another engine, a corrupt payload, root-task, an unknown target and out-of-order
  chunks are refused by name, and nothing changes;
- a release image refuses every RELOAD stage to anyone;
- a reload by manifest task name changes what later spawns run.

Variants of worker-heart are made from build/bundles/worker-heart.js by text edits and compiled with
cohc, as an operator would. Each test boots its own hive; beats come every 1000 ms, so each takes a
few seconds.
"""
from __future__ import annotations

import base64
import re
import subprocess
import time

import image_kit
import pytest
from hive_ops import Operator, board_manifest, boot_board
from hivekit import AUTH_TOKEN, BUNDLES, COHC, build_image, cohimg
from ninep_server import mint_ticket
from opskit import explain, script

# worker-heart's tick (HEARTBEAT_INTERVAL_MS_DEFAULT in js/workers/heart/main.ts).
BEAT_INTERVAL_MS = 1000
# Slack for a loaded 2-core machine on top of one interval: pump turns, the console round trip.
BEAT_SLACK_MS = 700
# Longest wait for the beats a test asks for: a few intervals.
BEATS_TIMEOUT_S = 6.0
POLL_S = 0.2
# Bytes of bytecode one RELOAD DATA line carries (RELOAD_CHUNK_BYTES_MAX in js/console/reload.ts).
CHUNK_BYTES = 168
SPAWN = '{"spawn":"heartbeat","ticks":100}'
# The record worker-heart writes, with an optional `note` that the variants add.
RECORD_RE = re.compile(r'^\{"tick":(\d+),(?:"note":"([a-z0-9]+)",)?"ts_ms":(\d+)\}$')

# Text edits of build/bundles/worker-heart.js; each must match, or the variant would test nothing.
RECORD_TEXT = "tick, ts_ms:"
MAIN_TEXT = "function main(caps, config) {"
RESTORE_TEXT = "restore: (s) => {"
SNAPSHOT_TEXT = "snapshot: () => (timer !== 0 ? { tick, msize: appender.msizeBytes() } : { tick }),"
SNAPSHOT_LOOPS_TEXT = "snapshot: () => ({ tick, toJSON() { for (;;) {} } }),"


# ---------------------------------------------------------------- variants of worker-heart


def compile_variant(tmp, name: str, edit, bundle: str = "worker-heart.js") -> bytes:
    src = (BUNDLES / bundle).read_text()
    out = edit(src)
    assert out != src, f"variant {name}: the edit matched nothing"
    js = tmp / f"{name}.js"
    js.write_text(out)
    qbc = tmp / f"{name}.qbc"
    r = subprocess.run([str(COHC), "-o", str(qbc), str(js)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"cohc {name}: {r.stderr}"
    return qbc.read_bytes()


def noted(src: str, note: str) -> str:
    return src.replace(RECORD_TEXT, f'tick, note: "{note}", ts_ms:')


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """name -> path of a .qbc: v2 (new text), the broken ones, and two forged from v2."""
    tmp = tmp_path_factory.mktemp("reload")
    made = {
        "v2": lambda s: noted(s, "v2"),
        # `bad` text too, so if one ever ran its records would show it.
        "top-throws": lambda s: noted(s, "bad").replace(MAIN_TEXT, 'throw new Error("top level of v3");\n' + MAIN_TEXT, 1),
        "main-throws": lambda s: noted(s, "bad").replace(MAIN_TEXT, MAIN_TEXT + ' throw new Error("main of v3");', 1),
        "restore-throws": lambda s: noted(s, "bad").replace(RESTORE_TEXT, RESTORE_TEXT + ' throw new Error("restore of v3");'),
        # Its snapshot() returns a value whose toJSON never returns: JSON text is made in the old
        # code, so that must be bounded by its CPU slice like snapshot() itself.
        "snapshot-loops": lambda s: noted(s, "loop").replace(SNAPSHOT_TEXT, SNAPSHOT_LOOPS_TEXT),
        # A getter named snapshot on the handle that never returns: even reading it is the task's code.
        "getter-loops": lambda s: noted(s, "getter").replace(SNAPSHOT_TEXT, "get snapshot() { for (;;) {} },"),
    }
    paths = {}
    for name, edit in made.items():
        paths[name] = tmp / f"{name}.qbc"
        paths[name].write_bytes(compile_variant(tmp, name, edit))
    # net-console whose main closes every listener id it can name, then throws: the old code's
    # listener is not the new code's to close, and the rollback must leave it as it was.
    closes = lambda s: s.replace("    const args = config.args;\n", "    const args = config.args;\n"
                                 "    for (let i = 1; i <= 8; i++) caps.net.closeListener(i);\n"
                                 '    throw new Error("net-console v3 closed listeners");\n', 1)
    paths["console-closes"] = tmp / "console-closes.qbc"
    paths["console-closes"].write_bytes(compile_variant(tmp, "console-closes", closes, "net-console.js"))
    v2 = paths["v2"].read_bytes()
    # Another engine build: only the fingerprint differs, and the header digest is recomputed so
    # the file is sound in every other way (cohsh's local check passes it).
    fp = bytearray(v2)
    at = image_kit.QBC_FINGERPRINT_OFFSET
    fp[at : at + image_kit.QBC_FINGERPRINT_BYTES] = bytes(b ^ 0x5A for b in fp[at : at + image_kit.QBC_FINGERPRINT_BYTES])
    paths["other-engine"] = tmp / "other-engine.qbc"
    paths["other-engine"].write_bytes(image_kit.reseal_qbc(bytes(fp)))
    # A flipped payload byte under the old digest: cohsh refuses it locally, so it goes raw.
    bad = bytearray(v2)
    bad[image_kit.QBC_HEADER_BYTES + 100] ^= 0x01
    paths["corrupt"] = tmp / "corrupt.qbc"
    paths["corrupt"].write_bytes(bytes(bad))
    return paths


# ---------------------------------------------------------------- the operator's view


def records(op: Operator, worker: str = "worker-1") -> list[dict]:
    r = op.request(f"TAIL /worker/{worker}/telemetry")
    assert r[0] == f"OK TAIL path=/worker/{worker}/telemetry" and r[-1] == "END", r
    out = []
    for line in r[1:-1]:
        m = RECORD_RE.match(line)
        assert m, f"not a heartbeat record: {line!r}"
        out.append({"tick": int(m.group(1)), "note": m.group(2), "ts_ms": int(m.group(3))})
    return out


def wait_records(op: Operator, pred, what: str, worker: str = "worker-1") -> list[dict]:
    deadline = time.monotonic() + BEATS_TIMEOUT_S
    while True:
        got = records(op, worker)
        if pred(got):
            return got
        assert time.monotonic() < deadline, f"no {what} within {BEATS_TIMEOUT_S} s: {got}"
        time.sleep(POLL_S)


def assert_consecutive(recs: list[dict]) -> None:
    assert [r["tick"] for r in recs] == list(range(1, len(recs) + 1)), recs


def worker_task(sim, label: str = "worker-1") -> tuple[str, str, str]:
    """(id, state) of `label` in the UART `tasks` list, and its total line."""
    listing = sim.uart_command("tasks")
    m = re.search(rf"\[tasks\] id=(\d+) label={label} task=worker-heart state=(\w+) ", listing)
    assert m, listing
    total = re.search(r"\[tasks\] total=(\d+) workers=(\d+)", listing)
    assert total, listing
    return m.group(1), m.group(2), total.group(0)


def active_sessions(op: Operator) -> str:
    return op.cat_value("/proc/9p/session/active")


def beating(hive):
    """The board hive with worker-1 beating (two records in), its queen console and its task line."""
    sim = boot_board(hive)
    op = Operator(sim.port)
    op.auth_attach()
    assert op.request(f"SPAWN {SPAWN}") == [f"OK SPAWN payload={SPAWN}"]
    wait_records(op, lambda r: len(r) >= 2, "two beats")
    return sim, op


def cohsh_reload(sim, target: str, path):
    """`cohsh reload` as queen: (exit code, the RELOAD ACK lines it printed, the run)."""
    r = script(sim.port, f"reload {target} {path}\n")
    acks = [l.removeprefix("[console] ") for l in r.stdout.splitlines() if "RELOAD" in l]
    return r.returncode, acks, r


def raw_upload(op: Operator, target: str, data: bytes, digest: str | None = None) -> list[str]:
    """BEGIN, every DATA in order, COMMIT as bare console lines; the ACK of each."""
    digest = digest or data[image_kit.QBC_DIGEST_OFFSET : image_kit.QBC_HEADER_BYTES].hex()
    acks = op.request(f"RELOAD BEGIN {target} {len(data)} {digest}")
    assert acks == [f"OK RELOAD stage=begin target={target} bytes={len(data)} chunk_max={CHUNK_BYTES}"], acks
    for off in range(0, len(data), CHUNK_BYTES):
        r = op.request(f"RELOAD DATA {off} {base64.b64encode(data[off : off + CHUNK_BYTES]).decode()}")
        assert r == [f"OK RELOAD stage=data received={min(off + CHUNK_BYTES, len(data))}"], r
    return op.request("RELOAD COMMIT")


def assert_old_code_beats_on(op: Operator, before: list[dict]) -> None:
    """Two more beats from the old code: old text, ticks consecutive from 1."""
    after = wait_records(op, lambda r: len(r) >= len(before) + 2, "two more beats")
    assert all(r["note"] is None for r in after), after
    assert_consecutive(after)


# ---------------------------------------------------------------- a good reload


def test_reload_changes_the_text_within_a_tick_and_keeps_tick_id_and_ninedoor_session(hive, variants):
    sim, op = beating(hive)
    task_before = worker_task(sim)
    sessions_before = active_sessions(op)
    log_mark = sim.log.mark()

    code, acks, r = cohsh_reload(sim, "worker-1", variants["v2"])
    committed_ms = time.time() * 1000
    assert code == 0, explain(r)
    assert acks[0] == f"OK RELOAD stage=begin target=worker-1 bytes={variants['v2'].stat().st_size} chunk_max={CHUNK_BYTES}", acks
    assert re.fullmatch(r"OK RELOAD stage=commit target=worker-1 tasks=1 restored=1 ms=\d+\.\d\d", acks[1]), acks

    recs = wait_records(op, lambda r: sum(x["note"] == "v2" for x in r) >= 2, "two v2 beats")
    old = [x for x in recs if x["note"] is None]
    new = [x for x in recs if x["note"] == "v2"]
    assert recs == old + new, f"old and new records interleave: {recs}"
    assert_consecutive(recs)
    # Within one tick: the first new record follows the commit by at most an interval, and no
    # beat was skipped between the last old one and it.
    assert new[0]["ts_ms"] <= committed_ms + BEAT_INTERVAL_MS + BEAT_SLACK_MS, (committed_ms, recs)
    assert new[0]["ts_ms"] - old[-1]["ts_ms"] <= 2 * BEAT_INTERVAL_MS + BEAT_SLACK_MS, recs

    # Same task id, still running, no task left behind; NineDoor holds as many sessions as before
    # and revoked nothing. (/proc/9p/session/active cannot tell a re-attach on the same link from
    # a resumed session: the hive exposes no per-session counter yet.)
    assert worker_task(sim) == task_before
    assert active_sessions(op) == sessions_before
    tid = task_before[0]
    sim.expect_log(rf"\[root-task\] reloaded worker-1 \(id {tid}\) in [\d.]+ ms, state restored \(\d+ bytes\)\n",
                   start=log_mark, what="root-task's reload line")
    log = sim.log.text(log_mark)
    assert "heartbeat stopped" not in log and "revoked" not in log, log


# ---------------------------------------------------------------- broken bytecode rolls back


@pytest.mark.parametrize("variant, error, logged", [
    # The answer carries what the new code threw; the log says it was the reload's new code, not the running task.
    ("top-throws", r"the new code failed to load: Error: top level of v3",
     r"\[worker-1\] reload: the new code threw: Error: top level of v3\n"),
    ("main-throws", r"main of the new code threw \(Error: main of v3\)",
     r"\[firmware\] reload of worker-1 \(id \d+\) rolled back: main of the new code threw \(Error: main of v3\)"),
    ("restore-throws", r"restore\(\) of the new code threw \(Error: restore of v3\)",
     r"\[firmware\] reload of worker-1 \(id \d+\) rolled back: restore\(\) of the new code threw \(Error: restore of v3\)"),
])
def test_broken_bytecode_is_rolled_back_and_the_old_code_beats_on(hive, variants, variant, error, logged):
    sim, op = beating(hive)
    task_before = worker_task(sim)
    sessions_before = active_sessions(op)
    log_mark = sim.log.mark()

    code, acks, r = cohsh_reload(sim, "worker-1", variants[variant])
    assert code != 0, explain(r)
    tid = task_before[0]
    assert re.fullmatch(rf"ERR RELOAD reason=policy detail=rolled-back error=reload of task {tid}: {error}", acks[-1]), acks
    sim.expect_log(logged, start=log_mark, what="why the reload failed")

    assert_old_code_beats_on(op, records(op))
    assert worker_task(sim) == task_before
    assert active_sessions(op) == sessions_before
    assert "heartbeat stopped" not in sim.log.text(log_mark)
    # The running task never faulted: only the reload's trial runtime did, and that is the answer above.
    assert "task faulted" not in sim.log.text(log_mark), sim.log.text(log_mark)


@pytest.mark.parametrize("variant, note, why", [
    # Its snapshot() never yields JSON text (a toJSON that loops), or reading snapshot off the
    # handle never returns (a getter): the CPU slice ends it. The old code faulted, as with a
    # snapshot() that loops (its supervisor decides); the reload is answered and the hive answers on.
    ("snapshot-loops", "loop", r"snapshot\(\) of the running code faulted"),
    ("getter-loops", "getter", r"reading snapshot of the running code faulted"),
])
def test_a_snapshot_that_never_ends_faults_the_old_code_and_the_hive_answers(hive, variants, variant, note, why):
    sim, op = beating(hive)
    tid = worker_task(sim)[0]
    code, acks, r = cohsh_reload(sim, "worker-1", variants[variant])
    assert code == 0, explain(r)
    wait_records(op, lambda r: any(x["note"] == note for x in r), f"a beat of the {variant} variant")
    code, acks, r = cohsh_reload(sim, "worker-1", variants["v2"])
    assert code != 0, explain(r)
    assert re.fullmatch(rf"ERR RELOAD reason=policy detail=rolled-back error=reload of task {tid}: "
                        rf"{why}: cpu slice of \d+ ms exhausted", acks[-1]), acks
    assert op.request("PING")[0].startswith("OK PING")
    sim.expect_log(r"\[worker-1\] task faulted: cpu", what="the old code's fault")


def test_new_code_closing_the_old_listener_is_rolled_back_with_the_listener_intact(hive, variants):
    sim, op = beating(hive)
    log_mark = sim.log.mark()
    code, acks, r = cohsh_reload(sim, "net-console", variants["console-closes"])
    assert code != 0, explain(r)
    assert re.search(r"detail=rolled-back error=.*main of the new code threw \(Error: net-console v3 closed listeners\)",
                     acks[-1]), acks
    # The old code's listener still accepts, and the session that was open goes on.
    assert op.request("PING")[0].startswith("OK PING")
    fresh = Operator(sim.port)
    fresh.auth_attach()
    assert fresh.request("PING")[0].startswith("OK PING")
    fresh.close()
    assert "task faulted" not in sim.log.text(log_mark), sim.log.text(log_mark)


# ---------------------------------------------------------------- refused before anything runs


def test_bytecode_for_another_engine_is_refused_and_nothing_changes(hive, variants):
    sim, op = beating(hive)
    task_before = worker_task(sim)
    code, acks, r = cohsh_reload(sim, "worker-1", variants["other-engine"])
    assert code != 0, explain(r)
    tid = task_before[0]
    assert acks[-1] == (f"ERR RELOAD reason=policy detail=refused error=reload of task {tid}: bytecode refused: "
                        "built by another engine configuration (fingerprint differs)"), acks
    assert_old_code_beats_on(op, records(op))
    assert worker_task(sim) == task_before


def test_raw_console_refusals_corrupt_payload_root_task_unknown_target_out_of_order(hive, variants):
    sim, op = beating(hive)
    task_before = worker_task(sim)
    tid = task_before[0]
    good = variants["v2"].read_bytes()
    digest = good[image_kit.QBC_DIGEST_OFFSET : image_kit.QBC_HEADER_BYTES].hex()

    # A corrupt payload under its header's digest: the firmware's SHA-256 check refuses it.
    assert raw_upload(op, "worker-1", variants["corrupt"].read_bytes()) == [
        f"ERR RELOAD reason=policy detail=refused error=reload of task {tid}: bytecode refused: sha256 mismatch (corrupted)"]
    # root-task holds the consoles.
    assert op.request(f"RELOAD BEGIN root-task {len(good)} {digest}") == [
        "ERR RELOAD reason=policy detail=not-reloadable target=root-task error=root-task holds the consoles: flash a new image instead"]
    # No such task or manifest task.
    assert op.request(f"RELOAD BEGIN worker-9 {len(good)} {digest}") == [
        "ERR RELOAD reason=policy detail=invalid-target target=worker-9"]
    # Out of order: the second chunk first, then a gap after the first.
    chunk = lambda off: base64.b64encode(good[off : off + CHUNK_BYTES]).decode()
    assert op.request(f"RELOAD BEGIN worker-1 {len(good)} {digest}")[0].startswith("OK RELOAD stage=begin")
    assert op.request(f"RELOAD DATA {CHUNK_BYTES} {chunk(CHUNK_BYTES)}") == [
        "ERR RELOAD reason=policy detail=out-of-order expected=0"]
    assert op.request(f"RELOAD DATA 0 {chunk(0)}") == [f"OK RELOAD stage=data received={CHUNK_BYTES}"]
    assert op.request(f"RELOAD DATA {2 * CHUNK_BYTES} {chunk(2 * CHUNK_BYTES)}") == [
        f"ERR RELOAD reason=policy detail=out-of-order expected={CHUNK_BYTES}"]
    # COMMIT of a partial upload is refused and drops the stage.
    assert op.request("RELOAD COMMIT") == [
        f"ERR RELOAD reason=policy detail=incomplete received={CHUNK_BYTES} bytes={len(good)}"]
    assert op.request("RELOAD COMMIT") == ["ERR RELOAD reason=policy detail=no-staged-reload"]

    assert_old_code_beats_on(op, records(op))
    assert worker_task(sim) == task_before


def test_a_worker_console_cannot_reload(hive, variants):
    sim, op = beating(hive)
    w = Operator(sim.port)
    w.auth_attach("worker-heartbeat", mint_ticket("worker-heartbeat", "worker-1"))
    digest = variants["v2"].read_bytes()[image_kit.QBC_DIGEST_OFFSET : image_kit.QBC_HEADER_BYTES].hex()
    assert w.request(f"RELOAD BEGIN worker-1 {variants['v2'].stat().st_size} {digest}") == [
        "ERR RELOAD reason=policy detail=unauthenticated"]
    w.close()


# ---------------------------------------------------------------- a release image


def test_release_image_refuses_every_stage_and_changes_nothing(hive, variants, tmp_path):
    cohimg("keygen", "--out", str(tmp_path / "owner"))
    manifest = board_manifest()
    manifest["profile"] = "release"
    manifest["tasks"][0]["config"]["allow_ticketless_queen"] = False
    queen_secret = manifest["tasks"][0]["config"]["tickets"]["queen"]
    img = build_image(tmp_path, manifest, name="release", key=tmp_path / "owner.key")
    sim = hive(img, extra=("--trust-key", str(tmp_path / "owner.pub")))
    op = Operator(sim.port)
    # Before any attach: the answer is the image's, not the role's.
    assert op.request(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    assert op.request("RELOAD ABORT") == ["ERR RELOAD reason=policy detail=release-image"]
    assert op.request(f"ATTACH queen {mint_ticket('queen', secret=queen_secret)}") == ["OK ATTACH role=queen"]
    assert op.request(f"SPAWN {SPAWN}") == [f"OK SPAWN payload={SPAWN}"]
    before = wait_records(op, lambda r: len(r) >= 1, "a beat")
    task_before = worker_task(sim)
    good = variants["v2"].read_bytes()
    digest = good[image_kit.QBC_DIGEST_OFFSET : image_kit.QBC_HEADER_BYTES].hex()
    for line in (f"RELOAD BEGIN worker-1 {len(good)} {digest}", f"RELOAD BEGIN worker-heart {len(good)} {digest}",
                 "RELOAD DATA 0 AAEC", "RELOAD COMMIT", "RELOAD ABORT"):
        assert op.request(line) == ["ERR RELOAD reason=policy detail=release-image"], line
    help_lines = op.request("HELP")
    assert not any(" reload" in l for l in help_lines), help_lines
    assert_old_code_beats_on(op, before)
    assert worker_task(sim) == task_before
    assert "reload" not in sim.log.text().replace("ERR RELOAD", ""), sim.log.text()


# ---------------------------------------------------------------- by manifest task name


def test_reload_by_task_name_swaps_running_instances_and_later_spawns_run_the_new_code(hive, variants):
    sim, op = beating(hive)
    code, acks, r = cohsh_reload(sim, "worker-heart", variants["v2"])
    assert code == 0, explain(r)
    assert re.fullmatch(r"OK RELOAD stage=commit target=worker-heart tasks=1 restored=1 ms=\d+\.\d\d", acks[-1]), acks
    wait_records(op, lambda r: any(x["note"] == "v2" for x in r), "a v2 beat of worker-1")
    assert op.request(f"SPAWN {SPAWN}") == [f"OK SPAWN payload={SPAWN}"]
    recs = wait_records(op, lambda r: len(r) >= 2, "two beats of worker-2", worker="worker-2")
    assert all(x["note"] == "v2" for x in recs), recs
    assert_consecutive(recs)


def test_reload_by_task_name_with_no_instance_only_changes_later_spawns(hive, variants):
    sim = boot_board(hive)
    op = Operator(sim.port)
    op.auth_attach()
    code, acks, r = cohsh_reload(sim, "worker-heart", variants["v2"])
    assert code == 0, explain(r)
    assert acks[-1] == "OK RELOAD stage=commit target=worker-heart tasks=0 restored=0 ms=0.00", acks
    assert op.request(f"SPAWN {SPAWN}") == [f"OK SPAWN payload={SPAWN}"]
    recs = wait_records(op, lambda r: len(r) >= 1, "a beat of worker-1")
    assert all(x["note"] == "v2" for x in recs), recs
