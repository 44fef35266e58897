// cohsh reload: the local .qbc checks (corrupt, not bytecode, too big), the RELOAD lines, and the pipelined upload over real TCP, stopping at the first ERR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base64Decode } from '../../js/bytes/base64.js';
import { utf8Length } from '../../js/bytes/utf8.js';
import type { ReloadResult, TaskInfo } from '../../js/caps/index.js';
import { CONSOLE_LINE_BYTES_MAX } from '../../js/console/limits.js';
import { RELOAD_CHUNK_BYTES_MAX, ReloadRefusal } from '../../js/console/reload.js';
import { RELOAD_STAGE_BYTES_MAX, ReloadService } from '../../js/root-task/reload.js';
import { scratch } from './cli.support.js';
import { ConsoleClient } from './client.js';
import { runCommand, type ShellContext } from './commands.js';
import { CohshError } from './errors.js';
import { FakeConsoleServer } from './fake-server.support.js';
import { CommandRecord } from './output.js';
import { readQbc, reloadLines, RELOAD_PIPELINE_WINDOW } from './reload.js';
import { TcpTransport } from './tcp-transport.js';
import { tcpDiag } from './tcp-diag.js';
import { telemetryPush } from './telemetry-push.js';

/** Header bytes and where its SHA-256 sits (docs/image-format.md). */
const HEADER_BYTES = 104;
const DIGEST_OFFSET = 72;

/** A well-formed .qbc file as far as cohsh checks it: magic, and the header SHA-256 over header[0..72) + payload. */
function qbc(payloadBytes: number): Uint8Array {
  const f = new Uint8Array(HEADER_BYTES + payloadBytes);
  f.set(Buffer.from('COHQBC\r\n', 'latin1'), 0);
  for (let i = 8; i < DIGEST_OFFSET; i++) f[i] = i;
  for (let i = HEADER_BYTES; i < f.length; i++) f[i] = (i * 7) & 0xff;
  const h = createHash('sha256');
  h.update(f.subarray(0, DIGEST_OFFSET));
  h.update(f.subarray(HEADER_BYTES));
  f.set(h.digest(), DIGEST_OFFSET);
  return f;
}

function file(bytes: Uint8Array, name = 'task.qbc'): string {
  const p = join(scratch('cohsh-reload-'), name);
  writeFileSync(p, bytes);
  return p;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

test('readQbc: a sound file gives its bytes and the digest its header carries', () => {
  const f = qbc(1000);
  const r = readQbc(file(f));
  assert.ok(!(r instanceof CohshError), r instanceof CohshError ? r.message : '');
  assert.deepEqual(Array.from(r.bytes), Array.from(f));
  assert.equal(r.digest, hex(f.subarray(DIGEST_OFFSET, HEADER_BYTES)));
});

test('readQbc: a flipped byte anywhere (header, digest, payload) → corrupt', () => {
  const good = qbc(300);
  for (const at of [9, 40, 64, DIGEST_OFFSET, HEADER_BYTES - 1, HEADER_BYTES, good.length - 1]) {
    const bad = good.slice();
    bad[at] ^= 0x01;
    const p = file(bad);
    const r = readQbc(p);
    assert.ok(r instanceof CohshError, `byte ${at}`);
    assert.equal(r.message, `reload: ${p} is corrupt (its SHA-256 does not match its header)`, `byte ${at}`);
  }
});

test('readQbc: not a .qbc file (JavaScript source, wrong magic, header only) → not bytecode', () => {
  const js = file(Buffer.from('export default function main() {}\n'.repeat(10)), 'task.js');
  const wrongMagic = qbc(50);
  wrongMagic[0] = 'X'.charCodeAt(0);
  const headerOnly = qbc(50).subarray(0, HEADER_BYTES);
  for (const p of [js, file(wrongMagic), file(headerOnly)]) {
    const r = readQbc(p);
    assert.ok(r instanceof CohshError, p);
    assert.equal(r.message, `reload: ${p} is not a .qbc bytecode file (build one with cohc)`);
  }
});

test('readQbc: over the hive stage bound → refused before reading it; a missing file names the errno', () => {
  const big = file(new Uint8Array(RELOAD_STAGE_BYTES_MAX + 1));
  const r = readQbc(big);
  assert.ok(r instanceof CohshError);
  assert.equal(r.message, `reload: ${big} is ${RELOAD_STAGE_BYTES_MAX + 1} bytes; the hive stages at most ${RELOAD_STAGE_BYTES_MAX}`);
  const missing = join(scratch('cohsh-reload-'), 'nope.qbc');
  const m = readQbc(missing);
  assert.ok(m instanceof CohshError);
  assert.equal(m.message, `reload: cannot read ${missing}: ENOENT`);
});

test('reloadLines: BEGIN with size and digest, DATA chunks that rebuild the file exactly, each line ≤ 256 bytes', () => {
  const f = qbc(3 * RELOAD_CHUNK_BYTES_MAX + 5);
  const digest = hex(f.subarray(DIGEST_OFFSET, HEADER_BYTES));
  const l = reloadLines('worker-heart', f, digest);
  assert.equal(l.begin, `RELOAD BEGIN worker-heart ${f.length} ${digest}`);
  assert.equal(l.commit, 'RELOAD COMMIT');
  assert.equal(l.data.length, Math.ceil(f.length / RELOAD_CHUNK_BYTES_MAX));
  const rebuilt: number[] = [];
  for (const line of l.data) {
    assert.ok(utf8Length(line) <= CONSOLE_LINE_BYTES_MAX, line);
    const [, , offset, b64] = line.split(' ');
    assert.equal(Number(offset), rebuilt.length);
    const chunk = base64Decode(b64);
    assert.ok(chunk !== null && chunk.length <= RELOAD_CHUNK_BYTES_MAX);
    rebuilt.push(...chunk);
  }
  assert.deepEqual(rebuilt, Array.from(f));
  // The largest file the hive stages: its last DATA line still fits.
  const last = reloadLines('worker-heart', new Uint8Array(RELOAD_STAGE_BYTES_MAX).fill(0xff), digest).data.at(-1)!;
  assert.ok(utf8Length(last) <= CONSOLE_LINE_BYTES_MAX, `${utf8Length(last)} bytes`);
});

// --- over TCP: the pipelined upload ---------------------------------------------------------

function info(id: number, label: string, task: string): TaskInfo {
  return { id, label, task, state: 'running', fault: null, detail: '', arenaBytes: 0, arenaUsedBytes: 0, arenaPeakBytes: 0, cpuMs: 0 };
}

/** The fake server with root-task's real ReloadService over a fake task table; `swapped` is what reload() got. */
async function hive(): Promise<{ s: FakeConsoleServer; ctx: ShellContext; rec: CommandRecord; client: ConsoleClient; swapped: Uint8Array[] }> {
  const swapped: Uint8Array[] = [];
  const svc = new ReloadService({
    profile: 'dev',
    selfId: 1,
    tasks: {
      list: () => [info(1, 'root-task', 'root-task'), info(5, 'worker-1', 'worker-heart')],
      reload: (id, q): ReloadResult => {
        swapped.push(q.slice());
        return { id, restored: true, stateDropped: false, snapshotBytes: 9, ms: 2 };
      },
      setBundle: () => undefined,
    },
    manifestTasks: ['root-task', 'worker-heart'],
    nowMs: () => 0,
    log: () => undefined,
  });
  const s = new FakeConsoleServer();
  s.reload = (op) => svc.handle('tcp', op);
  const port = await s.start();
  const client = new ConsoleClient({
    transport: new TcpTransport('127.0.0.1', port),
    authToken: 'changeme',
    retry: { maxAttempts: 1, backoffMs: 10, ceilingMs: 20, timeoutMs: 3000 },
    heartbeatMs: 0,
    reconnect: false,
    attachBarrier: true,
    diag: () => undefined,
  });
  const rec = new CommandRecord(null);
  const ctx: ShellContext = { client, sink: rec, diagHost: '127.0.0.1', diagPort: port, telemetryPush, tcpDiag };
  assert.deepEqual(await runCommand(ctx, 'attach queen'), { ok: true });
  return { s, ctx, rec, client, swapped };
}

test('cohsh reload over TCP: BEGIN, every DATA in order, COMMIT; the hive gets the file byte for byte', async () => {
  const { s, ctx, rec, client, swapped } = await hive();
  try {
    const f = qbc(20 * RELOAD_CHUNK_BYTES_MAX + 11);
    const digest = hex(f.subarray(DIGEST_OFFSET, HEADER_BYTES));
    assert.deepEqual(await runCommand(ctx, `reload worker-1 ${file(f)}`), { ok: true });
    assert.deepEqual(rec.acks.slice(-2), [
      `OK RELOAD stage=begin target=worker-1 bytes=${f.length} chunk_max=${RELOAD_CHUNK_BYTES_MAX}`,
      'OK RELOAD stage=commit target=worker-1 tasks=1 restored=1 ms=2.00',
    ]);
    assert.equal(swapped.length, 1);
    assert.deepEqual(Array.from(swapped[0]), Array.from(f));
    assert.equal(s.reloads[0].op, 'begin');
    assert.ok(s.reloads[0].op === 'begin' && s.reloads[0].digest === digest);
    assert.equal(s.reloads.filter((o) => o.op === 'data').length, 21);
  } finally {
    await client.close();
    await s.stop();
  }
});

test('cohsh reload over TCP: the first ERR stops the pipeline (no DATA past the window), prints it, ABORTs, and fails', async () => {
  const { s, ctx, rec, client, swapped } = await hive();
  try {
    const chunks = 40;
    const f = qbc(chunks * RELOAD_CHUNK_BYTES_MAX - HEADER_BYTES);
    const refuseAt = 3 * RELOAD_CHUNK_BYTES_MAX;
    const real = s.reload!;
    // The hive refuses chunk 3 once, as if it had been lost; later chunks are then out of order.
    let refused = false;
    s.reload = (op) => {
      if (op.op === 'data' && op.offset === refuseAt && !refused) {
        refused = true;
        return new ReloadRefusal('policy', 'invalid-payload', '', 'scripted');
      }
      return real(op);
    };
    assert.deepEqual(await runCommand(ctx, `reload worker-1 ${file(f)}`), { ok: false });
    const data = s.reloads.filter((o) => o.op === 'data');
    // Chunks 0..3 answered in order; at most a window's worth was in flight behind chunk 3.
    assert.ok(data.length <= 4 + RELOAD_PIPELINE_WINDOW - 1, `${data.length} DATA lines reached the hive`);
    assert.ok(data.length < chunks);
    assert.deepEqual(s.reloads.at(-1), { op: 'abort' });
    assert.ok(!s.reloads.some((o) => o.op === 'commit'), 'no COMMIT after an ERR');
    const errs = rec.acks.filter((a) => a.startsWith('ERR RELOAD'));
    assert.equal(errs[0], 'ERR RELOAD reason=policy detail=invalid-payload error=scripted');
    // What was in flight behind it is refused as out of order, and printed too.
    for (const e of errs.slice(1)) assert.equal(e, 'ERR RELOAD reason=policy detail=out-of-order expected=504');
    assert.deepEqual(swapped, []);
    // The session is usable after: a fresh upload goes through.
    s.reload = real;
    assert.deepEqual(await runCommand(ctx, `reload worker-1 ${file(f)}`), { ok: true });
    assert.equal(swapped.length, 1);
  } finally {
    await client.close();
    await s.stop();
  }
});

test('cohsh reload: a refused BEGIN sends no DATA; local checks send nothing at all', async () => {
  const { s, ctx, rec, client } = await hive();
  try {
    const f = qbc(500);
    assert.deepEqual(await runCommand(ctx, `reload root-task ${file(f)}`), { ok: false });
    assert.equal(rec.acks.at(-1), 'ERR RELOAD reason=policy detail=not-reloadable target=root-task error=root-task holds the consoles: flash a new image instead');
    assert.deepEqual(s.reloads.map((o) => o.op), ['begin']);
    const bad = f.slice();
    bad[HEADER_BYTES + 3] ^= 0x80;
    assert.deepEqual(await runCommand(ctx, `reload worker-1 ${file(bad)}`), { ok: false });
    assert.deepEqual(await runCommand(ctx, `reload worker/1 ${file(f)}`), { ok: false });
    assert.equal(rec.errors.at(-1), "reload: invalid target 'worker/1' (a task label or manifest task name)");
    assert.deepEqual(s.reloads.map((o) => o.op), ['begin'], 'nothing more reached the hive');
  } finally {
    await client.close();
    await s.stop();
  }
});
