"""Proof against 9P clients we did not write: diod's tools, Go hugelgupf/p9 and Python p9fs against NineDoor over TCP (spec §0 item 1).

Every test runs twice: against NineDoor on Node (host/node/ninedoor-serve) and against NineDoor in the
firmware (build/cohesix-sim --9p-port, the dev image, its workers real tasks spawned by root-task).
"""
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from ninep_server import BOOT_LINE, REPO, external_server, mint_ticket, start_ninedoor_firmware, start_ninedoor_node

# Every client run is bounded: a hang fails the test instead of stalling CI.
TOOL_TIMEOUT_S = 20
GO_BUILD_TIMEOUT_S = 300
LOG_LINE = "interop: hello from the harness"
ROOT_NAMES = ["gpu", "kmesg", "log", "proc", "queen", "shard", "trace", "worker"]
PROC_NAMES = ["9p", "boot", "lifecycle", "pressure", "root", "tests"]
# strerror texts the diod tools print for the errnos of spec §0.
EPERM_TEXT = "Operation not permitted"
EACCES_TEXT = "Permission denied"
ENOENT_TEXT = "No such file or directory"
EINVAL_TEXT = "Invalid argument"


# Heartbeat records the firmware's worker-heart task appends to its ring every tick (js/workers/heart).
HEARTBEAT_RECORD = re.compile(r'^\{"tick":\d+,"ts_ms":\d+\}$')
# A tick of the dev hive's heartbeat workers is 1000 ms; the wait for one is bounded.
HEARTBEAT_WAIT_S = 5
STARTERS = {"node": start_ninedoor_node, "firmware": start_ninedoor_firmware}


@pytest.fixture(params=sorted(STARTERS))
def server(request):
    """A fresh server per test, each holding heartbeat workers worker-1 and worker-2 and LOG_LINE in the log."""
    ext = external_server()
    if ext is not None:
        if request.param != "node":
            pytest.skip(f"COHESIX_NINEP_SERVER is set: one run against {ext.addr}")
        ext.log_text = LOG_LINE + "\n"
        yield ext
        return
    s = STARTERS[request.param](log_lines=[LOG_LINE])
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def tickets():
    """Worker tickets minted with the §8.3 dev secrets (and a few bad ones)."""
    return {
        "w1": mint_ticket("worker-heartbeat", "worker-1"),
        "forged": mint_ticket("worker-heartbeat", "worker-1", secret="not-the-secret"),
        "expired": mint_ticket("worker-heartbeat", "worker-1", ttl_s=1, issued_ms=0),
        "gpu_for_heartbeat": mint_ticket("worker-gpu", "worker-1"),
        "unknown_worker": mint_ticket("worker-heartbeat", "worker-99"),
    }


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, **kw)


# ---------------------------------------------------------------- diod tools

def diod_tool(name):
    """Debian puts the diod tools in /usr/sbin, which a non-root PATH may lack."""
    return shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)


needs_diod = pytest.mark.skipif(diod_tool("diodls") is None, reason="diod tools not installed (apt-get install diod)")


def diodls(server, aname, *paths, long=False):
    return run([diod_tool("diodls"), "-s", server.addr, "-a", aname] + (["-l"] if long else []) + list(paths))


def diodcat(server, aname, *paths):
    return run([diod_tool("diodcat"), "-s", server.addr, "-a", aname] + list(paths))


@needs_diod
def test_diodls_lists_root_proc_and_log_as_ticketless_queen(server):
    # diod's client library sends Tauth first (we answer ENOENT), then Tattach with uname '' and
    # n_uname = our uid, offering msize 65536 (it gets 8192).
    r = diodls(server, "queen", "/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ROOT_NAMES
    r = diodls(server, "queen", "/proc")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == PROC_NAMES
    r = diodls(server, "queen", "/log")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["queen.log"]


@needs_diod
def test_diodls_long_walks_from_the_open_directory(server):
    # -l stats each entry by walking from the listing fid while it is open.
    r = diodls(server, "queen", "/proc", long=True)
    assert r.returncode == 0, r.stderr
    rows = [l.split() for l in r.stdout.splitlines() if l.strip()]
    by_name = {row[-1]: row for row in rows}
    assert by_name["boot"][0].startswith("-r--r--r--") and by_name["boot"][4] == str(len(server.boot_text.encode()))
    assert by_name["lifecycle"][0].startswith("dr-xr-xr-x")


@needs_diod
def test_diodcat_reads_boot_and_the_log_in_one_session(server):
    # Two files in one run: libnpclient hands the clunked fid number out again for the second.
    r = diodcat(server, "queen", "/proc/boot", "/log/queen.log")
    assert r.returncode == 0, r.stderr
    assert server.boot_text.startswith(BOOT_LINE + "\n") and server.log_text.endswith(LOG_LINE + "\n")
    assert r.stdout == server.boot_text + server.log_text


@needs_diod
def test_diod_tools_with_a_worker_ticket_see_only_the_worker_view(server, tickets):
    t = tickets["w1"]
    # docs/ninedoor.md: a worker may walk / but not list it (spec §6 grants no read of /).
    r = diodls(server, t, "/")
    assert r.returncode != 0 and EPERM_TEXT in r.stderr, r.stderr
    r = diodls(server, t, "/proc")
    assert r.returncode == 0 and r.stdout.split() == ["boot"], r.stderr
    r = diodls(server, t, "/worker/worker-1")
    assert r.returncode == 0 and r.stdout.split() == ["telemetry"], r.stderr
    r = diodcat(server, t, "/proc/boot", "/log/queen.log")
    # The refused `ls /` above is on the record (issue 13 bug 10): one audit line after the log as it was.
    refused_ls = "[audit] refused src=9p op=read role=worker-heartbeat subject=worker-1 path=/ reason=permission\n"
    assert r.returncode == 0 and r.stdout == server.boot_text + server.log_text + refused_ls, r.stderr
    for path in ["/queen/ctl", "/proc/lifecycle/state", "/worker/worker-2/telemetry"]:
        r = diodcat(server, t, path)
        assert r.returncode != 0 and EPERM_TEXT in r.stderr, (path, r.stderr)
    r = diodls(server, t, "/gpu")
    assert r.returncode != 0 and EPERM_TEXT in r.stderr, r.stderr


@needs_diod
def test_diod_tools_read_the_beats_of_a_real_worker_task(server, tickets):
    """Firmware only: worker-1 is a worker-heart task appending over its routed channel session; a
    standard client attached over TCP with worker-1's ticket reads the same ring."""
    if server.name != "ninedoor-firmware":
        pytest.skip("workers on Node are records without a task: nothing beats")
    deadline = time.monotonic() + HEARTBEAT_WAIT_S
    while True:
        r = diodcat(server, tickets["w1"], "/worker/worker-1/telemetry")
        assert r.returncode == 0, r.stderr
        if r.stdout:
            break
        assert time.monotonic() < deadline, f"no heartbeat from worker-1 within {HEARTBEAT_WAIT_S} s"
        time.sleep(0.1)
    lines = r.stdout.splitlines()
    assert all(HEARTBEAT_RECORD.match(l) for l in lines), r.stdout
    assert json.loads(lines[0])["tick"] == 1
    # worker-2's ring is its own: worker-1's ticket may not read it, the queen may.
    r = diodcat(server, tickets["w1"], "/worker/worker-2/telemetry")
    assert r.returncode != 0 and EPERM_TEXT in r.stderr, r.stderr
    r = diodcat(server, "queen", "/shard/1c/worker/worker-2/telemetry")
    assert r.returncode == 0, r.stderr


@needs_diod
@pytest.mark.parametrize("which,text", [
    ("forged", EACCES_TEXT),             # MAC does not verify: ticket rejected
    ("expired", EACCES_TEXT),            # ttl passed: ticket expired
    ("gpu_for_heartbeat", EINVAL_TEXT),  # a worker-gpu ticket naming a heartbeat worker
    ("unknown_worker", ENOENT_TEXT),     # a valid ticket for a worker that does not exist
])
def test_diod_tools_refuse_bad_tickets_at_attach(server, tickets, which, text):
    r = diodls(server, tickets[which], "/proc")
    assert r.returncode != 0
    assert "error attaching" in r.stderr and text in r.stderr, r.stderr


@needs_diod
def test_diod_tools_any_other_aname_is_refused(server):
    r = diodls(server, "ctl", "/")
    assert r.returncode != 0 and EACCES_TEXT in r.stderr, r.stderr


# ---------------------------------------------------------------- Go hugelgupf/p9

GO_CLIENT_SRC = os.path.join(REPO, "harness", "go-p9-client")


@pytest.fixture(scope="module")
def go_client(tmp_path_factory):
    go = shutil.which("go")
    if go is None:
        pytest.skip("go toolchain not installed: the Go hugelgupf/p9 client cannot be built")
    out = str(tmp_path_factory.mktemp("go") / "go-p9-client")
    r = subprocess.run([go, "build", "-o", out, "."], cwd=GO_CLIENT_SRC, capture_output=True, text=True,
                       timeout=GO_BUILD_TIMEOUT_S)
    if r.returncode != 0:
        if "proxy.golang.org" in r.stderr or "dial tcp" in r.stderr:
            pytest.skip("Go module proxy unreachable: " + r.stderr.strip().splitlines()[-1])
        pytest.fail("go build failed:\n" + r.stderr)
    return out


def go_run(go_client, server, aname, *ops):
    r = run([go_client, "-addr", server.addr, "-aname", aname] + list(ops))
    lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return r, lines


def test_go_p9_queen_walks_lists_reads_appends_and_reads_back(go_client, server):
    # p9.NewClient offers 9P2000.L.Google.7 and msize 65536; we answer 9P2000.L and 8192.
    line = "go-p9: appended by hugelgupf/p9"
    r, out = go_run(go_client, server, "queen", "ls:/", "ls:/proc", "cat:/proc/boot", f"append:/log/queen.log:{line}",
                    "cat:/log/queen.log", "stat:/log/queen.log", "stat:/proc")
    assert r.returncode == 0, r.stderr
    assert [o["ok"] for o in out] == [True] * 8, out
    assert out[1]["names"] == ROOT_NAMES
    assert out[2]["names"] == PROC_NAMES
    assert out[3]["data"] == server.boot_text
    assert out[4]["wrote"] == len(line) + 1
    assert out[5]["data"] == f"{server.log_text}{line}\n"
    assert out[6]["size"] == len(out[5]["data"]) and out[6]["mode"] == 0o100644
    assert out[7]["mode"] == 0o040555


def test_go_p9_worker_sees_its_view_and_appends_telemetry(go_client, server, tickets):
    r, out = go_run(go_client, server, tickets["w1"], "ls:/", "ls:/proc", 'append:/worker/worker-1/telemetry:{"tick":1}',
                    "cat:/shard/13/worker/worker-1/telemetry", "append:/log/queen.log:nope", "ls:/worker/worker-2")
    assert r.returncode == 0, r.stderr
    assert out[0]["ok"]
    assert (out[1]["ok"], out[1]["errno"]) == (False, 1)
    assert out[2]["names"] == ["boot"]
    assert out[3]["ok"] and out[4]["ok"]
    # Our record is in the ring; in the firmware the worker-heart task may have beaten beside it.
    lines = out[4]["data"].splitlines()
    assert lines.count('{"tick":1}') == 1, out[4]
    assert all(l == '{"tick":1}' or (server.name == "ninedoor-firmware" and HEARTBEAT_RECORD.match(l)) for l in lines), out[4]
    assert (out[5]["ok"], out[5]["errno"]) == (False, 1)
    assert (out[6]["ok"], out[6]["errno"]) == (False, 1)


def test_go_p9_bad_tickets_get_the_exact_errno(go_client, server, tickets):
    for which, errno in [("forged", 13), ("expired", 13), ("gpu_for_heartbeat", 22), ("unknown_worker", 2)]:
        r, out = go_run(go_client, server, tickets[which], "ls:/")
        assert r.returncode == 1, (which, r.stderr)
        assert out == [{"op": "attach", "path": tickets[which], "ok": False, "errno": errno, "error": out[0]["error"]}], which


# ---------------------------------------------------------------- Python p9fs

def p9fs_connect(server, username, aname):
    p9fs = pytest.importorskip("p9fs")
    return p9fs.P9FileSystem(host=server.host, port=server.port, username=username, aname=aname, version="9P2000.L")


def test_p9fs_lists_and_reads(server):
    # p9fs paths relative to the attach root (its method calls walk pathlib parts).
    fs = p9fs_connect(server, "nobody", "queen")
    assert fs.ls("", detail=False) == [n + "/" if n != "kmesg" else n for n in ROOT_NAMES]
    assert fs.ls("log", detail=False) == ["log/queen.log"]
    assert fs.cat("proc/boot") == server.boot_text.encode()
    assert fs.cat("log/queen.log") == server.log_text.encode()
    info = fs.info("proc/boot")
    assert (info["type"], info["size"]) == ("file", len(server.boot_text.encode()))


def test_p9fs_ls_root_and_absolute_paths_list_and_read(server):
    # Bug: p9fs's ls("/") failed with EINVAL. It walks pathlib's parts, so "/" is the walk name '/'
    # and "/log/queen.log" is ['/', 'log', 'queen.log']; diod takes a lone '/' as a step that stays
    # in the directory, and so does NineDoor now (docs/ninedoor.md).
    fs = p9fs_connect(server, "nobody", "queen")
    assert fs.ls("/", detail=False) == ["/" + n + ("/" if n != "kmesg" else "") for n in ROOT_NAMES]
    assert fs.ls("/log", detail=False) == ["/log/queen.log"]
    assert fs.cat("/proc/boot") == server.boot_text.encode()
    assert fs.cat("/log/queen.log") == server.log_text.encode()
    info = fs.info("/proc/boot")
    assert (info["type"], info["size"]) == ("file", len(server.boot_text.encode()))
    assert fs.info("/")["type"] == "directory"


def test_p9fs_worker_uname_and_ticket_role_must_agree(server, tickets):
    from py9p import py9p  # p9fs bundles py9p; its RpcError carries the errno
    fs = p9fs_connect(server, "", tickets["w1"])
    assert fs.ls("proc", detail=False) == ["proc/boot"]
    with pytest.raises(py9p.RpcError) as e:
        p9fs_connect(server, "worker-gpu:worker-1", tickets["w1"])
    assert e.value.args[0] == 13  # EACCES: ticket role mismatch


# ---------------------------------------------------------------- msize

def test_msize_65536_offer_gets_8192_and_the_session_keeps_working(server):
    with socket.create_connection((server.host, server.port), timeout=TOOL_TIMEOUT_S) as s:
        def rpc(type_, tag, body):
            s.sendall(struct.pack("<IBH", 7 + len(body), type_, tag) + body)
            head = b""
            while len(head) < 7:
                head += s.recv(7 - len(head))
            size, rtype, rtag = struct.unpack("<IBH", head)
            rest = b""
            while len(rest) < size - 7:
                rest += s.recv(size - 7 - len(rest))
            return rtype, rtag, rest

        def pstr(x):
            b = x.encode()
            return struct.pack("<H", len(b)) + b

        rtype, _, body = rpc(100, 0xFFFF, struct.pack("<I", 65536) + pstr("9P2000.L"))
        assert rtype == 101 and struct.unpack_from("<I", body)[0] == 8192
        assert body[6:] == b"9P2000.L"
        rtype, _, _ = rpc(104, 1, struct.pack("<II", 0, 0xFFFFFFFF) + pstr("") + pstr("queen") + struct.pack("<I", 0))
        assert rtype == 105
        rtype, _, _ = rpc(110, 2, struct.pack("<IIH", 0, 1, 2) + pstr("proc") + pstr("boot"))
        assert rtype == 111
        rtype, _, _ = rpc(12, 3, struct.pack("<II", 1, 0))
        assert rtype == 13
        # Ask for 65536 bytes: the reply is bounded by the negotiated 8192.
        rtype, _, body = rpc(116, 4, struct.pack("<IQI", 1, 0, 65536))
        assert rtype == 117 and body[4:] == server.boot_text.encode()
        # A frame over 8192 is refused EMSGSIZE with its tag, and the session goes on.
        big = struct.pack("<IQI", 1, 0, 9000) + b"x" * 9000
        rtype, rtag, body = rpc(118, 5, big)
        assert (rtype, rtag, struct.unpack("<I", body)[0]) == (7, 5, 90)
        rtype, _, _ = rpc(120, 6, struct.pack("<I", 1))
        assert rtype == 121
