# test_boot: the firmware boots an image to the UART banner and prompt, answers the UART console, and stops cleanly.
import re
import signal

from hivekit import BANNER, UART_PROMPT, EXIT_TIMEOUT_S

# What root-task writes first on the UART (js/root-task/main.ts, uart-console.ts).
BOOT_UART_TEXT = f"{BANNER}\r\nimage dev profile dev\r\n{UART_PROMPT}"


def test_boot_prints_banner_and_prompt_on_uart_and_answers_ping(dev_image, hive):
    sim = hive(dev_image)
    sim.expect_uart(re.escape(BOOT_UART_TEXT), what="banner and prompt")
    assert sim.uart.text().startswith(BOOT_UART_TEXT)
    # The UART echoes what is typed, then replies, then prompts again.
    assert sim.uart_command("ping") == "ping\r\nOK PING reply=pong\r\nPONG\r\n"


def test_sigterm_stops_with_exit_0_and_stopped_line(dev_image, hive):
    sim = hive(dev_image)
    sim.signal(signal.SIGTERM)
    assert sim.wait_exit(EXIT_TIMEOUT_S) == 0, sim.describe()
    assert sim.log.text().endswith("cohesix-sim: stopped\n"), sim.describe()
