// Tests for the TCP frame splitter: whole frames out, oversize skipped with its tag, short sizes fatal.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { encodeMessage } from './codec.js';
import { FrameSplitter, type FrameEvent } from './frames.js';

const a = encodeMessage({ kind: 'Tclunk', tag: 1, fid: 7 });
const b = encodeMessage({ kind: 'Twalk', tag: 2, fid: 0, newfid: 1, names: ['proc', 'boot'] });

function frames(ev: FrameEvent[]): Uint8Array[] {
  return ev.filter((e) => e.kind === 'frame').map((e) => (e as { bytes: Uint8Array }).bytes);
}

test('frames: two frames in one chunk come out whole and in order', () => {
  const s = new FrameSplitter();
  const chunk = new Uint8Array([...a, ...b]);
  deepEqual(frames(s.push(chunk)), [a, b]);
  equal(s.buffered(), 0);
});

test('frames: byte-at-a-time delivery yields the same frames', () => {
  const s = new FrameSplitter();
  const out: Uint8Array[] = [];
  for (const byte of [...a, ...b]) out.push(...frames(s.push(new Uint8Array([byte]))));
  deepEqual(out, [a, b]);
});

test('frames: a declared size over msize is skipped with its tag and the stream resyncs', () => {
  const s = new FrameSplitter(512);
  const big = encodeMessage({ kind: 'Twrite', tag: 9, fid: 1, offset: 0n, data: new Uint8Array(600) });
  const ev = s.push(new Uint8Array([...big, ...a]));
  equal(ev.length, 2);
  deepEqual(ev[0], { kind: 'oversize', tag: 9, type: 118, declaredBytes: big.length });
  deepEqual(ev[1], { kind: 'frame', bytes: a });
});

test('frames: a declared size below 7 is fatal and later bytes are ignored', () => {
  const s = new FrameSplitter();
  const ev = s.push(new Uint8Array([6, 0, 0, 0, 100, 0, 0, ...a]));
  equal(ev.length, 1);
  equal(ev[0].kind, 'fatal');
  ok(ev[0].kind === 'fatal' && ev[0].reason.includes('declared frame size 6'));
  equal(s.push(a).length, 0);
});

test('frames: setMsize lowers the bound', () => {
  const s = new FrameSplitter();
  s.setMsize(16);
  const ev = s.push(b);
  equal(ev[0].kind, 'oversize');
});

test('frames: a chunk that is exactly one frame comes out whole, and a split one after it still joins', () => {
  const s = new FrameSplitter();
  deepEqual(frames(s.push(a.slice())), [a]);
  equal(s.buffered(), 0);
  deepEqual(frames(s.push(b.slice(0, 5))), []);
  deepEqual(frames(s.push(b.slice(5))), [b]);
  // A one-frame chunk over msize is still skipped with its tag, not passed on.
  const small = new FrameSplitter(512);
  const big = encodeMessage({ kind: 'Twrite', tag: 9, fid: 1, offset: 0n, data: new Uint8Array(600) });
  deepEqual(small.push(big), [{ kind: 'oversize', tag: 9, type: 118, declaredBytes: big.length }]);
  deepEqual(frames(small.push(a.slice())), [a]);
});

test('frames: whole() is true exactly when feed() would hand the chunk on as it is; idle() when nothing is held', () => {
  const s = new FrameSplitter(512);
  ok(s.idle());
  ok(s.whole(a), 'one frame, nothing held');
  ok(!s.whole(a.subarray(0, 5)), 'part of a frame');
  const two = new Uint8Array([...a, ...b]);
  ok(!s.whole(two), 'two frames');
  const big = encodeMessage({ kind: 'Twrite', tag: 9, fid: 1, offset: 0n, data: new Uint8Array(600) });
  ok(!s.whole(big), 'over msize');
  deepEqual(frames(s.push(b.subarray(0, 5))), []);
  ok(!s.whole(a), 'bytes held');
  ok(!s.idle());
  deepEqual(frames(s.push(b.subarray(5))), [b]);
  ok(s.whole(a), 'nothing held again');
  const dead = new FrameSplitter();
  dead.push(new Uint8Array([3, 0, 0, 0, 0, 0, 0]));
  ok(!dead.whole(a), 'a dead stream takes nothing');
  ok(!dead.idle());
});
