# test_hive_ref_cohsh: the reference project's own prebuilt cohsh (a client we did not write) drives the board hive.
"""Runs only when COHESIX_REF_COHSH names the reference's `bin/cohsh` (AArch64 Linux, from
releases/Cohesix-0.3.0-alpha2-linux/ of the public lukeb-aidev/cohesix repository; never committed
here). Its client policy comes from COHESIX_REF_COHSH_POLICY, else `<bin>/../out/cohsh_policy.toml`
beside it in the release. On a non-AArch64 machine it runs under `qemu-aarch64 -L /usr/aarch64-linux-gnu`
(Debian qemu-user + libc6-arm64-cross). Bound: COHSH_TIMEOUT_S (about 8 s of it is the script's pauses)."""
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hive_ops import boot_board

COHSH_ENV = "COHESIX_REF_COHSH"
POLICY_ENV = "COHESIX_REF_COHSH_POLICY"
AARCH64_PREFIX = "/usr/aarch64-linux-gnu"
COHSH_TIMEOUT_S = 30.0
# Pause after each typed line, so replies come in order in the transcript.
LINE_PAUSE_S = 0.3
FIRST_BEATS_S = 2.5
RECONNECT_S = 1.5


def cohsh_argv(port: int) -> list[str]:
    binary = os.environ.get(COHSH_ENV)
    if not binary:
        pytest.skip(f"{COHSH_ENV} is not set (path to the reference release's bin/cohsh)")
    if not Path(binary).is_file():
        pytest.skip(f"{COHSH_ENV}={binary} is not a file")
    policy = os.environ.get(POLICY_ENV) or str(Path(binary).resolve().parent.parent / "out" / "cohsh_policy.toml")
    if not Path(policy).is_file():
        pytest.skip(f"no cohsh client policy at {policy} (set {POLICY_ENV})")
    runner: list[str] = []
    if platform.machine() not in ("aarch64", "arm64"):
        qemu = shutil.which("qemu-aarch64")
        if qemu is None or not Path(AARCH64_PREFIX).is_dir():
            pytest.skip("the AArch64 cohsh needs qemu-aarch64 and /usr/aarch64-linux-gnu (qemu-user, libc6-arm64-cross)")
        runner = [qemu, "-L", AARCH64_PREFIX]
    return [*runner, binary, "--transport", "tcp", "--tcp-port", str(port), "--auth-token", "changeme",
            "--role", "queen", "--policy", policy]


def test_reference_cohsh_attaches_pings_lists_cats_tails_spawns_and_reconnects(hive, tmp_path):
    sim = boot_board(hive)
    argv = cohsh_argv(sim.port)
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)})

    def type_(line: str) -> None:
        p.stdin.write(line + "\n")
        p.stdin.flush()
        time.sleep(LINE_PAUSE_S)

    try:
        for line in ("ping", "ls /", "cat /proc/lifecycle/state", "spawn heartbeat ticks=50 ttl_s=60"):
            type_(line)
        time.sleep(FIRST_BEATS_S)
        for line in ("ls /worker", "tail /worker/worker-1/telemetry", "echo from-ref-cohsh > /log/queen.log", "log",
                     "lifecycle cordon", "spawn heartbeat ticks=5", "lifecycle resume"):
            type_(line)
        out = sim.uart_command("restart tcp-console")
        assert "OK RESTART" in out, out
        for line in ("ping",):
            type_(line)
        time.sleep(RECONNECT_S)
        for line in ("ls /worker", "kill worker-1", "ls /worker", "quit"):
            type_(line)
        transcript, _ = p.communicate(input="", timeout=COHSH_TIMEOUT_S)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print(transcript)
    assert p.returncode == 0, transcript
    want = [
        "[console] OK AUTH", "[console] OK ATTACH role=queen",
        "[console] OK PING reply=pong", "ping: pong",
        "[console] OK LS path=/ entries=8",
        "[console] OK CAT path=/proc/lifecycle/state data=state=ONLINE",
        '[console] OK ECHO path=/queen/ctl bytes=', "[console] OK LS path=/worker entries=1",
        "[console] OK TAIL path=/worker/worker-1/telemetry", '{"tick":1,"ts_ms":',
        "[console] OK ECHO path=/log/queen.log bytes=14", "from-ref-cohsh",
        "[console] OK ECHO path=/queen/lifecycle/ctl bytes=6",
        "Error: echo failed: ERR ECHO reason=policy detail=denied path=/queen/ctl error=EPERM",
        "[console] OK ECHO path=/queen/lifecycle/ctl bytes=6",
        # The console restart: cohsh sees the close and reconnects to the same port by itself.
        "[cohsh][tcp] connection lost", "(connects=2)", "[console] OK AUTH",
    ]
    at = 0
    for w in want:
        i = transcript.find(w, at)
        assert i >= 0, f"missing (in order) {w!r} after offset {at}:\n{transcript}"
        at = i + len(w)
    # After the reconnect cohsh replays the command that hit the closed socket. Where that was a write
    # (EPIPE) it replays PING right after AUTH without ATTACH, then drops that connection at the next
    # command and attaches on a third; where it read EOF it re-attaches first. Either way both happen.
    ping = transcript.find("[console] OK PING reply=pong", at)
    attach = transcript.find("[console] OK ATTACH role=queen", at)
    assert ping >= 0 and attach >= 0, transcript
    at = max(ping, attach)
    for w in ("[console] OK LS path=/worker entries=1", "[console] OK ECHO path=/queen/ctl bytes=",
              "[console] OK LS path=/worker entries=0", "closing session"):
        i = transcript.find(w, at)
        assert i >= 0, f"missing (in order) {w!r} after offset {at}:\n{transcript}"
        at = i + len(w)
    log = sim.log.text()
    assert "spawned worker-1 ticks=50 ttl=60 ops=∞" in log
    assert "killed worker-1\n[ninedoor] revoked worker-1: killed by queen" in log
