// Checks that the C copies of TS bounds and defaults agree: js/caps/limits.ts with bindings/limits.h, the console defaults with the firmwares' mains.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as limits from '../../js/caps/limits.js';
import { CONSOLE_AUTH_TOKEN_DEV, CONSOLE_PORT_DEFAULT } from '../../js/console/limits.js';
import { DEV_TICKET_SECRETS } from '../../js/tickets/dev-secrets.js';
import {
  TASK_ARENA_BYTES_MAX, TASK_ARENA_BYTES_MIN, TASK_ARENA_PAGE_BYTES, TASK_CPU_SLICE_MS_MAX, TASK_CPU_SLICE_MS_MIN,
} from '../image/manifest.js';

test('limits: every TS bound has the same value in bindings/limits.h and back', () => {
  const header = readFileSync('bindings/limits.h', 'utf8');
  const c = new Map<string, number>();
  for (const m of header.matchAll(/^#define ([A-Z0-9_]+) (\d+)$/gm)) c.set(m[1], Number(m[2]));
  const ts = Object.entries(limits).filter(([, v]) => typeof v === 'number') as [string, number][];
  assert.ok(ts.length > 5);
  for (const [name, value] of ts) assert.equal(c.get(name), value, `bindings/limits.h ${name}`);
  for (const [name, value] of c) assert.equal((limits as Record<string, unknown>)[name], value, `js/caps/limits.ts ${name}`);
});

test('limits: the console port and dev token defaults of the host firmware and the seL4 root task are js/console/limits.ts', () => {
  const sim = readFileSync('host/sim/main.c', 'utf8');
  assert.match(sim, new RegExp(`^#define SIM_DEFAULT_CONSOLE_PORT ${CONSOLE_PORT_DEFAULT}$`, 'm'));
  assert.match(sim, new RegExp(`^#define SIM_DEFAULT_AUTH_TOKEN "${CONSOLE_AUTH_TOKEN_DEV}"$`, 'm'));
  const sel4 = readFileSync('sel4-platform/root_task.c', 'utf8');
  assert.match(sel4, new RegExp(`\\\\"console\\\\":\\{\\\\"port\\\\":${CONSOLE_PORT_DEFAULT},`));
});

test('limits: the image tool checks a manifest with the firmware\'s task bounds (engine/port/task.h)', () => {
  const header = readFileSync('engine/port/task.h', 'utf8');
  const c = new Map<string, number>();
  // `(64u * 1024u)` and `10000u`: products of unsigned literals.
  for (const m of header.matchAll(/^#define (TASK_[A-Z0-9_]+) \(?([0-9u *]+)\)?$/gm)) {
    c.set(m[1], m[2].split('*').reduce((p, f) => p * Number(f.trim().replace(/u$/, '')), 1));
  }
  for (const [name, value] of Object.entries({ TASK_ARENA_BYTES_MIN, TASK_ARENA_BYTES_MAX, TASK_CPU_SLICE_MS_MIN, TASK_CPU_SLICE_MS_MAX })) {
    assert.equal(c.get(name), value, `engine/port/task.h ${name}`);
  }
  // A page-multiple arena is also aligned for the engine's allocator.
  assert.equal(TASK_ARENA_PAGE_BYTES % 16, 0);
});

test('limits: the dev ticket secrets of js/tickets/dev-secrets.ts are the ones the dev boards\' manifests give root-task', () => {
  for (const board of ['boards/host/manifest.json', 'boards/qemu-virt-aarch64/manifest.json']) {
    const manifest = JSON.parse(readFileSync(board, 'utf8')) as { tasks: { config?: { tickets?: unknown } }[] };
    const tickets = manifest.tasks.map((t) => t.config?.tickets).filter((t) => t !== undefined);
    assert.deepEqual(tickets, [DEV_TICKET_SECRETS], board);
  }
});
