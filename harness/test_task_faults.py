# test_task_faults: a task that breaks its memory quota, CPU slice or stack is stopped and revoked while root-task serves on.
import re
import socket

from hivekit import (AUTH_TOKEN, FAULT_TIMEOUT_S, TASK_ARENA_BYTES, ConsoleClient, hive_manifest, ping_over_tcp,
                     task_entry)

HOARD_ARENA_BYTES = 262144
# A fast heartbeat for the bystander worker, so "it kept beating after the fault" is quick to see.
BYSTANDER_INTERVAL_MS = 100
BYSTANDER_BEAT_TIMEOUT_S = 2.0
SPIN_DELAY_MS = 1000
CPU_FAULT_DETAIL = "cpu slice of 50 ms exhausted"  # bindings report the manifest's cpu_slice_ms


def one_task_hive(task: str, label: str, grants: list[str], arena_bytes: int = TASK_ARENA_BYTES, config=None,
                  bystander: bool = False) -> dict:
    boot = [{"task": task, "label": label}]
    tasks = [task_entry(task, grants, arena_bytes, config)]
    if bystander:
        boot.append({"task": "worker-heart", "label": "worker-1", "args": {"interval_ms": BYSTANDER_INTERVAL_MS}})
        tasks.append(task_entry("worker-heart", ["log", "timer", "channel"]))
    return hive_manifest(tasks, boot)


def uart_tasks(sim) -> str:
    listing = sim.uart_command("tasks")
    assert "OK TASKS\r\n" in listing, listing
    return listing


def test_quota_task_allocating_forever_is_killed_and_root_serves_on(image_builder, hive, console):
    img = image_builder(one_task_hive("hoard", "hoard-1", ["log", "timer"], HOARD_ARENA_BYTES, bystander=True),
                        fixtures=["hoard"])
    sim = hive(img)
    # The engine's limit (85% of the arena) trips while the arena still has room: the detail says both.
    fault = (rf"\[hoard-1\] task faulted: quota \(out of memory: \d+ of {HOARD_ARENA_BYTES} arena bytes in use, "
             r"engine limit \d+\)\n")
    sim.expect_log(fault, what="quota fault of hoard-1")
    revoked = sim.expect_log(rf"\[root-task\] revoked hoard-1: quota \(out of memory: \d+ of {HOARD_ARENA_BYTES} arena "
                             r"bytes in use, engine limit \d+\)\n", what="revocation of hoard-1")
    ping_over_tcp(console, sim.port)
    listing = uart_tasks(sim)
    assert "label=hoard-1" not in listing, listing
    assert "label=root-task" in listing and "label=worker-1" in listing, listing
    # The other task's runtime was not disturbed: it beats on after the fault.
    sim.expect_log(r"\[root-task\] worker-1: \{\"tick\":\d+", BYSTANDER_BEAT_TIMEOUT_S, start=revoked.end(),
                   what="a worker-1 heartbeat after hoard-1 was revoked")


def test_cpu_task_spinning_in_main_is_interrupted_and_pump_answers(image_builder, hive, console):
    img = image_builder(one_task_hive("spin", "spin-1", ["log"]), fixtures=["spin"])
    sim = hive(img)
    sim.expect_log(rf"\[spin-1\] task faulted: cpu \({CPU_FAULT_DETAIL}\)\n", what="cpu fault of spin-1")
    sim.expect_log(rf"\[root-task\] revoked spin-1: cpu \({CPU_FAULT_DETAIL}\)\n", what="revocation of spin-1")
    ping_over_tcp(console, sim.port)
    assert "label=spin-1" not in uart_tasks(sim)


def test_cpu_task_spinning_later_is_interrupted_and_ping_works_before_and_after(image_builder, hive, console):
    img = image_builder(one_task_hive("spin-later", "spin-later-1", ["log", "timer"], config={"delay_ms": SPIN_DELAY_MS}),
                        fixtures=["spin-later"])
    sim = hive(img)
    sim.expect_log(rf"\[spin-later-1\] spin-later: spinning in {SPIN_DELAY_MS} ms\n", what="spin-later start")
    # Before: one session stays open across the spin, so the same connection is proven on both sides.
    c: ConsoleClient = console(sim.port)
    assert c.command(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]
    assert "spin-later: spinning\n" not in sim.log.text(), "the task spun before PING was answered: raise SPIN_DELAY_MS"
    sim.expect_log(rf"\[spin-later-1\] task faulted: cpu \({CPU_FAULT_DETAIL}\)\n", FAULT_TIMEOUT_S + SPIN_DELAY_MS / 1000,
                   what="cpu fault of spin-later-1")
    sim.expect_log(rf"\[root-task\] revoked spin-later-1: cpu \({CPU_FAULT_DETAIL}\)\n", what="revocation")
    assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]
    ping_over_tcp(console, sim.port)


def test_stack_infinite_recursion_faults_stack(image_builder, hive, console):
    img = image_builder(one_task_hive("recurse", "recurse-1", ["log"]), fixtures=["recurse"])
    sim = hive(img)
    sim.expect_log(r"\[recurse-1\] task faulted: stack \(stack overflow\)\n", what="stack fault of recurse-1")
    sim.expect_log(r"\[root-task\] revoked recurse-1: stack \(stack overflow\)\n", what="revocation of recurse-1")
    ping_over_tcp(console, sim.port)


def test_ungranted_net_throws_capability_error_and_task_lives_on(image_builder, hive):
    img = image_builder(one_task_hive("net-ungranted", "net-1", ["log"]), fixtures=["net-ungranted"])
    sim = hive(img)
    sim.expect_log(re.escape("[net-1] net-ungranted: CapabilityError ECAP capability 'net' is not granted to task 'net-1'\n"),
                   what="the CapabilityError line")
    sim.expect_log(re.escape("[net-1] net-ungranted: still running\n"), what="the line after the catch")
    listing = uart_tasks(sim)
    assert re.search(r"\[tasks\] id=\d+ label=net-1 task=net-ungranted state=running arena_used=\d+ arena_bytes=\d+ arena_peak=\d+ cpu_ms=\d+\r\n",
                     listing), listing
    assert "task faulted" not in sim.log.text(), sim.describe()


def test_net_write_refuses_a_length_outside_its_array_and_sends_a_prefix(image_builder, hive):
    """caps.net.write(sock, bytes, length): a length that is not a whole number within the array is
    refused with Invalid and nothing is sent; a valid one sends that prefix (the reply-buffer lending
    NineDoor's TCP transport relies on)."""
    img = image_builder(one_task_hive("net-write-length", "net-1", ["log", "net"]), fixtures=["net-write-length"])
    sim = hive(img)
    port = int(sim.expect_log(r"\[net-1\] net-write-length: port=(\d+)\n", what="the listener's port").group(1))
    with socket.create_connection(("127.0.0.1", port), timeout=FAULT_TIMEOUT_S) as s:
        got = b""
        while True:
            chunk = s.recv(64)
            if not chunk:
                break
            got += chunk
    assert got == b"hello" + b"hello world"
    for bad in ["-1", "12", "1.5", "NaN", "3", "null"]:
        sim.expect_log(re.escape(f"[net-1] net-write-length: {bad} refused ") + r"\S+ \S+ net\.write length is not within the 11-byte array\n",
                       what=f"the refusal of length {bad}")
    assert "accepted" not in sim.log.text(), sim.describe()
