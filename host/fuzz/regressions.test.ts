// Replays every saved fuzz find under fuzz/regressions/<target>/ through its TS target: each must now hold the contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkInput, FUZZ_TARGETS, fuzzTarget } from '../../js/fuzz/index.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DIR = join(ROOT, 'fuzz', 'regressions');

test('fuzz regressions: every TS target has a folder name it can be found by', () => {
  for (const t of FUZZ_TARGETS) assert.match(t.name, /^[a-z0-9-]+$/);
});

for (const target of existsSync(DIR) ? readdirSync(DIR).sort() : []) {
  const t = fuzzTarget(target);
  // C targets (fuzz_*) are replayed by their libFuzzer binaries (ctest in build/fuzz).
  if (!t) continue;
  for (const name of readdirSync(join(DIR, target)).filter((n) => n.endsWith('.bin')).sort()) {
    test(`fuzz regression ${target}/${name}`, () => {
      const { failure } = checkInput(t, new Uint8Array(readFileSync(join(DIR, target, name))));
      assert.equal(failure, null, failure?.message);
    });
  }
}
