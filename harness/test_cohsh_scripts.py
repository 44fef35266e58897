"""The operator transcript through `cohsh --script` files with EXPECT lines, against the booted dev image; exit codes; `cohsh test`."""
import json

import pytest

from opskit import SCRIPTS, boot_dev, cohsh, explain, script


@pytest.fixture
def port():
    sim = boot_dev()
    yield sim.port
    sim.kill()


@pytest.mark.parametrize("name", ["attach_ping.coh", "ls_cat.coh", "tail_log.coh", "spawn_kill.coh", "lifecycle.coh"])
def test_transcript_scenario_passes_its_expects(port, name):
    r = script(port, name)
    assert r.returncode == 0, explain(r)
    assert "[console] OK ATTACH role=queen" in r.stdout
    assert "script failure" not in r.stdout + r.stderr


def test_spawn_kill_output_shows_heartbeats_and_the_log_lines(port):
    r = script(port, "spawn_kill.coh")
    assert r.returncode == 0, explain(r)
    assert '"tick":' in r.stdout, "the worker's ring had heartbeats after 1.5 s"
    for line in ("spawned worker-1 ticks=100 ttl=60 ops=1000", "killed worker-1", "revoked worker-1: killed by queen",
                 "spawned worker-2 ticks=1", "killed worker-2"):
        assert line in r.stdout, f"{line!r} in the log\n{r.stdout}"


def test_cat_prints_the_file_and_ping_prints_pong(port):
    r = script(port, "ls_cat.coh")
    assert '{"id":"GPU-0","name":"Mock 4090","memory_mb":24576' in r.stdout
    assert "\nstate=ONLINE\n" in r.stdout
    r = script(port, "attach_ping.coh")
    assert "ping: pong" in r.stdout


def test_failing_expect_exits_1_with_the_failure_text(port):
    r = script(port, "failing_expect.coh")
    assert r.returncode == 1, explain(r)
    out = r.stdout + r.stderr
    assert "script failure at line 2: EXPECT SUBSTR this-is-not-in-the-reply" in out
    assert "last command: ping" in out and "last response: OK PING reply=pong" in out


def test_failing_command_without_expect_exits_1(port):
    r = script(port, "cat /no/such/file\nping\n")
    assert r.returncode == 1, explain(r)
    assert "reason: command failed" in r.stdout + r.stderr


def test_refused_auth_in_script_mode_exits_1(port):
    r = cohsh("--tcp-port", str(port), "--auth-token", "nope", "--role", "queen", "--script", str(SCRIPTS / "attach_ping.coh"))
    assert r.returncode == 1, explain(r)
    assert "auth failed" in r.stdout + r.stderr


def test_usage_errors_exit_2():
    r = cohsh("--script")
    assert r.returncode == 2, explain(r)
    r = cohsh("--check", str(SCRIPTS / "bad_syntax.coh"))
    assert r.returncode != 0, explain(r)
    assert "line 1" in r.stdout + r.stderr
    r = cohsh("--check", str(SCRIPTS / "spawn_kill.coh"))
    assert r.returncode == 0 and f"check ok: {SCRIPTS / 'spawn_kill.coh'}" in r.stdout, explain(r)


def test_connection_refused_exits_1_with_a_clear_message():
    from opskit import free_port
    r = script(free_port(), "attach_ping.coh")
    assert r.returncode == 1, explain(r)
    assert "refused" in (r.stdout + r.stderr).lower()


@pytest.mark.parametrize("mode", ["quick", "full"])
def test_cohsh_test_passes_against_the_firmware(port, mode):
    r = script(port, f"test --mode {mode}\n")
    assert r.returncode == 0, explain(r)
    assert f"selftest PASS mode={mode}" in r.stdout, r.stdout
    assert "FAIL -" not in r.stdout


def test_cohsh_test_json_and_no_mutate(port):
    r = script(port, "test --mode full --json --no-mutate\n")
    assert r.returncode == 0, explain(r)
    doc = json.loads(next(l for l in r.stdout.splitlines() if l.startswith("{")))
    assert doc["ok"] is True and doc["mode"] == "full" and doc["version"] == "1"
    names = [c["name"] for c in doc["checks"]]
    assert not any(": spawn " in n or ": kill " in n for n in names), f"no-mutate skips spawn/kill: {names}"
    r = script(port, "ls /worker\nEXPECT SUBSTR entries=0\n")
    assert r.returncode == 0, explain(r)
