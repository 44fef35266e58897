// Property tests: random and mutated frames never escape the codec as anything but a DecodeError value.
import fc from 'fast-check';
import { test, ok, deepEqual } from '../testkit/index.js';
import { decodeFrame, encodeMessage } from './codec.js';
import { DecodeError } from './errors.js';
import { FrameSplitter } from './frames.js';
import { MSIZE_MAX_BYTES } from './limits.js';
import { SAMPLES } from './codec.test.js';

/** Runs per property: enough to hit every type byte many times, small enough for a firmware run. */
const PROPERTY_RUNS = 2000;

function checkDecode(bytes: Uint8Array, msize: number): void {
  const d = decodeFrame(bytes, msize); // any throw fails the property
  if (d.ok) {
    // A decoded message re-encodes within the bound it was decoded under.
    ok(encodeMessage(d.message).length <= Math.min(msize, MSIZE_MAX_BYTES));
  } else {
    ok(d.error instanceof DecodeError);
    ok(d.error.tag === null || bytes.length >= 7);
  }
}

const msizeArb = fc.integer({ min: 256, max: MSIZE_MAX_BYTES });

test('codec property: random bytes decode to a message or a DecodeError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), msizeArb, (b, m) => checkDecode(b, m)), { numRuns: PROPERTY_RUNS });
});

test('codec property: random bodies behind a valid header of every type byte', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 300 }), (type, body) => {
    const b = new Uint8Array(7 + body.length);
    new DataView(b.buffer).setUint32(0, b.length, true);
    b[4] = type;
    b.set(body, 7);
    checkDecode(b, MSIZE_MAX_BYTES);
  }), { numRuns: PROPERTY_RUNS });
});

const sampleFrames = SAMPLES.map((m) => encodeMessage(m));

test('codec property: mutated valid frames (flips, truncation, extension, size fixed up)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: sampleFrames.length - 1 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    fc.integer({ min: -10, max: 10 }),
    fc.boolean(),
    (i, flips, delta, fixSize) => {
      const src = sampleFrames[i];
      const len = Math.max(0, src.length + delta);
      const b = new Uint8Array(len);
      b.set(src.subarray(0, Math.min(len, src.length)));
      for (const [pos, v] of flips) if (len > 0) b[pos % len] = v;
      if (fixSize && len >= 4) new DataView(b.buffer).setUint32(0, len, true);
      checkDecode(b, MSIZE_MAX_BYTES);
    },
  ), { numRuns: PROPERTY_RUNS });
});

test('codec property: any chunking of a frame stream yields the same frames', () => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: sampleFrames.length - 1 }), { maxLength: 12 }),
    fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 20 }),
    (picks, cuts) => {
      const stream: number[] = [];
      for (const p of picks) stream.push(...sampleFrames[p]);
      const s = new FrameSplitter();
      const got: Uint8Array[] = [];
      let at = 0;
      let k = 0;
      while (at < stream.length) {
        const n = cuts[k++ % cuts.length];
        for (const e of s.push(new Uint8Array(stream.slice(at, at + n)))) if (e.kind === 'frame') got.push(e.bytes);
        at += n;
      }
      deepEqual(got, picks.map((p) => sampleFrames[p]));
    },
  ), { numRuns: 300 });
});

test('codec property: random streams never make the splitter hold more than msize', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 30 }), (chunks) => {
    const s = new FrameSplitter(512);
    for (const c of chunks) {
      for (const e of s.push(c)) if (e.kind === 'frame') ok(e.bytes.length <= 512);
      ok(s.buffered() <= 512);
    }
  }), { numRuns: 500 });
});
