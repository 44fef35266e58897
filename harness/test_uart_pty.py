# test_uart_pty: `--uart pty` is raw (the firmware never reads its own output back) and survives a terminal that detaches and comes back.
"""Issue 13 bug 8. The terminal here opens the pty's slave as screen or picocom would (without
changing its termios, as `cat` would not either), types lines ending in `\\n`, and closes it.
Bound: about 5 s."""
import os
import re
import select
import time

import pytest

from hive_ops import boot_board
from hivekit import BOOT_TIMEOUT_S, REPLY_TIMEOUT_S, UART_PROMPT, cpu_ms_over, has_cpu_times

PTY_RE = r"uart pty=(\S+)\n"
READ_CHUNK_BYTES = 4096
# How long the terminal listens for output nobody asked for. An echoing pty sent 2.6 MB in 3 s;
# a quiet one sends nothing at all.
QUIET_S = 1.0
# CPU the firmware may use while no terminal is attached: it rechecks the pty a few times a second
# (HAL_UART_HUP_RECHECK_US), well under a ms; a firmware that polled the hung-up pty ran the whole time.
DETACHED_S = 2.0
DETACHED_CPU_MS_MAX = 5.0
PING_REPLY = "OK PING reply=pong\r\nPONG\r\n"


class Terminal:
    """The pty's slave, opened like a terminal program would."""

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.seen = b""

    def _read_for(self, seconds: float) -> bytes:
        got = b""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if not select.select([self.fd], [], [], left)[0]:
                break
            try:
                chunk = os.read(self.fd, READ_CHUNK_BYTES)
            except BlockingIOError:
                continue
            got += chunk
            self.seen += chunk
        return got

    def until_prompt(self, timeout_s: float, start: int) -> str:
        end = time.monotonic() + timeout_s
        while UART_PROMPT.encode() not in self.seen[start:] and time.monotonic() < end:
            self._read_for(min(0.1, max(0.0, end - time.monotonic())))
        text = self.seen[start:].decode(errors="replace")
        assert UART_PROMPT in text, f"no prompt within {timeout_s} s: {text[-500:]!r}"
        return text[: text.index(UART_PROMPT)]

    def command(self, line: str) -> str:
        start = len(self.seen)
        os.write(self.fd, line.encode() + b"\n")
        return self.until_prompt(REPLY_TIMEOUT_S, start)

    def quiet_bytes(self, seconds: float) -> bytes:
        return self._read_for(seconds)

    def close(self) -> None:
        os.close(self.fd)


def test_uart_pty_does_not_echo_its_output_back_and_answers_after_a_terminal_reconnects(hive):
    if not has_cpu_times():
        pytest.skip("needs /proc/<pid>/schedstat for CPU times")
    sim = boot_board(hive, uart="pty")
    path = sim.expect_log(PTY_RE, BOOT_TIMEOUT_S, what="the pty's path").group(1)

    term = Terminal(path)
    term.until_prompt(BOOT_TIMEOUT_S, 0)  # the boot prompt, written before anyone listened
    # No echo storm: once the prompt is out, nothing more comes unless asked.
    assert term.quiet_bytes(QUIET_S) == b""
    assert term.command("ping") == "ping\r\n" + PING_REPLY
    assert "OK HELP" in term.command("help")
    assert term.quiet_bytes(QUIET_S) == b""
    assert "unsupported console command" not in sim.log.text()

    term.close()
    # Detached: the firmware sleeps; it neither spins on the hung-up pty nor keeps output for later.
    idle = cpu_ms_over(sim.proc.pid, DETACHED_S)
    assert idle <= DETACHED_CPU_MS_MAX, f"with no terminal the firmware ran {idle:.1f} ms in {DETACHED_S} s"

    again = Terminal(path)
    assert again.command("ping") == "ping\r\n" + PING_REPLY
    assert again.quiet_bytes(QUIET_S) == b""
    again.close()
    # And once more, for a terminal that comes back a second time.
    third = Terminal(path)
    assert re.search(r"\[tasks\] total=\d+", third.command("tasks"))
    third.close()
