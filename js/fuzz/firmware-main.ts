// The js-fuzz firmware task: every TS fuzz target in turn inside quickjs-ng, logging inputs, failures and arena use per round.
import type { Caps, TaskConfig } from '../caps/index.js';
import { toHex } from '../bytes/utf8.js';
import { Fuzzer } from './engine.js';
import { FUZZ_TARGETS } from './index.js';
import { FUZZ_FIRMWARE_INPUT_LOG_BYTES_MAX, FUZZ_FIRMWARE_TURN_MS, FUZZ_FIRMWARE_WARMUP_ROUNDS } from './limits.js';

/** Seed of the firmware run; rounds differ from the Node run's (seed 1) so the two cover different inputs. */
const FIRMWARE_SEED = 0x5eed;
/** Inputs between clock reads inside one turn. */
const TURN_CHUNK_INPUTS = 16;

export default function main(caps: Caps, config: TaskConfig): void {
  const fuzzers = FUZZ_TARGETS.map((t) => new Fuzzer(t, FIRMWARE_SEED, { nowMs: () => caps.timer.nowMs() }));
  const reported = fuzzers.map(() => 0);
  let next = 0;
  let round = 0;
  const arenaUsed = (): number => {
    for (const t of caps.task.list()) if (t.id === config.id) return t.arenaUsedBytes;
    return -1;
  };
  const turn = (): void => {
    const f = fuzzers[next];
    const t0 = caps.timer.nowMs();
    while (caps.timer.nowMs() - t0 < FUZZ_FIRMWARE_TURN_MS) f.run(TURN_CHUNK_INPUTS);
    for (; reported[next] < f.failures.length; reported[next]++) {
      const x = f.failures[reported[next]];
      caps.log.write(`fuzz FAIL target=${x.target} kind=${x.kind} hash=${x.hash} input=${toHex(x.input.subarray(0, FUZZ_FIRMWARE_INPUT_LOG_BYTES_MAX))} ${x.message}`);
    }
    next = (next + 1) % fuzzers.length;
    if (next === 0) {
      round++;
      let inputs = 0;
      let crashes = 0;
      let hangs = 0;
      for (const z of fuzzers) {
        const s = z.stats();
        inputs += s.inputs;
        crashes += s.crashes;
        hangs += s.hangs;
      }
      if (round === FUZZ_FIRMWARE_WARMUP_ROUNDS) {
        // From here the fuzzer holds what it holds: the arena must stay flat (checked by harness and npm run fuzz).
        for (const z of fuzzers) z.freeze();
        caps.log.write(`fuzz corpus frozen after round ${round}`);
      }
      caps.log.write(`fuzz round=${round} inputs=${inputs} crashes=${crashes} hangs=${hangs} arena_used=${arenaUsed()}`);
      if (round === 1) caps.log.write(`fuzz targets ${fuzzers.map((z) => z.target.name).join(',')}`);
    }
    caps.timer.setTimeout(turn, 0);
  };
  turn();
}
