"""The js/ fuzz targets run inside quickjs-ng (the js-fuzz image): no contract broken, and the arena flat once the corpus froze."""
import re

from hivekit import BUILD, firmware_log

IMAGE = BUILD / "images" / "js-fuzz.img"
# Rounds read after the corpus froze (js/fuzz/limits.ts FUZZ_FIRMWARE_WARMUP_ROUNDS is 5); each is ~1 s of fuzzing.
ROUNDS_AFTER_FREEZE = 8
RUN_TIMEOUT_S = 120
# js/fuzz/limits.ts FUZZ_FIRMWARE_ARENA_SLACK_BYTES.
ARENA_SLACK_BYTES = 256 * 1024
ROUND = re.compile(r"^\[js-fuzz\] fuzz round=(\d+) inputs=(\d+) crashes=(\d+) hangs=(\d+) arena_used=(\d+)$")


def test_fuzz_targets_hold_inside_quickjs_ng_with_a_flat_arena():
    lines, rounds, frozen_at = [], [], None
    with firmware_log(IMAGE, RUN_TIMEOUT_S) as log:
        for line in log:
            lines.append(line)
            if "fuzz corpus frozen" in line:
                frozen_at = len(rounds)
            m = ROUND.match(line)
            if m:
                rounds.append(tuple(int(x) for x in m.groups()))
                if frozen_at is not None and len(rounds) - frozen_at > ROUNDS_AFTER_FREEZE:
                    break
    fails = [l for l in lines if "fuzz FAIL" in l or "fault" in l]
    assert not fails, "\n".join(fails)
    assert frozen_at is not None and len(rounds) > frozen_at + ROUNDS_AFTER_FREEZE, "\n".join(lines[-20:])
    _, inputs, crashes, hangs, _ = rounds[-1]
    assert (crashes, hangs) == (0, 0)
    assert inputs > rounds[0][1], "the task fuzzed nothing after its first round"
    base = rounds[frozen_at][4]
    after = [r[4] for r in rounds[frozen_at:]]
    assert max(after) - base <= ARENA_SLACK_BYTES, f"arena grew after the corpus froze: {base} -> {after}"
