"""`npm run dev` (host/dev) on a temp copy of js/: a save hot-reloads worker-heart (new record text, tick carried on); a syntax error is reported and the old code runs on; Ctrl-C stops the hive."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from hivekit import REPO, Stream
from procs import stop_process
from opskit import explain, script

DEV = REPO / "build" / "tsc" / "host" / "dev" / "dev.js"
# The first build type-checks all of js/ (seconds, more on a busy machine); later ones are incremental.
FIRST_BUILD_TIMEOUT_S = 90
PUSH_TIMEOUT_S = 30
STOP_TIMEOUT_S = 12  # the launcher's own bound: 5 s per child
RECORD = "JSON.stringify({ tick, ts_ms"


@pytest.fixture
def src():
    """What --root needs, copied; node_modules linked. The checkout's js/ is never written."""
    d = Path(tempfile.mkdtemp(prefix="cohesix-dev-"))
    shutil.copytree(REPO / "js", d / "js", ignore=shutil.ignore_patterns("*.test.ts"))
    for f in ("tsconfig.json", "tsconfig.js.json", "rollup.config.mjs"):
        shutil.copy(REPO / f, d / f)
    (d / "node_modules").symlink_to(REPO / "node_modules")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def edit(path: Path, old: str, new: str) -> None:
    """Every occurrence: the heartbeat builds its record in two places (with and without NineDoor)."""
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new))


def telemetry(port: int) -> list[str]:
    r = script(port, "tail /worker/worker-1/telemetry\n")
    assert r.returncode == 0, explain(r)
    return [l for l in r.stdout.splitlines() if l.startswith("{")]


def wait_record(port: int, text: str, timeout_s: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = telemetry(port)
        if lines and text in lines[-1]:
            return lines
        time.sleep(0.3)
    raise AssertionError(f"no record with {text!r} within {timeout_s} s: {telemetry(port)[-3:]}")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_save_hot_reloads_worker_heart_and_a_syntax_error_leaves_the_old_code_running(src):
    main_ts = src / "js" / "workers" / "heart" / "main.ts"
    before = (REPO / "js" / "workers" / "heart" / "main.ts").read_text()
    log = src / "hive.log"
    p = subprocess.Popen(["node", str(DEV), "--root", str(src), "--only", "worker-heart", "--console-port", "0", "--9p-port", "0",
                         "--no-bridge", "--log", str(log)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         env=dict(os.environ, COHSH_CONSOLE_LOCK="0"))
    out = Stream(p.stdout, "dev")
    try:
        m = out.search(r"\[dev\] hive up: console 127\.0\.0\.1:(\d+)", 15)
        assert m, out.text()
        port = int(m.group(1))
        assert out.search(r"\[dev\] watching ", FIRST_BUILD_TIMEOUT_S), out.text()
        r = script(port, "spawn heartbeat ticks=100\n")
        assert r.returncode == 0, explain(r)
        wait_record(port, '"tick":')

        at = out.mark()
        edit(main_ts, RECORD, 'JSON.stringify({ tick, dev: "edited", ts_ms')
        m = out.search(r"\[dev\] worker-heart reloaded in [0-9.]+ ms \(save → live [0-9.]+ ms", PUSH_TIMEOUT_S, at)
        assert m, out.text(at)
        lines = wait_record(port, '"dev":"edited"')
        first_new = next(l for l in lines if '"dev":"edited"' in l)
        old = [l for l in lines if '"dev"' not in l]
        ticks = lambda l: int(re.search(r'"tick":(\d+)', l).group(1))  # noqa: E731
        assert ticks(first_new) == ticks(old[-1]) + 1, f"the tick counter carries on across the reload: {lines}"

        at = out.mark()
        edit(main_ts, "let tick = 0;", "let tick = ;")
        m = out.search(r"\[dev\] worker-heart NOT pushed: .*the hive runs the last good code", PUSH_TIMEOUT_S, at)
        assert m, out.text(at)
        assert out.search(r"main\.ts \(\d+:\d+\): TS\d+", 5, at), out.text(at)
        assert p.poll() is None, "the watcher lives on after a build error"
        last = ticks(telemetry(port)[-1])
        deadline = time.monotonic() + 5  # the heartbeat ticks every second
        while time.monotonic() < deadline and ticks(telemetry(port)[-1]) <= last:
            time.sleep(0.3)
        lines = telemetry(port)
        assert ticks(lines[-1]) > last and '"dev":"edited"' in lines[-1], f"the old (edited) code still beats: {lines[-3:]}"

        at = out.mark()
        edit(main_ts, "let tick = ;", "let tick = 0;")
        edit(main_ts, '"edited"', '"fixed"')
        assert out.search(r"\[dev\] worker-heart reloaded in ", PUSH_TIMEOUT_S, at), out.text(at)
        wait_record(port, '"dev":"fixed"')

        hive_pid = int(re.search(r"\[start\] hive pid=(\d+)", log.read_text()).group(1))
        p.send_signal(signal.SIGINT)
        assert p.wait(STOP_TIMEOUT_S) == 0, out.text()
        assert not alive(hive_pid), "Ctrl-C stops the hive the watcher started"
        assert log.read_text().rstrip().endswith("[start] stopped")
    finally:
        # SIGTERM first: the watcher stops the hive it started (a SIGKILL would orphan it).
        stop_process(p, STOP_TIMEOUT_S)
    assert (REPO / "js" / "workers" / "heart" / "main.ts").read_text() == before, "the checkout's sources are untouched"


def test_an_unknown_only_task_is_a_usage_error():
    r = subprocess.run(["node", str(DEV), "--only", "no-such-task"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--only names no task of" in r.stderr and "no-such-task" in r.stderr
