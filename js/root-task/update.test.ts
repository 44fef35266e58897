// UPDATE verb and UpdateService over a fake update capability: the parse errors, the flow, resume after a dropped session, each refusal by name and the restart after COMMIT.
import { test, equal, ok, deepEqual } from '../testkit/index.js';
import type { SlotLetter, UpdateCap, UpdateCommit, UpdateStatus } from '../caps/index.js';
import { utf8Length } from '../bytes/utf8.js';
import { base64Encode } from '../bytes/base64.js';
import { CONSOLE_LINE_BYTES_MAX } from '../console/limits.js';
import { ParseError, parseRequest } from '../console/request.js';
import { UPDATE_CHUNK_BYTES_MAX, UpdateRefusal, type UpdateOp } from '../console/update.js';
import { UPDATE_IMAGE_BYTES_MAX, UPDATE_RESTART_DELAY_MS, UPDATE_STAGE_IDLE_MS, UpdateService } from './update.js';

const DIGEST_A = 'aa'.repeat(32);
const DIGEST_B = 'bb'.repeat(32);

function capError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'CapError', code, cap: 'update' });
}

/** The device side as bindings/update.c behaves: one staged upload, in order, resumable by size and digest. */
class FakeUpdate implements UpdateCap {
  slots = true;
  running: SlotLetter = 'A';
  staged: { bytes: number; received: number; digest: string } | null = null;
  installed = false;
  restarts = 0;
  verdict: UpdateCommit = { slot: 'B', imageId: 'next' };

  status(): UpdateStatus {
    return {
      slots: this.slots, running: this.slots ? this.running : null, target: this.slots ? (this.running === 'A' ? 'B' : 'A') : null,
      bytesMax: UPDATE_IMAGE_BYTES_MAX, installed: this.installed, staged: this.staged === null ? null : { ...this.staged },
    };
  }
  begin(bytes: number, digest: string): { slot: SlotLetter; offset: number; resumed: boolean } {
    if (!this.slots) throw capError('NotFound', 'no slots');
    const resumed = this.staged !== null && this.staged.bytes === bytes && this.staged.digest === digest;
    if (!resumed) this.staged = { bytes, received: 0, digest };
    return { slot: 'B', offset: this.staged!.received, resumed };
  }
  write(offset: number, chunk: Uint8Array): number {
    if (this.staged === null) throw capError('NotFound', 'no update is staged');
    if (offset !== this.staged.received) throw capError('Invalid', 'out of order');
    this.staged.received += chunk.length;
    return this.staged.received;
  }
  commit(): UpdateCommit {
    if (this.staged === null) throw capError('NotFound', 'no update is staged');
    if (this.staged.received !== this.staged.bytes) return { refused: 'incomplete', error: `received ${this.staged.received} of ${this.staged.bytes} bytes` };
    this.staged = null;
    if (this.verdict.refused === undefined) this.installed = true;
    return this.verdict;
  }
  abort(): void {
    this.staged = null;
  }
  restart(): void {
    this.restarts++;
  }
}

function service() {
  const dev = new FakeUpdate();
  const clock = { ms: 1_000 };
  const timers: Array<{ ms: number; fn: () => void }> = [];
  const logs: string[] = [];
  const svc = new UpdateService({ update: dev, nowMs: () => clock.ms, later: (ms, fn) => timers.push({ ms, fn }), log: (l) => logs.push(l) });
  return { svc, dev, clock, timers, logs };
}

function wire(r: string | UpdateRefusal): string {
  return r instanceof UpdateRefusal ? `ERR reason=${r.cls} ${r.wire()}` : `OK ${r}`;
}

function data(offset: number, n: number): UpdateOp {
  return { op: 'data', offset, chunk: new Uint8Array(n) };
}

/** DATA from `from` to `to` in full chunks; returns the last answer. */
function send(svc: UpdateService, session: string, from: number, to: number): string {
  let last = '';
  for (let off = from; off < to; off += UPDATE_CHUNK_BYTES_MAX) last = wire(svc.handle(session, data(off, Math.min(UPDATE_CHUNK_BYTES_MAX, to - off))));
  return last;
}

// --- parsing ---------------------------------------------------------------------------------

test('update verb: each stage parses; a missing or bad argument is named in ERR PARSE', () => {
  const P = 'ERR PARSE reason=policy detail=';
  const r = parseRequest(`update begin 1000 ${DIGEST_A.toUpperCase()}`);
  ok(!(r instanceof ParseError) && r.verb === 'update');
  deepEqual((r as { op: UpdateOp }).op, { op: 'begin', bytes: 1000, digest: DIGEST_A });
  for (const [line, want] of [
    ['UPDATE', `${P}missing required argument: stage`],
    ['UPDATE BEGIN', `${P}missing required argument: bytes`],
    ['UPDATE BEGIN 10', `${P}missing required argument: digest`],
    ['UPDATE BEGIN 0 ' + DIGEST_A, `${P}invalid value for argument bytes`],
    ['UPDATE BEGIN 10 abc', `${P}invalid value for argument digest`],
    ['UPDATE DATA', `${P}missing required argument: offset`],
    ['UPDATE DATA 0', `${P}missing required argument: chunk`],
    ['UPDATE DATA x AAAA', `${P}invalid value for argument offset`],
    ['UPDATE DATA 0 ' + base64Encode(new Uint8Array(UPDATE_CHUNK_BYTES_MAX + 3)), `${P}invalid value for argument chunk`],
    ['UPDATE COMMIT now', `${P}invalid value for argument stage`],
    ['UPDATE FLASH', `${P}invalid value for argument stage`],
  ]) {
    const p = parseRequest(line);
    ok(p instanceof ParseError, line);
    equal((p as ParseError).line(), want, line);
  }
  // An oversize BEGIN parses: the refusal is the device's too-big, not a parse error.
  ok(!(parseRequest(`UPDATE BEGIN ${UPDATE_IMAGE_BYTES_MAX + 1} ${DIGEST_A}`) instanceof ParseError));
  // A full DATA line at the largest offset stays under the console's line bound.
  const line = `UPDATE DATA ${UPDATE_IMAGE_BYTES_MAX} ${base64Encode(new Uint8Array(UPDATE_CHUNK_BYTES_MAX))}`;
  ok(utf8Length(line) <= CONSOLE_LINE_BYTES_MAX, `${utf8Length(line)} bytes`);
});

// --- the service -----------------------------------------------------------------------------

test('update service: BEGIN, DATA in order, COMMIT installs, then the restart is scheduled after the answer', () => {
  const { svc, dev, timers } = service();
  equal(wire(svc.handle('s1', { op: 'begin', bytes: 400, digest: DIGEST_A })), `OK stage=begin slot=B bytes=400 offset=0 chunk_max=${UPDATE_CHUNK_BYTES_MAX}`);
  equal(send(svc, 's1', 0, 400), 'OK stage=data received=400');
  equal(wire(svc.handle('s1', { op: 'commit' })), `OK stage=commit slot=B image=next restart_ms=${UPDATE_RESTART_DELAY_MS}`);
  equal(dev.restarts, 0, 'not before the answer has gone out');
  equal(timers.length, 1);
  equal(timers[0].ms, UPDATE_RESTART_DELAY_MS);
  timers[0].fn();
  equal(dev.restarts, 1);
  equal(wire(svc.handle('s1', { op: 'status' })), 'OK stage=status running=A target=B staged=none installed=1');
  equal(wire(svc.handle('s2', { op: 'begin', bytes: 400, digest: DIGEST_B })), 'ERR reason=busy detail=restart-pending slot=B');
});

test('update service: a dropped session resumes from the bytes held; another image is refused meanwhile', () => {
  const { svc, clock } = service();
  svc.handle('s1', { op: 'begin', bytes: 1000, digest: DIGEST_A });
  send(svc, 's1', 0, 336);
  svc.abandon('s1');
  equal(wire(svc.handle('s2', { op: 'begin', bytes: 2000, digest: DIGEST_B })), 'ERR reason=busy detail=update-in-progress received=336 bytes=1000');
  equal(wire(svc.handle('s2', { op: 'begin', bytes: 1000, digest: DIGEST_A })), `OK stage=begin slot=B bytes=1000 offset=336 chunk_max=${UPDATE_CHUNK_BYTES_MAX}`);
  equal(wire(svc.handle('s1', data(336, 10))), 'ERR reason=policy detail=no-staged-update', 'the old session owns nothing');
  equal(wire(svc.handle('s2', data(0, 10))), 'ERR reason=policy detail=out-of-order expected=336');
  equal(send(svc, 's2', 336, 1000), 'OK stage=data received=1000');
  // Left idle past the window, another image may replace it.
  svc.abandon('s2');
  clock.ms += UPDATE_STAGE_IDLE_MS;
  equal(wire(svc.handle('s3', { op: 'begin', bytes: 2000, digest: DIGEST_B })), `OK stage=begin slot=B bytes=2000 offset=0 chunk_max=${UPDATE_CHUNK_BYTES_MAX}`);
});

test('update service: refusals by name — incomplete, past the size, too big, the device\'s verdict, no slots', () => {
  const { svc, dev } = service();
  equal(wire(svc.handle('s1', { op: 'begin', bytes: UPDATE_IMAGE_BYTES_MAX + 1, digest: DIGEST_A })), `ERR reason=quota detail=too-big max=${UPDATE_IMAGE_BYTES_MAX}`);
  svc.handle('s1', { op: 'begin', bytes: 200, digest: DIGEST_A });
  send(svc, 's1', 0, 168);
  equal(wire(svc.handle('s1', data(168, 168))), 'ERR reason=policy detail=invalid-payload bytes=200 error=past the announced size');
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=incomplete error=received 168 of 200 bytes');
  send(svc, 's1', 168, 200);
  dev.verdict = { refused: 'bad-signature', error: 'image: signature: Ed25519 signature by key 1234 does not verify' };
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=bad-signature error=image: signature: Ed25519 signature by key 1234 does not verify');
  equal(dev.installed, false);
  equal(wire(svc.handle('s1', { op: 'commit' })), 'ERR reason=policy detail=no-staged-update');
  dev.slots = false;
  equal(wire(svc.handle('s1', { op: 'begin', bytes: 200, digest: DIGEST_A })), 'ERR reason=policy detail=no-slots error=this hive did not boot from A/B slots');
  equal(wire(svc.handle('s1', { op: 'status' })), 'OK stage=status running=- target=- staged=none installed=0');
});

test('update service: ABORT drops the upload for its owner only; a missing grant answers unsupported', () => {
  const { svc, dev } = service();
  svc.handle('s1', { op: 'begin', bytes: 200, digest: DIGEST_A });
  equal(wire(svc.handle('s2', { op: 'abort' })), 'ERR reason=policy detail=no-staged-update');
  equal(wire(svc.handle('s1', { op: 'abort' })), 'OK stage=abort');
  equal(dev.staged, null);
  dev.status = () => {
    throw Object.assign(new Error('update not granted'), { name: 'CapabilityError', code: 'ECAP', cap: 'update' });
  };
  equal(wire(svc.handle('s1', { op: 'status' })), 'ERR reason=policy detail=unsupported error=root-task is not granted the update capability');
});
