"""gpu-bridge-host --mock against the booted dev image: publish, /gpu, a lease from `spawn gpu`, a job QUEUED → RUNNING → OK,
the lease released on kill and on TTL, and corrupt publishes (wrong sha256, wrong byte count) that leave the old install and state=err."""
import base64
import hashlib
import json
import subprocess
import time

import pytest

from hivekit import REPO
from procs import stop_process
from opskit import BRIDGE, boot_dev, bridge, cohsh, explain, free_port, script, tool_env

APPEND = REPO / "harness" / "fixtures" / "ninep_append.mjs"
FOLLOW_INTERVAL_MS = 250
WAIT_S = 8
# The follower releases its leases on SIGTERM before it exits: more than a plain process needs.
FOLLOWER_STOP_TIMEOUT_S = 10
HASH = "sha256:" + "0" * 64


@pytest.fixture
def hive():
    ninep = free_port()
    sim = boot_dev(ninep_port=ninep)
    sim.ninep = ninep
    yield sim
    sim.kill()


@pytest.fixture
def follower(hive):
    """gpu-bridge-host --mock --interval-ms 250 following the hive; stopped with SIGTERM (it releases its leases)."""
    p = subprocess.Popen([str(BRIDGE), "--mock", "--interval-ms", str(FOLLOW_INTERVAL_MS), "--tcp-port", str(hive.port)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=tool_env())
    wait_for(lambda: "state=ok" in cat(hive.port, "/gpu/bridge/status"), "the first publish")
    yield p
    stop_process(p, FOLLOWER_STOP_TIMEOUT_S)


def run(port: int, text: str) -> str:
    r = script(port, text)
    assert r.returncode == 0, explain(r)
    return r.stdout


def cat(port: int, path: str) -> str:
    """The file's lines as cohsh printed them (ACK lines left out)."""
    r = script(port, f"cat {path}\nEXPECT NOT zzz\n")
    return "\n".join(l for l in r.stdout.splitlines() if not l.startswith("[console]") and not l.startswith("attached session"))


def wait_for(pred, what: str, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} never happened within {timeout} s")


def worker_ticket(worker: str) -> str:
    r = cohsh("--mint-ticket", "--role", "worker-gpu", "--ticket-subject", worker, "--ticket-secret", "worker-gpu")
    assert r.returncode == 0, explain(r)
    return r.stdout.strip().splitlines()[-1]


def append_job(hive, worker: str, gpu: str, job: dict) -> str:
    r = subprocess.run(["node", str(APPEND), str(hive.ninep), worker_ticket(worker), f"/gpu/{gpu}/job", json.dumps(job, separators=(",", ":"))],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, explain(r)
    return r.stdout.strip()


def vadd(job_id: str) -> dict:
    return {"job": job_id, "kernel": "vadd", "grid": [2, 1, 1], "block": [32, 1, 1], "bytes_hash": HASH,
            "inputs": ["a", "b"], "outputs": ["c"], "timeout_ms": 5000}


def statuses(port: int, gpu: str) -> list[str]:
    out = []
    for l in cat(port, f"/gpu/{gpu}/status").splitlines():
        if l.startswith("{"):
            s = json.loads(l)
            out.append(f"{s['job']} {s['state']} {s['detail']}")
    return out


def test_publish_once_then_ls_and_cat_info(hive):
    r = bridge("--mock", "--publish", "--tcp-port", str(hive.port))
    assert r.returncode == 0, explain(r)
    assert "published gpus=2" in r.stdout + r.stderr
    out = run(hive.port, "ls /gpu\nEXPECT SUBSTR entries=5\ncat /gpu/bridge/status\nEXPECT OK\ncat /gpu/GPU-0/info\nEXPECT OK\n"
                         "cat /gpu/models/active\nEXPECT SUBSTR vision-lora-edge\n")
    assert "\nstate=ok bytes=" in out
    for name in ("GPU-0", "GPU-1", "bridge", "models", "telemetry"):
        assert f"\n{name}\n" in out
    info = json.loads(next(l for l in out.splitlines() if l.startswith('{"id":"GPU-0"')))
    assert info["name"] == "Mock 4090" and info["memory_mb"] == 24576 and info["sm_count"] == 144


def test_lease_job_and_release_on_kill(hive, follower):
    run(hive.port, "spawn gpu gpu_id=GPU-0 mem_mb=1024 streams=2 ttl_s=60\nEXPECT OK\n")
    assert "LEASE worker-1 mem=1024 streams=2 priority=0" in cat(hive.port, "/gpu/GPU-0/ctl")
    lease = [json.loads(l) for l in cat(hive.port, "/gpu/GPU-0/lease").splitlines() if l.startswith("{")]
    assert lease[-1] == {"schema": "gpu-lease/v1", "state": "ACTIVE", "gpu_id": "GPU-0", "worker_id": "worker-1",
                         "mem_mb": 1024, "streams": 2, "ttl_s": 60, "priority": 0}
    # The holder submits a job over Secure9P with its ticket; the bridge runs it on the CPU and checks it.
    assert append_job(hive, "worker-1", "GPU-0", vadd("j1")).startswith("wrote ")
    wait_for(lambda: "j1 OK completed" in statuses(hive.port, "GPU-0"), "job j1 OK")
    assert statuses(hive.port, "GPU-0")[:3] == ["j1 QUEUED accepted", "j1 RUNNING scheduled", "j1 OK completed"]
    # A heartbeat worker's ticket cannot write jobs; nothing is kept.
    run(hive.port, "spawn heartbeat ticks=100\nEXPECT OK\n")
    assert append_job(hive, "worker-2", "GPU-0", vadd("x")).startswith("refused")
    assert '"job":"x"' not in cat(hive.port, "/gpu/GPU-0/job")
    run(hive.port, "kill worker-1\nEXPECT OK\n")
    assert "RELEASE worker-1 killed by queen" in cat(hive.port, "/gpu/GPU-0/ctl")
    assert "worker-1 LEASE-ENDED killed by queen" in statuses(hive.port, "GPU-0")
    assert '"state":"RELEASED"' in cat(hive.port, "/gpu/GPU-0/lease")
    # The GPU is free again.
    run(hive.port, "spawn gpu gpu_id=GPU-0 mem_mb=512 streams=1 ttl_s=60\nEXPECT OK\n")


def test_lease_released_on_ttl_by_the_bridge_and_the_holder_loses_job_writes(hive, follower):
    # The budget ttl outlives the lease, so the release is the bridge's (RELEASE ... ttl-expired) or root-task's lease ttl.
    run(hive.port, "spawn gpu gpu_id=GPU-1 mem_mb=256 streams=1 ttl_s=2 budget_ttl_s=60\nEXPECT OK\n")
    assert append_job(hive, "worker-1", "GPU-1", vadd("early")).startswith("wrote ")
    wait_for(lambda: any(s.startswith("worker-1 LEASE-ENDED") for s in statuses(hive.port, "GPU-1")), "the TTL release")
    ended = [s for s in statuses(hive.port, "GPU-1") if s.startswith("worker-1 LEASE-ENDED")]
    assert ended[0] in ("worker-1 LEASE-ENDED ttl-expired", "worker-1 LEASE-ENDED lease ttl expired"), ended
    assert "RELEASE worker-1" in cat(hive.port, "/gpu/GPU-1/ctl")
    wait_for(lambda: append_job(hive, "worker-1", "GPU-1", vadd("late")).startswith("refused Permission"), "job writes refused")
    assert "worker-1" in run(hive.port, "ls /worker\nEXPECT SUBSTR entries=1\n"), "the worker outlives its lease"


def test_gpu_job_with_bytes_hash_md5_or_a_hash_not_of_its_payload_is_refused_invalid(hive):
    """Issue 13 bug 11: such lines were kept (count returned). §11.4: bytes_hash is sha256:<64 hex> and
    payload_b64's SHA-256 must match it; otherwise Invalid, and nothing is kept for the bridge."""
    run(hive.port, "spawn gpu gpu_id=GPU-0 mem_mb=1024 streams=1 ttl_s=60\nEXPECT OK\n")
    md5 = append_job(hive, "worker-1", "GPU-0", {**vadd("md5"), "bytes_hash": "md5:00"})
    assert md5.startswith("refused Invalid"), md5
    mismatch = append_job(hive, "worker-1", "GPU-0", {**vadd("mismatch"), "payload_b64": base64.b64encode(b"abc").decode()})
    assert mismatch.startswith("refused Invalid"), mismatch
    kept = cat(hive.port, "/gpu/GPU-0/job")
    assert '"md5"' not in kept and '"mismatch"' not in kept, kept
    # The same holder's valid job is kept.
    assert append_job(hive, "worker-1", "GPU-0", vadd("good")).startswith("wrote ")
    assert '"job":"good"' in cat(hive.port, "/gpu/GPU-0/job")


def test_gpu_job_with_a_3_byte_payload_is_run_not_refused_bad_payload(hive, follower):
    """Issue 13 bug 11: the bridge refused it `invalid:bad-payload`, a rule §11.4 does not have."""
    run(hive.port, "spawn gpu gpu_id=GPU-0 mem_mb=1024 streams=1 ttl_s=60\nEXPECT OK\n")
    payload = b"\x01\x02\x03"
    job = {**vadd("three"), "payload_b64": base64.b64encode(payload).decode(), "bytes_hash": "sha256:" + hashlib.sha256(payload).hexdigest()}
    assert append_job(hive, "worker-1", "GPU-0", job).startswith("wrote ")
    wait_for(lambda: "three OK completed" in statuses(hive.port, "GPU-0"), "job three OK")
    assert not any(s.startswith("three ERR") for s in statuses(hive.port, "GPU-0"))


def test_bridge_publish_refused_by_a_closed_gate_reports_eperm_not_state_idle(hive):
    """Issue 13 bug 11: with host-publish closed (cordon → DRAINING) the bridge said
    `publish-failed: state=idle`; it must report the EPERM the hive answered."""
    run(hive.port, "echo cordon > /queen/lifecycle/ctl\nEXPECT OK\n")
    r = bridge("--mock", "--publish", "--tcp-port", str(hive.port))
    out = r.stdout + r.stderr
    assert r.returncode != 0, explain(r)
    assert "publish-failed" in out and "error=EPERM" in out, explain(r)
    assert "state=idle" not in out, explain(r)
    run(hive.port, "echo resume > /queen/lifecycle/ctl\nEXPECT OK\n")
    r = bridge("--mock", "--publish", "--tcp-port", str(hive.port))
    assert r.returncode == 0, explain(r)


def publish_lines(payload: bytes, declared_bytes: int, sha: str) -> str:
    b64 = base64.b64encode(payload).decode()
    chunks = [b64[i:i + 124] for i in range(0, len(b64), 124)]
    lines = [f"echo begin bytes={declared_bytes} sha256={sha} > /gpu/bridge/ctl", "EXPECT OK"]
    lines += [f"echo b64:{c} > /gpu/bridge/ctl\nEXPECT OK" for c in chunks]
    lines += ["echo end > /gpu/bridge/ctl", "EXPECT ERR", "cat /gpu/bridge/status", "EXPECT OK"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("corrupt", ["sha256", "bytes"])
def test_corrupt_publish_leaves_the_old_install_and_state_err(hive, corrupt):
    r = bridge("--mock", "--publish", "--tcp-port", str(hive.port))
    assert r.returncode == 0, explain(r)
    good_info = cat(hive.port, "/gpu/GPU-0/info")
    # A snapshot with one GPU renamed: installed, it would change GPU-0's info and drop GPU-1.
    payload = b"schema gpu-bridge-snapshot/v1\nnode id=GPU-0 info=" + base64.b64encode(b'{"id":"GPU-0","name":"Evil"}') + \
              b" ctl=" + base64.b64encode(b"LEASE GPU-0\n") + b" lease= status=\nactive id=none\ntelemetry schema=" + \
              base64.b64encode(b"{}") + b"\nend\n"
    sha = hashlib.sha256(payload).hexdigest()
    if corrupt == "sha256":
        text = publish_lines(payload, len(payload), "0" * 64)
    else:
        text = publish_lines(payload, len(payload) + 1, sha)
    out = run(hive.port, text)
    assert "state=err reason=" in out
    assert cat(hive.port, "/gpu/GPU-0/info") == good_info
    run(hive.port, "ls /gpu\nEXPECT SUBSTR entries=5\n")
