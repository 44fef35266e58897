#!/usr/bin/env python3
"""Small-op 9P rate and latency on loopback, one client, same run: NineDoor (Node, firmware) vs diod vs a TCP ping-pong floor.

Usage: build/pyenv/bin/python bench/ninep.py [--iters N] [--json bench/results/ninep.json]
Needs `sh scripts/build.sh` first; diod runs only as root (it is skipped otherwise). Prints a
table and writes JSON. A benchmark, not a test: nothing here asserts a figure.

The firmware runs twice: as booted (cohesix-sim's default --spin-us, a short poll after input
before it sleeps) and with --spin-us 0 (it sleeps at once, as diod and the floor do). Each
server's CPU time per op (user + system, all its threads, from /proc) is the price of its rate.
"""
import argparse
import json
import os
import platform
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "harness"))
from ninep_server import DEV_IMAGE, SIM, NinepServer, start_ninedoor_firmware, start_ninedoor_node  # noqa: E402
from procs import stop_process  # noqa: E402

BOOT = b"Cohesix boot: root-task online\n"
MSIZE_BYTES = 8192
NOFID = 0xFFFFFFFF
ROOT_FID, FILE_FID, OP_FID = 1, 2, 3
# Every wait is bounded: a server that stops answering ends the run with an error.
SOCKET_TIMEOUT_S = 5
SERVER_START_TIMEOUT_S = 10
STOP_TIMEOUT_S = 5
WARMUP_ITERS = 500
DEFAULT_ITERS = 30000
# Short rounds, many of them: a noisy neighbour's burst then spoils a round or two, not a column.
DEFAULT_ROUNDS = 15
# Echo frames sized like the 9P getattr exchange (Tgetattr 19 bytes, Rgetattr 160 bytes).
PING_BYTES, PONG_BYTES = 19, 160

# The floor: a C echo server (blocking recv/send, TCP_NODELAY), the least a server that sleeps
# between requests can cost. A server that polls for a while first (the firmware's spin) skips the
# wake-up of its sleeping CPU and can beat it.
ECHO_C = r"""
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int ping = atoi(argv[1]), pong = atoi(argv[2]), one = 1;
  char buf[4096] = {0};
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  socklen_t l = sizeof a;
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (void *)&a, sizeof a) || listen(s, 1) || getsockname(s, (void *)&a, &l)) return 1;
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  int c = accept(s, 0, 0);
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  for (;;) {
    for (int got = 0; got < ping;) {
      ssize_t n = recv(c, buf, ping - got, 0);
      if (n <= 0) return 0;
      got += n;
    }
    if (send(c, buf, pong, 0) != pong) return 1;
  }
}
"""


# ---------------------------------------------------------------- a minimal 9P2000.L client

def pstr(s):
    b = s.encode()
    return struct.pack("<H", len(b)) + b


class Conn:
    """One blocking connection; requests go one at a time (tag 1), as a single-client small-op loop does."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_S)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray(MSIZE_BYTES)
        self.view = memoryview(self.buf)

    def raw(self, frame, want):
        """Sends bytes and reads exactly `want` back (the floor)."""
        self.s.sendall(frame)
        got = 0
        while got < want:
            n = self.s.recv_into(self.view[got:want])
            if n == 0:
                raise ConnectionError("server closed")
            got += n

    def rpc(self, mtype, body, tag=1):
        self.s.sendall(struct.pack("<IBH", 7 + len(body), mtype, tag) + body)
        got = 0
        while got < 7 or got < struct.unpack_from("<I", self.buf)[0]:
            need = 7 if got < 7 else struct.unpack_from("<I", self.buf)[0]
            n = self.s.recv_into(self.view[got:need])
            if n == 0:
                raise ConnectionError("server closed")
            got += n
        rtype = self.buf[4]
        if rtype == 7:
            raise OSError(struct.unpack_from("<I", self.buf, 7)[0], f"Rlerror to type {mtype}")
        return rtype, bytes(self.buf[7:got])

    def setup(self, aname):
        rtype, body = self.rpc(100, struct.pack("<I", MSIZE_BYTES) + pstr("9P2000.L"), tag=0xFFFF)
        assert rtype == 101 and body[6:].startswith(b"9P2000.L"), body
        self.rpc(104, struct.pack("<II", ROOT_FID, NOFID) + pstr("") + pstr(aname) + struct.pack("<I", 0))
        self.rpc(110, struct.pack("<IIH", ROOT_FID, FILE_FID, 2) + pstr("proc") + pstr("boot"))

    def close(self):
        self.s.close()


def percentile(sorted_ns, p):
    return sorted_ns[min(len(sorted_ns) - 1, int(len(sorted_ns) * p))]


def measure(op, iters):
    for _ in range(WARMUP_ITERS):
        op()
    lat = []
    clock = time.perf_counter_ns
    t0 = clock()
    for _ in range(iters):
        a = clock()
        op()
        lat.append(clock() - a)
    total = clock() - t0
    lat.sort()
    return {"ops_per_s": round(iters * 1e9 / total), "p50_us": round(percentile(lat, 0.50) / 1000, 1),
            "p99_us": round(percentile(lat, 0.99) / 1000, 1), "iters": iters}


def median_of(rounds):
    """Per-figure median over rounds (each a dict of numbers)."""
    out = {}
    for k in rounds[0]:
        if k in ("cpu_ticks", "cpu_ops"):
            continue
        vals = sorted(r[k] for r in rounds)
        out[k] = vals[len(vals) // 2]
    out["iters"] = sum(r["iters"] for r in rounds)
    # CPU per op over all rounds together: one round's ticks (10 ms each) are too coarse alone.
    if "cpu_ticks" in rounds[0]:
        ticks = [r["cpu_ticks"] for r in rounds]
        ops = sum(r["cpu_ops"] for r in rounds)
        out["cpu_us_per_op"] = None if None in ticks else round(sum(ticks) * 1e6 / os.sysconf("SC_CLK_TCK") / ops, 1)
    return out


def small_ops(c, boot):
    """The two measured ops on a set-up connection, by name: one getattr, and walk+lopen+read+clunk of proc/boot."""
    getattr_body = struct.pack("<IQ", FILE_FID, 0x7FF)
    walk_body = struct.pack("<IIH", ROOT_FID, OP_FID, 2) + pstr("proc") + pstr("boot")
    open_body = struct.pack("<II", OP_FID, 0)
    read_body = struct.pack("<IQI", OP_FID, 0, 4096)
    clunk_body = struct.pack("<I", OP_FID)

    def getattr_op():
        c.rpc(24, getattr_body)

    def wolrc_op():
        c.rpc(110, walk_body)
        c.rpc(12, open_body)
        _, data = c.rpc(116, read_body)
        c.rpc(120, clunk_body)
        if data[4:] != boot:
            raise AssertionError(f"read {data[4:]!r}")

    return {"getattr": getattr_op, "walk_open_read_clunk": wolrc_op}


def cpu_ticks(pid):
    """User + system clock ticks of a process so far (all its threads); None where /proc cannot say."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError, TypeError):
        return None


def measure_with_cpu(op, iters, pid):
    """measure() plus the server's CPU ticks spent over the timed loop (with its warm-up: ticks are coarse)."""
    before = cpu_ticks(pid)
    r = measure(op, iters)
    after = cpu_ticks(pid)
    r["cpu_ticks"] = None if before is None or after is None else after - before
    r["cpu_ops"] = iters + WARMUP_ITERS
    return r


def bench_9p(server: NinepServer, aname, iters):
    c = Conn(server.host, server.port)
    try:
        c.setup(aname)
        ops = small_ops(c, server.boot_text.encode())
        return {"getattr": measure_with_cpu(ops["getattr"], iters, server.pid),
                "walk_open_read_clunk": measure_with_cpu(ops["walk_open_read_clunk"], max(1, iters // 4), server.pid)}
    finally:
        c.close()


def build_echo(tmpdir):
    src, exe = os.path.join(tmpdir, "echo.c"), os.path.join(tmpdir, "echo")
    with open(src, "w") as f:
        f.write(ECHO_C)
    subprocess.run(["cc", "-O2", "-o", exe, src], check=True, timeout=60)
    return exe


def bench_floor(echo_exe, iters):
    p = subprocess.Popen([echo_exe, str(PING_BYTES), str(PONG_BYTES)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(p.stdout.readline())
        c = Conn("127.0.0.1", port)
        ping = b"q" * PING_BYTES
        try:
            return measure(lambda: c.raw(ping, PONG_BYTES), iters)
        finally:
            c.close()
    finally:
        p.kill()
        p.wait(timeout=STOP_TIMEOUT_S)


# ---------------------------------------------------------------- servers

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_9p(host, port, proc, deadline_s):
    """True once a Tversion gets an Rversion; False if the process exits or the deadline passes."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            c = Conn(host, port)
            try:
                rtype, _ = c.rpc(100, struct.pack("<I", MSIZE_BYTES) + pstr("9P2000.L"), tag=0xFFFF)
                return rtype == 101
            finally:
                c.close()
        except OSError:
            time.sleep(0.05)
    return False


def stopper(proc, cleanup=None):
    def stop():
        stop_process(proc, STOP_TIMEOUT_S)
        if cleanup:
            cleanup()
    return stop


def start_diod():
    """diod exporting a tmp dir holding proc/boot with NineDoor's content; (server, aname) or (None, why)."""
    diod = shutil.which("diod") or ("/usr/sbin/diod" if os.path.exists("/usr/sbin/diod") else None)
    if diod is None:
        return None, "diod not installed"
    if os.geteuid() != 0:
        return None, "diod needs root to serve attaches (run the bench as root)"
    d = tempfile.mkdtemp(prefix="cohesix-bench-diod-")
    os.mkdir(os.path.join(d, "proc"))
    with open(os.path.join(d, "proc", "boot"), "wb") as f:
        f.write(BOOT)
    port = free_port()
    proc = subprocess.Popen([diod, "-f", "-n", "-l", f"127.0.0.1:{port}", "-e", d, "-L", "stderr"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = stopper(proc, lambda: shutil.rmtree(d, ignore_errors=True))
    if not wait_for_9p("127.0.0.1", port, proc, SERVER_START_TIMEOUT_S):
        stop()
        return None, "diod did not answer Tversion"
    return NinepServer("diod", "127.0.0.1", port, stop, boot_text=BOOT.decode(), pid=proc.pid), d


def start_firmware():
    """NineDoor in the firmware: build/cohesix-sim with the dev image and --9p-port (no workers spawned)."""
    if not (os.path.exists(SIM) and os.path.exists(DEV_IMAGE)):
        return None, "build/cohesix-sim or build/images/dev.img missing (run scripts/build.sh)"
    return start_ninedoor_firmware(workers=()), "queen"


def start_firmware_nospin():
    """The same, with --spin-us 0: every wait sleeps at once."""
    if not (os.path.exists(SIM) and os.path.exists(DEV_IMAGE)):
        return None, "build/cohesix-sim or build/images/dev.img missing (run scripts/build.sh)"
    return start_ninedoor_firmware(workers=(), extra=("--spin-us", "0")), "queen"


def start_node():
    s = start_ninedoor_node(workers=())
    return s, "queen"


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=DEFAULT_ITERS, help="getattr iterations (walk+open+read+clunk runs a quarter)")
    ap.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS,
                    help="interleaved rounds; each figure is the median round, each rate vs diod the median of same-round ratios")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "ninep.json"))
    ap.add_argument("--servers", default="ninedoor-firmware,ninedoor-firmware-nospin,ninedoor-node,diod",
                    help="comma-separated subset of ninedoor-firmware, ninedoor-firmware-nospin, ninedoor-node, diod (e.g. to profile one)")
    a = ap.parse_args()

    # The servers run side by side and the rounds interleave them, so a noisy neighbour (this
    # is loopback on a shared machine) hits every column alike; each figure is the median round.
    results = {"floor_tcp_pingpong": None, "servers": {}, "skipped": {}, "rounds": a.rounds}
    servers = []
    echo_dir = tempfile.mkdtemp(prefix="cohesix-bench-echo-")
    echo_exe = build_echo(echo_dir)
    try:
        wanted = set(a.servers.split(","))
        for name, start in [("ninedoor-firmware", start_firmware), ("ninedoor-firmware-nospin", start_firmware_nospin),
                            ("ninedoor-node", start_node), ("diod", start_diod)]:
            if name not in wanted:
                continue
            server, aname_or_why = start()
            if server is None:
                results["skipped"][name] = aname_or_why
            else:
                servers.append((name, server, aname_or_why))
        per_round = max(1, a.iters // a.rounds)
        floor_rounds, server_rounds = [], {name: [] for name, _, _ in servers}
        for i in range(a.rounds):
            floor_rounds.append(bench_floor(echo_exe, per_round))
            # Every other round runs the servers in reverse, so none always runs right after the floor.
            for name, server, aname in (servers if i % 2 == 0 else servers[::-1]):
                server_rounds[name].append(bench_9p(server, aname, per_round))
        results["floor_tcp_pingpong"] = median_of(floor_rounds)
        for name, rounds in server_rounds.items():
            results["servers"][name] = {op: median_of([r[op] for r in rounds]) for op in rounds[0]}
        # The rate against diod is paired by round: both ran within the same few seconds, so a
        # slow spell of the machine divides out, where a ratio of two medians would keep it.
        if "diod" in server_rounds:
            for name, rounds in server_rounds.items():
                for op in rounds[0]:
                    ratios = sorted(r[op]["ops_per_s"] / d[op]["ops_per_s"] for r, d in zip(rounds, server_rounds["diod"]))
                    results["servers"][name][op]["rate_vs_diod"] = {
                        "median": round(ratios[len(ratios) // 2], 3), "min": round(ratios[0], 3), "max": round(ratios[-1], 3)}
    finally:
        for _, server, _ in servers:
            server.stop()
        shutil.rmtree(echo_dir, ignore_errors=True)
    results["meta"] = {"host": platform.node(), "python": platform.python_version(), "cpus": os.cpu_count(),
                       "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
                       "client": "one blocking Python client, one request in flight", "floor": "C echo server, same frame sizes as getattr", "msize": MSIZE_BYTES,
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}

    floor = results["floor_tcp_pingpong"]
    print(f"{'server':<24} {'op':<22} {'ops/s':>9} {'p50 µs':>8} {'p99 µs':>8} {'p50/floor':>9} {'rate/diod':>9} {'(rounds min-max)':>17} {'cpu µs/op':>9}")
    print(f"{'tcp ping-pong':<24} {'(floor)':<22} {floor['ops_per_s']:>9} {floor['p50_us']:>8} {floor['p99_us']:>8}")
    for name, ops in results["servers"].items():
        for op, r in ops.items():
            v = r.get("rate_vs_diod")
            vs = f"{v['median']:.2f}x" if v else "-"
            spread = f"{v['min']:.2f}-{v['max']:.2f}" if v else ""
            cpu = r.get("cpu_us_per_op")
            print(f"{name:<24} {op:<22} {r['ops_per_s']:>9} {r['p50_us']:>8} {r['p99_us']:>8} "
                  f"{r['p50_us'] / floor['p50_us']:>8.1f}x {vs:>9} {spread:>17} {cpu if cpu is not None else '-':>9}")
    for name, why in results["skipped"].items():
        print(f"{name:<20} skipped: {why}")
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(results, f, indent=2)
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
