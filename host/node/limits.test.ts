// Checks that js/caps/limits.ts and bindings/limits.h define the same bounds (one truth, two languages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as limits from '../../js/caps/limits.js';

test('limits: every TS bound has the same value in bindings/limits.h and back', () => {
  const header = readFileSync('bindings/limits.h', 'utf8');
  const c = new Map<string, number>();
  for (const m of header.matchAll(/^#define ([A-Z0-9_]+) (\d+)$/gm)) c.set(m[1], Number(m[2]));
  const ts = Object.entries(limits).filter(([, v]) => typeof v === 'number') as [string, number][];
  assert.ok(ts.length > 5);
  for (const [name, value] of ts) assert.equal(c.get(name), value, `bindings/limits.h ${name}`);
  for (const [name, value] of c) assert.equal((limits as Record<string, unknown>)[name], value, `js/caps/limits.ts ${name}`);
});
