// LengthPrefixSplitter: frames across chunk edges, the bound (oversize: skip or kill), undersize is fatal, the buffer never grows.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { LengthPrefixSplitter, readLengthPrefix, writeLengthPrefix, type LengthPrefixEvent } from './length-prefix.js';

function frameOf(length: number, fill = 0xab): Uint8Array {
  const f = new Uint8Array(length).fill(fill);
  writeLengthPrefix(f, length);
  return f;
}

function splitter(frameBytesMax = 32): LengthPrefixSplitter {
  return new LengthPrefixSplitter({ headerBytes: 6, declaredBytesMin: 6, bufferBytesMax: 64, frameBytesMax });
}

/** Every event one chunk yields, skipping oversize frames. */
function drain(s: LengthPrefixSplitter, chunk: Uint8Array): { event: LengthPrefixEvent; bytes: number[] }[] {
  const out: { event: LengthPrefixEvent; bytes: number[] }[] = [];
  let i = 0;
  while (i < chunk.length) {
    const event = s.step(chunk, i);
    i = s.end;
    if (event === 'frame') out.push({ event, bytes: [...s.frame()] });
    else if (event === 'oversize') {
      out.push({ event, bytes: [...s.header()] });
      s.skipOversize();
    } else if (event === 'undersize') out.push({ event, bytes: [] });
  }
  return out;
}

test('length-prefix: the prefix is u32 little-endian and round-trips', () => {
  const b = new Uint8Array(4);
  writeLengthPrefix(b, 0x01020304);
  deepEqual([...b], [4, 3, 2, 1]);
  equal(readLengthPrefix(b), 0x01020304);
  writeLengthPrefix(b, 0xffffffff);
  equal(readLengthPrefix(b), 0xffffffff);
});

test('length-prefix: frames split across every chunk edge come out whole and in order', () => {
  const stream = new Uint8Array([...frameOf(6, 1), ...frameOf(10, 2), ...frameOf(32, 3)]);
  for (let cut = 1; cut < stream.length; cut++) {
    const s = splitter();
    const got = [...drain(s, stream.subarray(0, cut)), ...drain(s, stream.subarray(cut))];
    deepEqual(got.map((e) => e.event), ['frame', 'frame', 'frame']);
    deepEqual(got.map((e) => e.bytes.length), [6, 10, 32]);
    equal(s.buffered(), 0);
  }
});

test('length-prefix: an oversize frame is reported once with its header, skipped by counting, and the next frame follows', () => {
  const s = splitter();
  const got = drain(s, new Uint8Array([...frameOf(40, 7), ...frameOf(8, 9)]));
  deepEqual(got.map((e) => e.event), ['oversize', 'frame']);
  deepEqual(got[0].bytes, [40, 0, 0, 0, 7, 7]);
  ok(s.buffered() <= s.bufferBytesMax);
});

test('length-prefix: a declared length below the minimum kills the stream; later input is ignored', () => {
  const s = splitter();
  deepEqual(drain(s, new Uint8Array([5, 0, 0, 0, 0, 0, ...frameOf(8)])).map((e) => e.event), ['undersize']);
  ok(s.isDead());
  equal(s.step(frameOf(8), 0), 'none');
  equal(s.end, 8);
});

test('length-prefix: whole() takes an idle chunk that is exactly one frame within the bound', () => {
  const s = splitter();
  ok(s.whole(frameOf(8)));
  ok(!s.whole(frameOf(40)));
  ok(!s.whole(new Uint8Array([...frameOf(8), 1])));
  s.setFrameBytesMax(1000);
  ok(!s.whole(frameOf(64 + 8)), 'the bound never passes the buffer');
});

test('length-prefix: bounds with a minimum below the header are refused at construction', () => {
  let threw = false;
  try {
    new LengthPrefixSplitter({ headerBytes: 7, declaredBytesMin: 4, bufferBytesMax: 64, frameBytesMax: 64 });
  } catch (e) {
    threw = e instanceof RangeError;
  }
  ok(threw);
});
