#!/usr/bin/env python3
"""Our seL4 hive vs the reference's release image on the same QEMU, interleaved: TCP console PING p50/p99, 9P getattr/s, start → console.

Usage: build/pyenv/bin/python bench/sel4_net.py --ref-release <dir> [--sel4-build build/sel4] [--rounds 3] [--pings 300]
       [--json bench/results/sel4_net.json]
Needs an seL4 build of sel4-platform/ (sel4-platform/README.md) relinked with the board image, and the
reference release folder (`releases/Cohesix-0.3.0-alpha2-linux` of the public lukeb-aidev/cohesix repository:
fetched, never committed). Each round boots ours, measures, stops it, then boots the reference the same way,
so both see the same machine load. A benchmark, not a test: nothing here asserts a figure.

- start → console: from QEMU's start to the first TCP connection whose `AUTH` is answered `OK AUTH`
  (QEMU's user networking accepts on the host at once, so a connection before the guest listens just closes).
- PING: one authenticated connection, `--pings` PINGs one at a time; each timed to its last reply line
  (the count of reply lines per PING is learnt from the first one).
- getattr: bench/ninep.py's loop over NineDoor's TCP port. The reference's run.sh forwards no 9P port (its
  console, a UDP port and a smoke port only), so that row is ours alone.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import ninep  # noqa: E402  (the 9P client loop and free_port)

QEMU_SCRIPT = REPO / "boards" / "qemu-virt-aarch64" / "qemu.sh"
BOOT_IMAGE_NAME = "images/cohesix-root-image-arm-qemu-arm-virt"
AUTH_LINE = "AUTH changeme"  # the dev token both hives ship with (js/console/limits.ts CONSOLE_AUTH_TOKEN_DEV)
FRAME_HEADER_BYTES = 4
START_TIMEOUT_S = 180.0
CONNECT_POLL_S = 0.05
REPLY_TIMEOUT_S = 10.0
PING_REPLY_SETTLE_S = 1.0  # how long the first PING's replies may take to all arrive
STOP_TIMEOUT_S = 10.0
AUTH_RETRIES_MAX = 20
AUTH_RETRY_PAUSE_S = 0.5
GETATTR_ITERS = 2000
GETATTR_BOOT = b""  # small_ops wants the boot text for its read op; getattr does not read


class Console:
    """The console framing: u32 LE total length (header included), then a UTF-8 line."""

    def __init__(self, port: int, timeout_s: float):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.settimeout(timeout_s)

    def send(self, line: str) -> None:
        data = line.encode()
        self.s.sendall(struct.pack("<I", FRAME_HEADER_BYTES + len(data)) + data)

    def _exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise ConnectionError("console closed")
            out += chunk
        return bytes(out)

    def recv(self) -> str:
        (total,) = struct.unpack("<I", self._exact(FRAME_HEADER_BYTES))
        return self._exact(total - FRAME_HEADER_BYTES).decode(errors="replace")

    def close(self) -> None:
        self.s.close()


class Hive:
    """One QEMU in its own process group (the reference's run.sh does not exec QEMU)."""

    def __init__(self, name: str, argv: list[str], env: dict, console_port: int, ninep_port: int | None):
        self.name, self.console_port, self.ninep_port = name, console_port, ninep_port
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(STOP_TIMEOUT_S)


def boot_ours(sel4_build: Path) -> Hive:
    console, nine = ninep.free_port(), ninep.free_port()
    argv = [str(QEMU_SCRIPT), "--console-port", str(console), "--9p-port", str(nine), str(sel4_build / BOOT_IMAGE_NAME)]
    return Hive("cohesix-ts", argv, dict(os.environ), console, nine)


def boot_reference(release: Path) -> Hive:
    console = ninep.free_port()
    env = {**os.environ, "TCP_PORT": str(console), "UDP_PORT": str(ninep.free_port()),
           "SMOKE_PORT": str(ninep.free_port()), "COHESIX_QEMU_ACCEL": "tcg"}
    return Hive("reference", ["bash", str(release / "qemu" / "run.sh")], env, console, None)


def wait_console(h: Hive) -> float:
    """Seconds from QEMU's start to the first answered AUTH."""
    deadline = h.started + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if h.proc.poll() is not None:
            raise RuntimeError(f"{h.name}: QEMU exited with {h.proc.returncode} before its console answered")
        try:
            c = Console(h.console_port, 2.0)
            try:
                c.send(AUTH_LINE)
                if c.recv().startswith("OK AUTH"):
                    return time.monotonic() - h.started
            finally:
                c.close()
        except (OSError, ConnectionError):
            pass
        time.sleep(CONNECT_POLL_S)
    raise RuntimeError(f"{h.name}: console did not answer AUTH within {START_TIMEOUT_S} s")


def authed_console(h: Hive) -> Console:
    """A new authenticated connection. The reference resets a connection made right after another closed
    (QEMU's user networking holds one pending connection; the guest may not have seen the close yet), so
    a reset is retried a bounded number of times."""
    for attempt in range(AUTH_RETRIES_MAX):
        try:
            c = Console(h.console_port, REPLY_TIMEOUT_S)
            c.send(AUTH_LINE)
            reply = c.recv()
            if reply.startswith("OK AUTH"):
                return c
            c.close()
            raise RuntimeError(f"{h.name}: AUTH answered {reply!r}")
        except (ConnectionError, OSError):
            time.sleep(AUTH_RETRY_PAUSE_S)
    raise RuntimeError(f"{h.name}: no authenticated connection in {AUTH_RETRIES_MAX} tries")


def ping_figures(h: Hive, pings: int) -> dict:
    c = authed_console(h)
    try:
        # Learn how many lines a PING gets: collect until none comes for a while.
        c.send("PING")
        replies = [c.recv()]
        c.s.settimeout(PING_REPLY_SETTLE_S)
        try:
            while True:
                replies.append(c.recv())
        except (TimeoutError, socket.timeout):
            pass
        c.s.settimeout(REPLY_TIMEOUT_S)
        if not any("pong" in r.lower() for r in replies):
            raise RuntimeError(f"{h.name}: PING answered {replies!r}")
        lat = []
        for _ in range(pings):
            a = time.perf_counter_ns()
            c.send("PING")
            for _ in replies:
                c.recv()
            lat.append(time.perf_counter_ns() - a)
        lat.sort()
        return {"ping_p50_ms": round(ninep.percentile(lat, 0.50) / 1e6, 3),
                "ping_p99_ms": round(ninep.percentile(lat, 0.99) / 1e6, 3), "ping_reply_lines": len(replies)}
    finally:
        c.close()


def getattr_figures(h: Hive) -> dict:
    if h.ninep_port is None:
        return {"getattr_per_s": None}
    c = ninep.Conn("127.0.0.1", h.ninep_port)
    try:
        c.setup("queen")
        r = ninep.measure(ninep.small_ops(c, GETATTR_BOOT)["getattr"], GETATTR_ITERS)
        return {"getattr_per_s": r["ops_per_s"], "getattr_p50_ms": round(r["p50_us"] / 1000, 3)}
    finally:
        c.close()


def one_run(h: Hive, pings: int) -> dict:
    try:
        out = {"start_to_console_s": round(wait_console(h), 2)}
        out.update(ping_figures(h, pings))
        out.update(getattr_figures(h))
        return out
    finally:
        h.stop()


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    return vals[len(vals) // 2] if vals else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref-release", type=Path, required=True, help="the reference release folder")
    ap.add_argument("--sel4-build", type=Path, default=REPO / "build" / "sel4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pings", type=int, default=300)
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "sel4_net.json")
    args = ap.parse_args()
    if not (args.sel4_build / BOOT_IMAGE_NAME).exists():
        print(f"no seL4 boot image at {args.sel4_build / BOOT_IMAGE_NAME}: build sel4-platform first", file=sys.stderr)
        return 2
    if not (args.ref_release / "qemu" / "run.sh").exists():
        print(f"{args.ref_release} has no qemu/run.sh: is it the reference release folder?", file=sys.stderr)
        return 2

    runs: dict[str, list[dict]] = {"cohesix-ts": [], "reference": []}
    for r in range(args.rounds):
        for name, boot in (("cohesix-ts", lambda: boot_ours(args.sel4_build)),
                           ("reference", lambda: boot_reference(args.ref_release))):
            fig = one_run(boot(), args.pings)
            runs[name].append(fig)
            print(f"round {r + 1} {name}: {fig}", file=sys.stderr)

    keys = ("start_to_console_s", "ping_p50_ms", "ping_p99_ms", "getattr_per_s")
    summary = {name: {k: median([f.get(k) for f in figs]) for k in keys} for name, figs in runs.items()}
    print(f"{'hive':<12} {'start→console s':>16} {'PING p50 ms':>12} {'PING p99 ms':>12} {'getattr/s':>10}   (median of {args.rounds} interleaved rounds)")
    for name, s in summary.items():
        ga = "n/a" if s["getattr_per_s"] is None else str(s["getattr_per_s"])
        print(f"{name:<12} {s['start_to_console_s']:>16} {s['ping_p50_ms']:>12} {s['ping_p99_ms']:>12} {ga:>10}")
    ours, ref = summary["cohesix-ts"], summary["reference"]
    print(f"PING p50 ours/reference: {ours['ping_p50_ms'] / ref['ping_p50_ms']:.2f}x "
          f"(target ≤ 1.0x); p99: {ours['ping_p99_ms'] / ref['ping_p99_ms']:.2f}x")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rounds": runs, "median": summary, "pings": args.pings,
                                     "machine": os.uname().nodename}, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
