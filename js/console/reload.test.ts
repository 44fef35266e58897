// RELOAD verb: every ERR PARSE line of its stages, the 256-byte line bound for DATA, and the dispatcher's order (release gate, queen, backend).
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { base64Encode } from '../bytes/base64.js';
import { utf8Length } from '../bytes/utf8.js';
import { AttachGuard } from './attach-guard.js';
import type { Answer } from './backend.js';
import { ConsoleDispatcher } from './dispatch.js';
import { CONSOLE_LINE_BYTES_MAX } from './limits.js';
import { RELOAD_CHUNK_BYTES_MAX, RELOAD_DIGEST_HEX_CHARS, ReloadRefusal, type ReloadOp } from './reload.js';
import { ParseError, parseRequest } from './request.js';
import { FakeBackend } from './session.support.js';
import { baseClaims, mintTicket } from '../tickets/index.js';

const P = 'ERR PARSE reason=policy detail=';
const DIGEST = 'ab'.repeat(RELOAD_DIGEST_HEX_CHARS / 2);

function refusal(line: string): string {
  const r = parseRequest(line);
  ok(r instanceof ParseError, `expected a refusal for ${JSON.stringify(line)}, got ${JSON.stringify(r)}`);
  return r.line();
}

function op(line: string): ReloadOp {
  const r = parseRequest(line);
  ok(!(r instanceof ParseError), `${line}: ${r instanceof ParseError ? r.line() : ''}`);
  ok(r.verb === 'reload', `${line} parsed as ${r.verb}`);
  return r.op;
}

// --- parsing ---------------------------------------------------------------------------------

test('reload parse: each stage, case-insensitive; the digest is kept lowercase', () => {
  deepEqual(op(`RELOAD BEGIN worker-3 4096 ${DIGEST.toUpperCase()}`), { op: 'begin', target: 'worker-3', bytes: 4096, digest: DIGEST });
  deepEqual(op(`reload begin worker-heart 1 ${DIGEST}`), { op: 'begin', target: 'worker-heart', bytes: 1, digest: DIGEST });
  const d = op('RELOAD DATA 168 AAEC');
  equal(d.op, 'data');
  if (d.op === 'data') {
    equal(d.offset, 168);
    deepEqual(Array.from(d.chunk), [0, 1, 2]);
  }
  deepEqual(op('RELOAD COMMIT'), { op: 'commit' });
  deepEqual(op('reload abort'), { op: 'abort' });
});

test('reload parse: a missing or unknown stage', () => {
  equal(refusal('RELOAD'), `${P}missing required argument: stage`);
  equal(refusal('RELOAD   '), `${P}missing required argument: stage`);
  equal(refusal('RELOAD START x 1 ' + DIGEST), `${P}invalid value for argument stage`);
  equal(refusal('RELOAD COMMIT now'), `${P}invalid value for argument stage`);
  equal(refusal('RELOAD ABORT all'), `${P}invalid value for argument stage`);
});

test('reload parse: BEGIN names each missing argument in order', () => {
  equal(refusal('RELOAD BEGIN'), `${P}missing required argument: target`);
  equal(refusal('RELOAD BEGIN worker-1'), `${P}missing required argument: bytes`);
  equal(refusal('RELOAD BEGIN worker-1 100'), `${P}missing required argument: digest`);
});

test('reload parse: BEGIN target must be a 1..31-byte name of [A-Za-z0-9._-]', () => {
  ok(!(parseRequest(`RELOAD BEGIN ${'t'.repeat(31)} 100 ${DIGEST}`) instanceof ParseError), '31 bytes is fine');
  equal(refusal(`RELOAD BEGIN ${'t'.repeat(32)} 100 ${DIGEST}`), `${P}invalid value for argument target`);
  equal(refusal(`RELOAD BEGIN worker/1 100 ${DIGEST}`), `${P}invalid value for argument target`);
  equal(refusal(`RELOAD BEGIN wörker 100 ${DIGEST}`), `${P}invalid value for argument target`);
});

test('reload parse: BEGIN bytes is a positive decimal up to 16 MiB', () => {
  for (const b of ['0', '-1', '1e3', '0x10', 'ten', '16777217', '1234567890']) {
    equal(refusal(`RELOAD BEGIN worker-1 ${b} ${DIGEST}`), `${P}invalid value for argument bytes`, b);
  }
  deepEqual(op(`RELOAD BEGIN worker-1 16777216 ${DIGEST}`), { op: 'begin', target: 'worker-1', bytes: 16777216, digest: DIGEST });
});

test('reload parse: BEGIN digest is exactly 64 hex chars and nothing follows it', () => {
  equal(refusal(`RELOAD BEGIN worker-1 100 ${DIGEST.slice(1)}`), `${P}invalid value for argument digest`);
  equal(refusal(`RELOAD BEGIN worker-1 100 ${DIGEST}0`), `${P}invalid value for argument digest`);
  equal(refusal(`RELOAD BEGIN worker-1 100 ${'g'.repeat(64)}`), `${P}invalid value for argument digest`);
  equal(refusal(`RELOAD BEGIN worker-1 100 ${DIGEST} extra`), `${P}invalid value for argument digest`);
});

test('reload parse: DATA needs an offset and a chunk', () => {
  equal(refusal('RELOAD DATA'), `${P}missing required argument: offset`);
  equal(refusal('RELOAD DATA 0'), `${P}missing required argument: chunk`);
});

test('reload parse: DATA offset is a decimal up to 16 MiB', () => {
  for (const o of ['-1', 'x', '1.5', '16777217']) equal(refusal(`RELOAD DATA ${o} AAEC`), `${P}invalid value for argument offset`, o);
});

test('reload parse: DATA chunk is strict base64 of 1..168 bytes', () => {
  equal(refusal('RELOAD DATA 0 AAE'), `${P}invalid value for argument chunk`, 'not a multiple of 4');
  equal(refusal('RELOAD DATA 0 AA-C'), `${P}invalid value for argument chunk`, 'outside the alphabet');
  equal(refusal('RELOAD DATA 0 ===='), `${P}invalid value for argument chunk`, 'no bytes');
  equal(refusal(`RELOAD DATA 0 ${base64Encode(new Uint8Array(RELOAD_CHUNK_BYTES_MAX + 1))}`), `${P}invalid value for argument chunk`, 'one byte over');
});

test('reload parse: the longest DATA line the parser takes fits the 256-byte console line', () => {
  const chunk = new Uint8Array(RELOAD_CHUNK_BYTES_MAX).fill(0xff);
  // The largest offset parseReloadArgs accepts: any real upload's offsets are shorter.
  const line = `RELOAD DATA 16777216 ${base64Encode(chunk)}`;
  ok(utf8Length(line) <= CONSOLE_LINE_BYTES_MAX, `${utf8Length(line)} bytes`);
  const d = op(line);
  ok(d.op === 'data' && d.chunk.length === RELOAD_CHUNK_BYTES_MAX && d.offset === 16777216);
  // And the BEGIN line with the longest target and size.
  const begin = `RELOAD BEGIN ${'t'.repeat(31)} 16777216 ${DIGEST}`;
  ok(utf8Length(begin) <= CONSOLE_LINE_BYTES_MAX, `${utf8Length(begin)} bytes`);
  equal(op(begin).op, 'begin');
});

test('reload refusal: wire() puts k=v tokens before error= and flattens newlines', () => {
  equal(new ReloadRefusal('policy', 'out-of-order', 'expected=168').wire(), 'detail=out-of-order expected=168');
  equal(new ReloadRefusal('policy', 'rolled-back', '', 'main threw\nat line 3').wire(), 'detail=rolled-back error=main threw at line 3');
  equal(new ReloadRefusal('policy', 'release-image').wire(), 'detail=release-image');
});

// --- dispatcher order ------------------------------------------------------------------------

/** A backend with RELOAD; `gate` plays a release image, `reply` is what reload() returns. */
class ReloadBackend extends FakeBackend {
  gate: ReloadRefusal | null = null;
  reply: string | ReloadRefusal = 'stage=abort';
  readonly ops: ReloadOp[] = [];
  reloadGate(): ReloadRefusal | null {
    this.trace.push('call reloadGate');
    return this.gate;
  }
  reload(o: ReloadOp): Answer<string | ReloadRefusal> {
    this.ops.push(o);
    this.trace.push(`call reload ${o.op}`);
    return this.async ? Promise.resolve(this.reply) : this.reply;
  }
}

function dispatcher(backend: FakeBackend) {
  const lines: string[] = [];
  const d = new ConsoleDispatcher(backend, new AttachGuard(), (l) => lines.push(l));
  const say = async (line: string): Promise<string[]> => {
    const from = lines.length;
    await d.run(line, 1);
    return lines.slice(from);
  };
  return { d, say, lines };
}

test('reload dispatch: a release image refuses anyone, before the queen check, and the backend never runs', async () => {
  const b = new ReloadBackend();
  b.gate = new ReloadRefusal('policy', 'release-image');
  const { say } = dispatcher(b);
  // Not attached at all: the gate's answer, not unauthenticated.
  deepEqual(await say('RELOAD ABORT'), ['ERR RELOAD reason=policy detail=release-image']);
  deepEqual(await say('attach queen'), ['OK ATTACH role=queen']);
  deepEqual(await say(`RELOAD BEGIN worker-1 200 ${DIGEST}`), ['ERR RELOAD reason=policy detail=release-image']);
  deepEqual(b.ops, []);
  deepEqual(b.notes.filter((n) => n.kind === 'refusal').length, 2, 'each refusal counts in pressure');
});

test('reload dispatch: not a queen → unauthenticated; the backend never runs', async () => {
  const b = new ReloadBackend();
  const { say } = dispatcher(b);
  deepEqual(await say('RELOAD COMMIT'), ['ERR RELOAD reason=policy detail=unauthenticated']);
  deepEqual(b.ops, []);
  ok(b.trace.includes('call reloadGate'), 'the gate was asked first');
});

test('reload dispatch: a worker attachment is not a queen', async () => {
  const b = new ReloadBackend();
  const { say } = dispatcher(b);
  // A worker ticket minted with the dev secret (session.support's DEV_SECRETS).
  const t = mintTicket({ ...baseClaims('worker-heartbeat', 0n), subject: 'worker-1' }, 'worker') as string;
  deepEqual(await say(`attach worker ${t}`), ['OK ATTACH role=worker-heartbeat']);
  deepEqual(await say('RELOAD ABORT'), ['ERR RELOAD reason=policy detail=unauthenticated']);
  deepEqual(b.ops, []);
});

test('reload dispatch: a backend without reload() → unsupported', async () => {
  const b = new FakeBackend();
  const { say } = dispatcher(b);
  await say('attach queen');
  deepEqual(await say('RELOAD ABORT'), ['ERR RELOAD reason=policy detail=unsupported']);
});

test('reload dispatch: a queen reaches the backend; OK detail or its refusal, sync or async', async () => {
  for (const async of [false, true]) {
    const b = new ReloadBackend();
    b.async = async;
    const { say } = dispatcher(b);
    await say('attach queen');
    b.reply = 'stage=data received=3';
    deepEqual(await say('RELOAD DATA 0 AAEC'), ['OK RELOAD stage=data received=3']);
    b.reply = new ReloadRefusal('policy', 'out-of-order', 'expected=3');
    deepEqual(await say('RELOAD DATA 0 AAEC'), ['ERR RELOAD reason=policy detail=out-of-order expected=3']);
    b.reply = new ReloadRefusal('busy', 'reload-in-progress', 'target=worker-2');
    deepEqual(await say(`RELOAD BEGIN worker-1 200 ${DIGEST}`), ['ERR RELOAD reason=busy detail=reload-in-progress target=worker-2']);
    deepEqual(b.ops.map((o) => o.op), ['data', 'data', 'begin']);
  }
});

test('reload dispatch: a parse error never reaches the gate or the backend', async () => {
  const b = new ReloadBackend();
  b.gate = new ReloadRefusal('policy', 'release-image');
  const { say } = dispatcher(b);
  deepEqual(await say('RELOAD DATA 0'), [`${P}missing required argument: chunk`]);
  ok(!b.trace.includes('call reloadGate'));
});
