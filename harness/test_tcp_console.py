# test_tcp_console: the TCP console's framing, AUTH, PING and the refusals of a bad or missing token.
import time

from hivekit import AUTH_DEADLINE_S, AUTH_TOKEN

# Slack on the AUTH deadline: the pump's timer and the TCP close take a few ms, a loaded CI box more.
AUTH_DEADLINE_SLACK_S = 1.5
# A wrong token of the right length, so the refusal is about the token (a wrong length is refused first).
WRONG_TOKEN = "x" * len(AUTH_TOKEN)


def test_auth_then_ping_gets_pong(dev_image, hive, console):
    sim = hive(dev_image, uart="none")
    c = console(sim.port)
    assert c.command(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    assert c.command("PING", replies=2) == ["OK PING reply=pong", "PONG"]


def test_wrong_token_is_refused_invalid_token_and_closed(dev_image, hive, console):
    sim = hive(dev_image, uart="none")
    c = console(sim.port)
    assert c.command(f"AUTH {WRONG_TOKEN}") == ["ERR AUTH reason=invalid-token"]
    c.wait_closed(AUTH_DEADLINE_SLACK_S)


def test_no_auth_within_deadline_closes_socket(dev_image, hive, console):
    sim = hive(dev_image, uart="none")
    c = console(sim.port)
    t0 = time.monotonic()
    c.wait_closed(AUTH_DEADLINE_S + AUTH_DEADLINE_SLACK_S)
    waited = time.monotonic() - t0
    # Closed by the deadline, not at once: a console that drops every new connection would fail here.
    assert waited >= AUTH_DEADLINE_S - AUTH_DEADLINE_SLACK_S, f"closed after {waited:.2f} s"
