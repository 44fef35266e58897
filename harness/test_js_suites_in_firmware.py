"""The js/ testkit suites, run inside quickjs-ng by the host firmware: the same tests Node runs, on the other engine."""
import os
import re

from hivekit import BUILD, REPO, firmware_log

IMAGE = BUILD / "images" / "js-tests.img"
# The suites take well under a second; the bound only keeps a hang from stalling CI: a suite
# awaiting a promise nothing settles leaves the firmware idle and silent, so the run is killed.
RUN_TIMEOUT_S = 60
SUMMARY = re.compile(r"^\[js-tests\] (\d+) passed, (\d+) failed$")


def test_js_suites_pass_inside_quickjs_ng():
    lines = []
    summary = None
    with firmware_log(IMAGE, RUN_TIMEOUT_S) as log:
        for line in log:
            lines.append(line)
            m = SUMMARY.match(line)
            if m:
                summary = (int(m.group(1)), int(m.group(2)))
                break
    assert summary is not None, (f"no summary line from the js-tests task within {RUN_TIMEOUT_S} s (a suite hung?):\n"
                                 + "\n".join(lines[-40:]))
    failures = [l for l in lines if l.startswith("[js-tests] not ok")]
    assert summary[1] == 0, "suites failed inside quickjs-ng:\n" + "\n".join(failures)
    # Every registered suite ran: the count is far above a handful (a broken import would register few).
    assert summary[0] >= 150, f"only {summary[0]} tests ran inside the firmware"


def test_the_firmware_bundle_imports_every_suite_but_the_property_ones():
    """The js-tests image carries every js/ suite (scripts/gen-firmware-tests.mjs), the Secure9P client
    and NineDoor suites among them; only the fast-check property suites stay on Node."""
    gen = os.path.join(REPO, "build", "gen", "firmware-tests.ts")
    with open(gen) as f:
        imported = set(re.findall(r"^import '\.\./\.\./(js/.+)\.js';$", f.read(), re.M))
    want = set()
    for d, _, files in os.walk(os.path.join(REPO, "js")):
        for n in files:
            if n.endswith(".test.ts") and not n.endswith(".prop.test.ts"):
                want.add(os.path.relpath(os.path.join(d, n), REPO)[: -len(".ts")])
    assert imported == want
    for suite in ["js/secure9p/client.test", "js/secure9p/codec.test", "js/secure9p/session.test", "js/tickets/token.test",
                  "js/ninedoor/client.test", "js/ninedoor/views.test", "js/ninedoor/wire.test", "js/ninedoor/tree.test"]:
        assert suite in imported, suite
