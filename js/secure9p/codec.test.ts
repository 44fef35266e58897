// Round trips for every message kind, and the decode errors the session turns into Rlerror.
import { test, equal, deepEqual, ok, throws } from '../testkit/index.js';
import { fromHex } from '../bytes/utf8.js';
import { decodeFrame, decodeRequest, encodeMessage, walkNamesAt, walkNamesCached } from './codec.js';
import { DecodeError, EncodeError } from './errors.js';
import type { Message, Qid } from './messages.js';
import { MessageType, REFUSED_REQUESTS } from './opcodes.js';
import { MSIZE_MAX_BYTES } from './limits.js';
import { putRclunk, putRlopen, putRread, putRwalk, replyBuffer } from './replies.js';

const q: Qid = { type: 0x40, version: 3, path: 0x0102030405060708n };
const big = 0xfedcba9876543210n;

export const SAMPLES: Message[] = [
  { kind: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L.Google.7' },
  { kind: 'Rversion', tag: 0xffff, msize: 8192, version: 'unknown' },
  { kind: 'Tauth', tag: 1, afid: 5, uname: 'queen', aname: 'x', nUname: 0xffffffff },
  { kind: 'Rauth', tag: 1, aqid: q },
  { kind: 'Tattach', tag: 2, fid: 0, afid: 0xffffffff, uname: 'worker-heartbeat:worker-1', aname: 'cohesix-ticket-00.00', nUname: 0 },
  { kind: 'Rattach', tag: 2, qid: q },
  { kind: 'Tflush', tag: 3, oldtag: 2 },
  { kind: 'Rflush', tag: 3 },
  { kind: 'Twalk', tag: 4, fid: 0, newfid: 1, names: [] },
  { kind: 'Twalk', tag: 4, fid: 0, newfid: 1, names: ['a', 'b', 'c', 'd', 'e', 'f', 'g', '\u00e9t\u00e9'] },
  { kind: 'Rwalk', tag: 4, qids: [q, { type: 0x80, version: 0, path: 0n }] },
  { kind: 'Tlopen', tag: 5, fid: 1, flags: 0o2002 },
  { kind: 'Rlopen', tag: 5, qid: q, iounit: 8168 },
  { kind: 'Tread', tag: 6, fid: 1, offset: big, count: 8181 },
  { kind: 'Rread', tag: 6, data: new Uint8Array([1, 2, 3, 0, 255]) },
  { kind: 'Twrite', tag: 7, fid: 1, offset: 0xffffffffffffffffn, data: new Uint8Array([104, 105, 10]) },
  { kind: 'Rwrite', tag: 7, count: 3 },
  { kind: 'Tclunk', tag: 8, fid: 1 },
  { kind: 'Rclunk', tag: 8 },
  { kind: 'Tgetattr', tag: 9, fid: 0, requestMask: 0x3fffn },
  {
    kind: 'Rgetattr', tag: 9, valid: 0x7ffn, qid: q, mode: 0o100644, uid: 1, gid: 2, nlink: 1n, rdev: 3n, size: 4n, blksize: 5n,
    blocks: 6n, atimeSec: 7n, atimeNsec: 8n, mtimeSec: 9n, mtimeNsec: 10n, ctimeSec: 11n, ctimeNsec: 12n, btimeSec: 13n,
    btimeNsec: 14n, gen: 15n, dataVersion: big,
  },
  { kind: 'Treaddir', tag: 10, fid: 0, offset: 2n, count: 100 },
  { kind: 'Rreaddir', tag: 10, entries: [] },
  { kind: 'Rreaddir', tag: 10, entries: [{ qid: q, offset: 9n, type: 8, name: 'queen.log' }] },
  { kind: 'Tstatfs', tag: 11, fid: 0 },
  { kind: 'Rstatfs', tag: 11, type: 0x01021997, bsize: 4096, blocks: 1n, bfree: 2n, bavail: 3n, files: 4n, ffree: 5n, fsid: big, namelen: 255 },
  { kind: 'Rlerror', tag: 12, ecode: 95 },
  ...REFUSED_REQUESTS.map((name, i): Message => ({
    kind: 'Trefused', tag: 20 + i, type: MessageType[name], name, body: new Uint8Array([i, 0, 1]),
  })),
];

for (const m of SAMPLES) {
  test(`codec round trip: ${m.kind}${m.kind === 'Trefused' ? ' ' + m.name : ''} tag ${m.tag}`, () => {
    const bytes = encodeMessage(m);
    equal(new DataView(bytes.buffer).getUint32(0, true), bytes.length, 'size field counts the whole frame');
    const d = decodeFrame(bytes);
    ok(d.ok, d.ok ? '' : d.error.message);
    deepEqual(d.message, m);
    deepEqual(encodeMessage(d.message), bytes);
  });
}

test('codec round trip covers every message kind the codec knows', () => {
  const kinds = new Set(SAMPLES.map((m) => (m.kind === 'Trefused' ? m.name : m.kind)));
  for (const name of Object.keys(MessageType)) {
    if (name === 'Tlerror') continue; // never sent by anyone
    ok(kinds.has(name as never), `no round trip sample for ${name}`);
  }
});

function frame(type: number, tag: number, body: number[]): Uint8Array {
  const b = new Uint8Array(7 + body.length);
  new DataView(b.buffer).setUint32(0, b.length, true);
  b[4] = type;
  b[5] = tag & 0xff;
  b[6] = tag >> 8;
  b.set(body, 7);
  return b;
}

function decodeFails(bytes: Uint8Array, code: string, message: string, tag: number | null, msize = MSIZE_MAX_BYTES): void {
  const d = decodeFrame(bytes, msize);
  ok(!d.ok, 'expected a decode error');
  ok(d.error instanceof DecodeError);
  equal(d.error.code, code);
  equal(d.error.tag, tag);
  ok(d.error.message.includes(message), `message ${JSON.stringify(d.error.message)} lacks ${JSON.stringify(message)}`);
}

test('decode refuses: fewer than 7 bytes is an unreadable header with no tag', () => {
  decodeFails(new Uint8Array([7, 0, 0, 0, 100, 1]), 'Invalid', 'unreadable header', null);
});

test('decode refuses: a frame longer than msize is TooBig with its tag', () => {
  const m = encodeMessage({ kind: 'Twrite', tag: 42, fid: 1, offset: 0n, data: new Uint8Array(600) });
  decodeFails(m, 'TooBig', 'exceeds msize 512', 42, 512);
});

test('decode refuses: declared size disagreeing with the frame length', () => {
  const b = encodeMessage({ kind: 'Tclunk', tag: 6, fid: 1 });
  b[0] = 200;
  decodeFails(b, 'Invalid', 'declared size 200', 6);
});

test('decode refuses: an unknown message type, with its tag', () => {
  decodeFails(frame(99, 17, []), 'Invalid', 'unknown message type 99', 17);
  decodeFails(frame(6, 18, []), 'Invalid', 'unknown message type 6', 18); // Tlerror is never valid
});

test('decode refuses: truncated body and trailing bytes', () => {
  decodeFails(frame(MessageType.Tclunk, 3, [1, 0]), 'Invalid', 'truncated fid', 3);
  decodeFails(frame(MessageType.Tclunk, 3, [1, 0, 0, 0, 9]), 'Invalid', '1 trailing bytes', 3);
});

test('decode: the small requests read straight from their bytes give every field, edges included, and refuse any other size', () => {
  const u64s = [0n, 1n, 0xffffffffn, 0x100000000n, big, 0xffffffffffffffffn];
  const u32s = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff];
  const ms: Message[] = [];
  for (const a of u32s) {
    ms.push({ kind: 'Tclunk', tag: 0xffff, fid: a }, { kind: 'Tlopen', tag: 1, fid: a, flags: u32s[(a % 5) | 0] });
    for (const o of u64s) ms.push({ kind: 'Tread', tag: 2, fid: a, offset: o, count: a }, { kind: 'Tgetattr', tag: 3, fid: a, requestMask: o });
    ms.push({ kind: 'Twalk', tag: 4, fid: a, newfid: (a ^ 1) >>> 0, names: ['proc', 'boot', 'x'.repeat(33), 'x'.repeat(255), '\u00e9t\u00e9', 'a'] });
  }
  for (const m of ms) {
    const bytes = encodeMessage(m);
    const d = decodeFrame(bytes);
    ok(d.ok, d.ok ? '' : d.error.message);
    deepEqual(d.message, m);
    // One byte short or one byte over (size field fixed up): the reader's refusal, with the tag.
    const short = bytes.slice(0, bytes.length - 1);
    new DataView(short.buffer).setUint32(0, short.length, true);
    const long = new Uint8Array(bytes.length + 1);
    long.set(bytes);
    new DataView(long.buffer).setUint32(0, long.length, true);
    for (const b of [short, long]) {
      const e = decodeFrame(b);
      ok(!e.ok && e.error.code === 'Invalid' && e.error.tag === m.tag, `${m.kind} of ${b.length} bytes refused`);
    }
  }
  decodeFails(frame(MessageType.Tread, 3, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'Invalid', 'truncated count', 3);
  decodeFails(frame(MessageType.Tgetattr, 3, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]), 'Invalid', '1 trailing bytes', 3);
  decodeFails(frame(MessageType.Tlopen, 3, [1, 0, 0, 0, 0, 0, 0]), 'Invalid', 'truncated flags', 3);
});

// replies.ts's put* as frames of their own (a copy out of the reply buffer), null where they refuse.
const copied = (n: number): Uint8Array | null => (n < 0 ? null : replyBuffer().slice(0, n));
const encodeRclunk = (tag: number) => copied(putRclunk(tag));
const encodeRlopen = (tag: number, qid: Qid, iounit: number, msize: number) => copied(putRlopen(tag, qid, iounit, msize));
const encodeRread = (tag: number, data: Uint8Array, msize: number) => copied(putRread(tag, data, msize));
const encodeRwalk = (tag: number, qids: readonly Qid[], msize: number) => copied(putRwalk(tag, qids, msize));

test('encode: the small replies from their fields are the bytes encodeMessage gives; null where it refuses', () => {
  const m = MSIZE_MAX_BYTES;
  deepEqual(encodeRclunk(0xffff), encodeMessage({ kind: 'Rclunk', tag: 0xffff }));
  deepEqual(encodeRlopen(5, q, 8168, m), encodeMessage({ kind: 'Rlopen', tag: 5, qid: q, iounit: 8168 }));
  const data = new Uint8Array([1, 2, 3, 0, 255]);
  deepEqual(encodeRread(6, data, m), encodeMessage({ kind: 'Rread', tag: 6, data }));
  deepEqual(encodeRread(6, new Uint8Array(m - 11), m), encodeMessage({ kind: 'Rread', tag: 6, data: new Uint8Array(m - 11) }));
  for (const n of [0, 1, 8]) {
    const qids = Array.from({ length: n }, (_, i) => ({ type: 0x80, version: i, path: BigInt(i) << 40n }));
    deepEqual(encodeRwalk(4, qids, m), encodeMessage({ kind: 'Rwalk', tag: 4, qids }));
  }
  equal(encodeRclunk(0x10000), null, 'tag out of range');
  equal(encodeRlopen(5, { type: 0, version: 0, path: 1n << 64n }, 8168, m), null, 'qid path out of range');
  equal(encodeRlopen(5, q, -1, m), null, 'iounit out of range');
  equal(encodeRread(6, new Uint8Array(m - 10), m), null, 'past msize');
  equal(encodeRwalk(4, Array.from({ length: 9 }, () => q), m), null, 'more qids than a walk has names');
  // The scratch went back each time: a frame encoded now is whole and independent.
  deepEqual(encodeRclunk(8), encodeMessage({ kind: 'Rclunk', tag: 8 }));
});

test('walkNamesCached: the names walkNamesAt reads, the same array again for the same bytes, frozen; refusals never kept', () => {
  const enc = (names: string[]) => encodeMessage({ kind: 'Twalk', tag: 1, fid: 0, newfid: 1, names });
  const paths = [['proc', 'boot'], ['proc', 'boox'], ['log', 'queen.log'], ['worker', 'w-1', 'telemetry'], [], ['a']];
  const first = paths.map((p) => walkNamesCached(enc(p), enc(p).length));
  for (let round = 0; round < 3; round++) {
    paths.forEach((p, i) => {
      const f = enc(p);
      const got = walkNamesCached(f, f.length);
      deepEqual(got, walkNamesAt(f, f.length), p.join('/'));
      deepEqual(got, p);
      // Sections of 3..64 bytes are remembered: the same array comes back while its slot holds it.
      if (f.length - 15 > 2) ok(got === first[i] || round === 0, `${p.join('/')} remembered`);
    });
  }
  ok(Object.isFrozen(walkNamesCached(enc(['proc', 'boot']), enc(['proc', 'boot']).length)));
  // A bad name is refused every time, and a good walk of the same length and ends is still read right.
  const bad = enc(['proc', 'boot']);
  bad[19] = 0;
  equal(walkNamesCached(bad, bad.length), null);
  equal(walkNamesCached(bad, bad.length), null);
  const dotdot = walkFrame(1, [[46, 46]]);
  equal(walkNamesCached(dotdot, dotdot.length), null);
  deepEqual(walkNamesCached(enc(['proc', 'boot']), enc(['proc', 'boot']).length), ['proc', 'boot']);
});

function walkFrame(tag: number, names: number[][]): Uint8Array {
  const body = [0, 0, 0, 0, 1, 0, 0, 0, names.length & 0xff, names.length >> 8];
  for (const n of names) body.push(n.length & 0xff, n.length >> 8, ...n);
  return frame(MessageType.Twalk, tag, body);
}
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

test('decode refuses walk: 9 names', () => {
  decodeFails(walkFrame(1, Array.from({ length: 9 }, () => ascii('a'))), 'Invalid', 'walk of 9 names exceeds 8', 1);
});
test("decode refuses walk: '..' and '.'", () => {
  decodeFails(walkFrame(2, [ascii('proc'), ascii('..')]), 'Invalid', "name is '..'", 2);
  decodeFails(walkFrame(2, [ascii('.')]), 'Invalid', "name is '.'", 2);
});
test('decode refuses walk: empty component', () => {
  decodeFails(walkFrame(3, [ascii('proc'), []]), 'Invalid', 'empty name', 3);
});
test('decode refuses walk: NUL in a name', () => {
  decodeFails(walkFrame(4, [[0x61, 0x00, 0x62]]), 'Invalid', 'name contains NUL', 4);
});
test("decode refuses walk: '/' in a name", () => {
  decodeFails(walkFrame(4, [ascii('a/b')]), 'Invalid', "name contains '/'", 4);
});
test('decode refuses walk: bad UTF-8 (overlong, lone continuation)', () => {
  decodeFails(walkFrame(5, [[0xc0, 0xaf]]), 'Invalid', 'not valid UTF-8', 5);
  decodeFails(walkFrame(5, [[0x80]]), 'Invalid', 'not valid UTF-8', 5);
});
test('decode walk: 255-byte name passes, 256 is refused', () => {
  const ok255 = decodeFrame(walkFrame(6, [new Array(255).fill(0x61)]));
  ok(ok255.ok);
  decodeFails(walkFrame(6, [new Array(256).fill(0x61)]), 'Invalid', 'longer than 255', 6);
});
test('decode refuses: NUL or bad UTF-8 in other strings (uname)', () => {
  const body = [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 2, 0, 0x71, 0, 0, 0, 0, 0, 0, 0];
  decodeFails(frame(MessageType.Tattach, 7, body), 'Invalid', 'uname contains NUL', 7);
  body[10] = 0xff;
  body[11] = 0xfe;
  decodeFails(frame(MessageType.Tattach, 7, body), 'Invalid', 'uname is not valid UTF-8', 7);
});

test('decodeRequest refuses a reply type arriving at a server', () => {
  const d = decodeRequest(encodeMessage({ kind: 'Rclunk', tag: 4 }));
  ok(!d.ok);
  equal(d.error.code, 'Invalid');
  equal(d.error.tag, 4);
});

test('encode refuses out-of-bound messages (our own bugs) with EncodeError', () => {
  throws(() => encodeMessage({ kind: 'Rread', tag: 1, data: new Uint8Array(MSIZE_MAX_BYTES) }), (e) => e instanceof EncodeError);
  throws(() => encodeMessage({ kind: 'Rread', tag: 1, data: new Uint8Array(600) }, 512), 'exceeds 512 bytes');
  throws(() => encodeMessage({ kind: 'Twalk', tag: 1, fid: 0, newfid: 1, names: ['..'] }), "name is '..'");
  throws(() => encodeMessage({ kind: 'Rlerror', tag: 0x10000, ecode: 1 }), 'tag out of range');
});

test('encode: an Rread of exactly msize − 11 bytes fits one frame', () => {
  equal(encodeMessage({ kind: 'Rread', tag: 1, data: new Uint8Array(MSIZE_MAX_BYTES - 11) }).length, MSIZE_MAX_BYTES);
});

test('hex helper sanity for vectors', () => {
  deepEqual(fromHex('0b00'), new Uint8Array([11, 0]));
});

test('encode: frames are independent copies, also right after a refused encode', () => {
  // Writers share one scratch buffer: a refused message must give it back, and no frame may alias it.
  const first = encodeMessage({ kind: 'Rclunk', tag: 1 });
  throws(() => encodeMessage({ kind: 'Rlerror', tag: 0x10000, ecode: 1 }), 'tag out of range');
  throws(() => encodeMessage({ kind: 'Rread', tag: 1, data: new Uint8Array(600) }, 512), 'exceeds 512 bytes');
  const second = encodeMessage({ kind: 'Rlerror', tag: 2, ecode: 5 });
  deepEqual(first, new Uint8Array([7, 0, 0, 0, 121, 1, 0]));
  deepEqual(second, new Uint8Array([11, 0, 0, 0, 7, 2, 0, 5, 0, 0, 0]));
  equal(first.byteLength, first.buffer.byteLength);
  equal(second.byteLength, second.buffer.byteLength);
});

test('encode: u64 fields outside 0..2^64-1 are refused, the edges fit', () => {
  const ok64 = (offset: bigint) => encodeMessage({ kind: 'Tread', tag: 1, fid: 1, offset, count: 1 });
  equal(ok64(0n).length, 23);
  equal(ok64(0xffffffffffffffffn).length, 23);
  throws(() => ok64(-1n), 'offset out of range: -1');
  throws(() => ok64(0x10000000000000000n), 'offset out of range');
  throws(() => encodeMessage({ kind: 'Tread', tag: 1, fid: 1, offset: 1 as unknown as bigint, count: 1 }), 'offset out of range');
  throws(() => encodeMessage({ kind: 'Tclunk', tag: 1, fid: 1.5 }), 'u32 out of range: 1.5');
  throws(() => encodeMessage({ kind: 'Tclunk', tag: 1, fid: -1 }), 'u32 out of range');
});
