// The appender's frame cursors: the bytes they write match the codec's encoding, and reads or writes past a bound throw.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { decodeFrame } from '../secure9p/codec.js';
import { FrameIn, FrameOut } from './frame.js';

test('worker frame: a Twrite built by FrameOut decodes with the codec to the same fields', () => {
  const w = new FrameOut(64);
  w.u32(0);
  w.u8(118); // Twrite
  w.u16(1);
  w.u32(2);
  w.u64(0xffffffffffffffffn);
  w.u32(3);
  w.bytes(new Uint8Array([0x61, 0x62, 0x0a]));
  const d = decodeFrame(w.finish());
  ok(d.ok, 'decodes');
  if (!d.ok) return;
  deepEqual(d.message, { kind: 'Twrite', tag: 1, fid: 2, offset: 0xffffffffffffffffn, data: new Uint8Array([0x61, 0x62, 0x0a]) });
});

test('worker frame: FrameOut refuses to pass its cap and FrameIn to read past the reply', () => {
  const w = new FrameOut(8);
  w.u32(0);
  w.u32(0);
  let threw = false;
  try {
    w.u8(1);
  } catch {
    threw = true;
  }
  ok(threw, 'a ninth byte throws');
  const r = new FrameIn(new Uint8Array([7, 0, 0x68, 0x69]), 0);
  equal(r.u16(), 7);
  threw = false;
  try {
    r.str();
  } catch {
    threw = true;
  }
  ok(threw, 'a string longer than the reply throws');
  const s = new FrameIn(new Uint8Array([2, 0, 0x68, 0x69]), 0);
  equal(s.str(), 'hi');
  equal(s.remaining(), 0);
});
