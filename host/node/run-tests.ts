// Runs every compiled TS suite on Node: js/ suites register with testkit, host/ suites use node:test.
import { test as nodeTest } from 'node:test';
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registeredTests } from '../../js/testkit/index.js';

/** Bound on directory depth walked for test files. */
const WALK_DEPTH_MAX = 12;

function findTests(dir: string, depth: number, out: string[]): void {
  if (depth > WALK_DEPTH_MAX) return;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, depth + 1, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
}

const root = resolve(process.argv[2] ?? 'build/tsc');
const only = process.argv[3];
const files: string[] = [];
for (const top of ['js', 'host']) {
  try {
    findTests(join(root, top), 0, files);
  } catch {
    // a tree without that folder has no tests there
  }
}
for (const f of files) {
  if (only && !f.includes(only)) continue;
  await import(pathToFileURL(f).href);
}
for (const t of registeredTests()) {
  nodeTest(t.name, async () => {
    await t.fn();
  });
}
