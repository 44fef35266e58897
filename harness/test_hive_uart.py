# test_hive_uart: the UART recovery console restarts the TCP console under an attached session and keeps answering throughout.
"""docs/uart-console.md recovery verbs against the board hive. Bound: about 2 s."""
import re

import pytest

from hive_ops import Operator, boot_board

SPAWN = '{"spawn":"heartbeat","ticks":100}'


def test_restart_tcp_console_under_an_attached_session_uart_answers_and_tcp_comes_back(hive):
    sim = boot_board(hive)
    op = Operator(sim.port)
    op.auth_attach()
    assert op.request(f"SPAWN {SPAWN}") == [f"OK SPAWN payload={SPAWN}"]
    port = sim.port

    listing = sim.uart_command("restart")
    assert "[restart] restartable: tcp-console\r\nOK RESTART\r\n" in listing, listing
    mark = sim.log.mark()
    out = sim.uart_command("restart tcp-console")
    assert f"[restart] tcp console restarting on port {port}\r\nOK RESTART\r\n" in out, out
    # The same port comes back (a console started on port 0 keeps the port it got), and the log says who did it.
    sim.expect_log(rf"\[root-task\] console ready port={port}\n", start=mark, what="console ready again")
    sim.expect_log(r"restarted tcp-console from the UART console\n", start=mark, what="restart log line")
    # The attached session was closed by the server.
    with pytest.raises(ConnectionError):
        op.request("PING")

    # The UART answers the protocol and the recovery verbs, with no AUTH.
    assert "OK PING reply=pong\r\nPONG\r\n" in sim.uart_command("ping")
    tasks = sim.uart_command("tasks")
    assert re.search(r"\[tasks\] id=\d+ label=worker-1 task=worker-heart state=running arena_used=\d+ "
                     r"arena_bytes=1048576 arena_peak=\d+ cpu_ms=\d+ worker=worker-1\r\n", tasks), tasks
    assert "[tasks] total=4 workers=1\r\nOK TASKS\r\n" in tasks, tasks
    assert "[log] restarted tcp-console from the UART console\r\nOK LASTLOG" in sim.uart_command("lastlog 1")
    uart_attach = sim.uart_command("attach queen")
    assert "OK ATTACH role=queen" in uart_attach, uart_attach
    assert "reachable=yes" in sim.uart_command("cat /proc/root/reachable")
    assert "OK LS path=/worker entries=1\r\nworker-1\r\nEND\r\n" in sim.uart_command("ls /worker")

    # A new TCP client authenticates and attaches on the same port, and the hive is as it was.
    again = Operator(port)
    again.auth_attach()
    assert again.request("PING") == ["OK PING reply=pong"]
    assert again.ls("/worker") == ["worker-1"]
    assert again.cat_value("/proc/root/reachable") == "reachable=yes"
    # Recovery refusals keep their shapes.
    assert "ERR RESTART reason=policy detail=invalid-path" in sim.uart_command("restart nope")
    assert "ERR KILLTASK reason=policy detail=denied error=EPERM" in sim.uart_command("killtask 1")


def test_with_the_tcp_console_task_killed_the_uart_serves_and_restarts_it(hive):
    """Issue 4: the TCP console's sockets live in the net-console task; killing it leaves the UART
    answering `ping` and `tasks`, and `restart tcp-console` brings a new task that clients attach to."""
    sim = boot_board(hive)
    op = Operator(sim.port)
    op.auth_attach()
    port = sim.port
    listing = sim.uart_command("tasks")
    m = re.search(r"\[tasks\] id=(\d+) label=net-console task=net-console state=running", listing)
    assert m, listing
    mark = sim.log.mark()
    killed = sim.uart_command(f"killtask {m.group(1)}")
    assert "OK KILLTASK" in killed, killed
    sim.expect_log(r"\[root-task\] tcp console unavailable: net-console killed", start=mark, what="console down line")
    with pytest.raises(ConnectionError):
        op.request("PING")
    # The network side is gone; the UART is not.
    assert "OK PING reply=pong\r\nPONG\r\n" in sim.uart_command("ping")
    assert "label=net-console" not in sim.uart_command("tasks")
    mark = sim.log.mark()
    assert "OK RESTART" in sim.uart_command("restart tcp-console")
    sim.expect_log(rf"\[root-task\] console ready port={port}\n", start=mark, what="console ready again")
    assert re.search(r"label=net-console task=net-console state=running", sim.uart_command("tasks"))
    again = Operator(port)
    again.auth_attach()
    assert again.request("PING") == ["OK PING reply=pong"]
