// Every TS fuzz target for a short fixed budget from a fixed seed: no crash, no runaway, on Node and in quickjs-ng alike.
import { equal, ok, test } from '../testkit/index.js';
import { Fuzzer } from './engine.js';
import { FUZZ_TARGETS } from './index.js';
import { FUZZ_SMOKE_INPUTS } from './limits.js';
import { mutateOnce } from './mutate.js';
import { Prng } from './prng.js';

/** The seed every test run uses, so a failure here reproduces exactly. */
const SMOKE_SEED = 1;

for (const target of FUZZ_TARGETS) {
  test(`fuzz ${target.name}: ${FUZZ_SMOKE_INPUTS} inputs from seed ${SMOKE_SEED} break no contract`, () => {
    const f = new Fuzzer(target, SMOKE_SEED);
    f.run(FUZZ_SMOKE_INPUTS);
    const s = f.stats();
    equal(s.inputs, FUZZ_SMOKE_INPUTS);
    equal(f.failures.map((x) => `${x.kind} ${x.hash}: ${x.message}`).join('\n'), '');
    // The seeds parse: a target whose every input is refused would fuzz nothing past the first check.
    ok(s.outcomes > 1, `${target.name}: only ${s.outcomes} distinct outcome(s)`);
  });
}

test('fuzz engine: the same seed gives the same inputs', () => {
  const run = (seed: number) => {
    const rng = new Prng(seed);
    let a: Uint8Array = new Uint8Array([1, 2, 3, 4]);
    const out: number[] = [];
    for (let i = 0; i < 200; i++) {
      a = mutateOnce(rng, a, { corpus: [Uint8Array.of(9, 9)], dictionary: [Uint8Array.of(7)] }, 64);
      out.push(a.length, a[0] ?? -1);
    }
    return out.join(',');
  };
  equal(run(5), run(5));
  ok(run(5) !== run(6), 'different seeds give different inputs');
});

test('fuzz engine: mutations never exceed the size bound', () => {
  const rng = new Prng(3);
  let a: Uint8Array = new Uint8Array(60);
  for (let i = 0; i < 2000; i++) {
    a = mutateOnce(rng, a, { corpus: [new Uint8Array(100)], dictionary: [new Uint8Array(50)] }, 64);
    ok(a.length <= 64, `length ${a.length}`);
  }
});

test('fuzz engine: a target that throws an undeclared error is a crash, a declared one is not', () => {
  class Declared {}
  const f = new Fuzzer({ name: 't', maxInputBytes: 8, dictionary: [], seeds: () => [Uint8Array.of(1), Uint8Array.of(2)],
    run: (b) => { if (b[0] === 1) throw new Declared(); if (b[0] === 2) throw new TypeError('boom'); return 'x'; },
    declared: (e) => e instanceof Declared }, 1);
  f.run(2);
  equal(f.stats().crashes, 1);
  equal(f.failures[0].message.startsWith('TypeError: boom'), true);
});
