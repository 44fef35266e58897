// Test support: reads the recorded nvidia-smi samples and plays them back as an SmiRunner.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SmiRunner } from './discovery.js';
import { BridgeError } from './errors.js';

/** The repo root, from build/tsc/host/gpu-bridge/. */
export const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

export function fixture(name: string): string {
  return readFileSync(join(REPO, 'host/gpu-bridge/fixtures', name), 'utf8');
}

/** Answers the query with `csv` and the plain run with `header`; a code or error value for either. */
export function fixtureRunner(csv: string | { code: number; text: string } | BridgeError, header: string | { code: number; text: string } | BridgeError): SmiRunner & { calls: string[][] } {
  const calls: string[][] = [];
  const answer = (a: typeof csv) => (a instanceof BridgeError ? a : typeof a === 'string' ? { code: 0, stdout: fixture(a), stderr: '' } : { code: a.code, stdout: fixture(a.text), stderr: '' });
  const run = ((args: readonly string[]) => {
    calls.push([...args]);
    return Promise.resolve(args.length === 0 ? answer(header) : answer(csv));
  }) as SmiRunner & { calls: string[][] };
  run.calls = calls;
  return run;
}
