// Checks that every copy of a bound shared by C, TS and Python agrees with its source: caps limits, console defaults, manifest, image and .qbc bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as limits from '../../js/caps/limits.js';
import { DEV_TICKET_SECRETS } from '../../js/tickets/dev-secrets.js';
import {
  AUTH_DEADLINE_MS, CONSOLE_AUTH_TOKEN_DEV, CONSOLE_PORT_DEFAULT, CONSOLE_SESSIONS_HARD_MAX, FRAME_DECLARED_BYTES_MAX, FRAME_HEADER_BYTES,
  FRAME_REQUEST_PAYLOAD_BYTES_MAX,
} from '../../js/console/limits.js';
import { NOFID } from '../../js/secure9p/limits.js';
import { QBC_DIGEST_BYTES as ROOT_QBC_DIGEST_BYTES, QBC_DIGEST_OFFSET as ROOT_QBC_DIGEST_OFFSET } from '../../js/root-task/reload.js';
import {
  AUTH_TOKEN_BYTES_MAX, MANIFEST_IMAGE_ID_BYTES_MAX, MANIFEST_NAME_BYTES_MAX, MANIFEST_TASKS_MAX,
  TASK_ARENA_BYTES_MAX, TASK_ARENA_BYTES_MIN, TASK_ARENA_PAGE_BYTES, TASK_CPU_SLICE_MS_MAX, TASK_CPU_SLICE_MS_MIN,
} from '../image/manifest.js';
import { UPDATE_IMAGE_BYTES_MAX } from '../../js/root-task/update.js';
import { UPDATE_CHUNK_BYTES_MAX } from '../../js/console/update.js';
import { RELOAD_CHUNK_BYTES_MAX } from '../../js/console/reload.js';
import { CPIO_ALIGN_BYTES, CPIO_BLOCK_BYTES, CPIO_HEADER_BYTES, IMAGE_BYTES_MAX, IMAGE_ENTRIES_MAX, IMAGE_NAME_BYTES_MAX } from '../image/cpio.js';
import { QBC_DIGEST_BYTES, QBC_HEADER_BYTES } from '../image/qbc.js';
import { FLASH_CHUNK_BYTES } from '../image/flash.js';

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

// ---- the manifest and image bounds, in C, TS and Python: one name, one meaning, every copy checked ----

/** Where the firmware core's headers live: firmware/ once the core moves there (issue 14 item 1), bindings/ before. */
const FIRMWARE_DIRS = ['firmware', 'bindings'];

/** The TS modules that hold bounds shared with C or Python (the compiled tree mirrors these paths). */
const TS_LIMIT_MODULES = [
  'js/caps/limits.ts', 'js/console/limits.ts', 'js/secure9p/limits.ts', 'js/ninedoor/limits.ts', 'js/root-task/reload.ts',
  'host/image/manifest.ts', 'host/image/cpio.ts', 'host/image/qbc.ts', 'host/image/flash.ts',
];

function firmwareHeader(name: string): string {
  for (const dir of FIRMWARE_DIRS) if (existsSync(join(dir, name))) return readFileSync(join(dir, name), 'utf8');
  throw new Error(`${name} is in none of ${FIRMWARE_DIRS.join(', ')}`);
}

/** An integer constant expression as C and Python write them (`(64u * 1024u)`, `1u << 30`, `0xFFFFFFFF`); undefined for anything else. */
function constValue(expr: string): number | undefined {
  const e = expr.trim().replace(/([0-9a-fA-F])[uU]\b/g, '$1');
  // Only digits, hex, parentheses and * + - << pass, so evaluating it runs no other code.
  if (!/^[0-9a-fA-Fx()*+\-<\s.]+$/.test(e) || /<(?!<)/.test(e.replace(/<</g, ''))) return undefined;
  const v = Function(`"use strict"; return (${e});`)() as unknown;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** NAME → value of every `#define NAME <integer expression>` in a C file. */
function cDefines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^#define ([A-Z][A-Z0-9_]*) ([^\n/]+?)\s*(?:\/\*.*)?$/gm)) {
    const v = constValue(m[2]);
    if (v !== undefined) out.set(m[1], v);
  }
  return out;
}

/** NAME → value of every top-level `NAME = <integer expression>` in a Python file. */
function pyConstants(path: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of readFileSync(path, 'utf8').matchAll(/^([A-Z][A-Z0-9_]*) = ([^#\n]+?)\s*(?:#.*)?$/gm)) {
    const v = constValue(m[2]);
    if (v !== undefined) out.set(m[1], v);
  }
  return out;
}

function need(map: Map<string, number>, name: string, where: string): number {
  const v = map.get(name);
  assert.notEqual(v, undefined, `${where} defines no ${name}`);
  return v as number;
}

test('limits: the image tool\'s manifest bounds are the firmware\'s manifest.h bounds, under the same names', () => {
  const c = cDefines(firmwareHeader('manifest.h'));
  for (const [name, value] of Object.entries({ MANIFEST_TASKS_MAX, MANIFEST_NAME_BYTES_MAX, MANIFEST_IMAGE_ID_BYTES_MAX, TASK_ARENA_PAGE_BYTES })) {
    assert.equal(need(c, name, 'manifest.h'), value, `manifest.h ${name}`);
  }
  // A task entry's bundle is no bigger than an image: the image tool bounds `size` by IMAGE_BYTES_MAX.
  assert.equal(need(c, 'MANIFEST_BUNDLE_SIZE_BYTES_MAX', 'manifest.h'), IMAGE_BYTES_MAX);
  // Every task a manifest lists fits the firmware's task table at once.
  assert.ok(MANIFEST_TASKS_MAX <= limits.TASKS_MAX);
  // Pages are whole allocator units: the engine's ARENA_ALIGN_BYTES divides TASK_ARENA_PAGE_BYTES.
  const arena = cDefines(readFileSync('engine/port/arena.h', 'utf8'));
  assert.equal(TASK_ARENA_PAGE_BYTES % need(arena, 'ARENA_ALIGN_BYTES', 'engine/port/arena.h'), 0);
  // Each console session is one socket: the image tool's max_sessions bound is the console's hard cap.
  assert.ok(CONSOLE_SESSIONS_HARD_MAX <= limits.NET_SOCKETS_MAX);
  assert.equal(AUTH_TOKEN_BYTES_MAX + 'AUTH '.length, FRAME_REQUEST_PAYLOAD_BYTES_MAX);
});

test('limits: the image and .qbc layout of the image tool and root-task is the firmware\'s (image.h, engine/port/qbc.h)', () => {
  const image = cDefines(firmwareHeader('image.h'));
  for (const [name, value] of Object.entries({ IMAGE_BYTES_MAX, IMAGE_ENTRIES_MAX, IMAGE_NAME_BYTES_MAX, CPIO_HEADER_BYTES, CPIO_BLOCK_BYTES })) {
    assert.equal(need(image, name, 'image.h'), value, `image.h ${name}`);
  }
  const qbc = cDefines(readFileSync('engine/port/qbc.h', 'utf8'));
  assert.equal(need(qbc, 'QBC_HEADER_BYTES', 'engine/port/qbc.h'), QBC_HEADER_BYTES);
  assert.equal(need(qbc, 'QBC_DIGEST_OFFSET', 'engine/port/qbc.h'), ROOT_QBC_DIGEST_OFFSET);
  assert.equal(ROOT_QBC_DIGEST_BYTES, QBC_DIGEST_BYTES);
  assert.equal(ROOT_QBC_DIGEST_OFFSET + ROOT_QBC_DIGEST_BYTES, QBC_HEADER_BYTES, 'the payload digest ends the header');
});

test('limits: an over-the-air update takes what boot takes, in RELOAD-sized console chunks (bindings/update.c, firmware/image.h)', () => {
  assert.equal(UPDATE_IMAGE_BYTES_MAX, IMAGE_BYTES_MAX);
  const update = cDefines(readFileSync('bindings/update.c', 'utf8'));
  assert.ok(UPDATE_CHUNK_BYTES_MAX <= need(update, 'UPDATE_WRITE_BYTES_MAX', 'bindings/update.c'), 'one DATA line is one device write');
  assert.equal(UPDATE_CHUNK_BYTES_MAX, RELOAD_CHUNK_BYTES_MAX);
});

test('limits: every Python copy of a C or TS bound (harness/, bench/) has its source\'s value', () => {
  const image = pyConstants('harness/image_kit.py');
  const expected: [Map<string, number>, string, string, number][] = [];
  const add = (map: Map<string, number>, file: string, values: Record<string, number>) => {
    for (const [name, value] of Object.entries(values)) expected.push([map, file, name, value]);
  };
  add(pyConstants('bench/firmware.py'), 'bench/firmware.py', { TASK_ARENA_PAGE_BYTES, TASK_ARENA_BYTES_MIN });
  add(image, 'harness/image_kit.py', {
    CPIO_HEADER_BYTES, CPIO_ALIGN_BYTES, CPIO_BLOCK_BYTES, IMAGE_ENTRIES_MAX, QBC_HEADER_BYTES, QBC_DIGEST_BYTES,
    QBC_FINGERPRINT_BYTES: QBC_DIGEST_BYTES, QBC_DIGEST_OFFSET: ROOT_QBC_DIGEST_OFFSET,
  });
  const hivekit = pyConstants('harness/hivekit.py');
  add(hivekit, 'harness/hivekit.py', { FRAME_HEADER_BYTES, FRAME_DECLARED_BYTES_MAX });
  add(pyConstants('harness/test_flash.py'), 'harness/test_flash.py', { FLASH_CHUNK_BYTES });
  const sim = cDefines(readFileSync('host/sim/main.c', 'utf8'));
  add(pyConstants('harness/test_slots.py'), 'harness/test_slots.py', { NOT_ONLINE_EXIT: need(sim, 'SIM_EXIT_NOT_ONLINE', 'host/sim/main.c') });
  add(pyConstants('harness/hive_ops.py'), 'harness/hive_ops.py', { NOFID });
  add(pyConstants('bench/ninep.py'), 'bench/ninep.py', { NOFID });
  const board = JSON.parse(readFileSync('boards/host/manifest.json', 'utf8')) as { tasks: { name: string; arena_bytes: number }[] };
  const heart = board.tasks.find((t) => t.name === 'worker-heart')?.arena_bytes ?? -1;
  add(pyConstants('harness/test_hive_worker_faults.py'), 'harness/test_hive_worker_faults.py', { WORKER_ARENA_BYTES: heart });
  add(pyConstants('bench/firmware.py'), 'bench/firmware.py', { ARENA_BYTES_SEARCH_MAX: heart });
  for (const [map, file, name, value] of expected) assert.equal(need(map, name, file), value, `${file} ${name}`);
  assert.equal(need(hivekit, 'AUTH_DEADLINE_S', 'harness/hivekit.py') * 1000, AUTH_DEADLINE_MS, 'harness/hivekit.py AUTH_DEADLINE_S');
  // The arenas and slices Python manifests ask for are ones the image tool takes.
  for (const [file, name] of [['harness/hivekit.py', 'ROOT_ARENA_BYTES'], ['harness/hivekit.py', 'TASK_ARENA_BYTES'],
    ['harness/test_task_faults.py', 'HOARD_ARENA_BYTES'], ['harness/test_sel4_qemu.py', 'HOARD_ARENA_BYTES']]) {
    const v = need(pyConstants(file), name, file);
    assert.ok(v >= TASK_ARENA_BYTES_MIN && v <= TASK_ARENA_BYTES_MAX && v % TASK_ARENA_PAGE_BYTES === 0, `${file} ${name} ${v}`);
  }
  for (const [file, name] of [['harness/hivekit.py', 'CPU_SLICE_MS'], ['bench/ninep_callgrind.py', 'CPU_SLICE_MS']]) {
    const v = need(pyConstants(file), name, file);
    assert.ok(v >= TASK_CPU_SLICE_MS_MIN && v <= TASK_CPU_SLICE_MS_MAX, `${file} ${name} ${v}`);
  }
});

test('limits: one name, one meaning: a name C or TS gives a bound has one value in every C, TS and Python file', async () => {
  const seen = new Map<string, Map<number, string>>();
  // Names only Python scripts use (their own timeouts and counts) are each script's knobs, not shared bounds.
  const shared = new Set<string>();
  const note = (where: string, values: Iterable<[string, unknown]>) => {
    if (!where.endsWith('.py')) for (const [name] of values) shared.add(name);
    for (const [name, v] of values) {
      if (typeof v !== 'number' || !/^[A-Z][A-Z0-9_]*$/.test(name)) continue;
      const byValue = seen.get(name) ?? new Map<number, string>();
      if (!byValue.has(v)) byValue.set(v, where);
      seen.set(name, byValue);
    }
  };
  const headers = ['engine/port', ...FIRMWARE_DIRS].flatMap((dir) =>
    existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.h')).map((f) => join(dir, f)) : []);
  for (const h of headers) note(h, cDefines(readFileSync(h, 'utf8')));
  for (const mod of TS_LIMIT_MODULES) note(mod, Object.entries(await import(`../../${mod.replace(/\.ts$/, '.js')}`) as object));
  for (const dir of ['harness', 'bench']) {
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.py')).sort()) note(join(dir, f), pyConstants(join(dir, f)));
  }
  assert.ok(seen.size > 100, `only ${seen.size} names found: is a source missing?`);
  const clashes = [...seen].filter(([name, byValue]) => shared.has(name) && byValue.size > 1)
    .map(([name, byValue]) => `${name}: ${[...byValue].map(([v, where]) => `${v} in ${where}`).join(', ')}`);
  assert.deepEqual(clashes, []);
});

test('limits: the dev ticket secrets of js/tickets/dev-secrets.ts are the ones the dev boards\' manifests give root-task', () => {
  for (const board of ['boards/host/manifest.json', 'boards/qemu-virt-aarch64/manifest.json']) {
    const manifest = JSON.parse(readFileSync(board, 'utf8')) as { tasks: { config?: { tickets?: unknown } }[] };
    const tickets = manifest.tasks.map((t) => t.config?.tickets).filter((t) => t !== undefined);
    assert.deepEqual(tickets, [DEV_TICKET_SECRETS], board);
  }
});
