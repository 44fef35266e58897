// Tests for the channel wire: routed 9P frames and closes, and refusal of malformed messages.
import { test, equal, deepEqual } from '../testkit/index.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME, WIRE_SESSIONS_PER_EP_MAX } from './wire.js';

test('wire: a frame round-trips with its session number, little-endian', () => {
  const b = encodeWire(WIRE_FRAME, 0x0102 % WIRE_SESSIONS_PER_EP_MAX, new Uint8Array([9, 8, 7]));
  deepEqual(Array.from(b), [1, 0x0102 % WIRE_SESSIONS_PER_EP_MAX, 0, 9, 8, 7]);
  const m = decodeWire(b);
  equal(m?.kind, WIRE_FRAME);
  deepEqual(Array.from(m!.payload), [9, 8, 7]);
  equal(decodeWire(encodeWire(WIRE_CLOSE, 3))?.session, 3);
});

test('wire: short, unknown-kind and out-of-range-session messages are refused', () => {
  equal(decodeWire(new Uint8Array([1, 0])), null);
  equal(decodeWire(new Uint8Array([7, 0, 0])), null);
  equal(decodeWire(new Uint8Array([1, WIRE_SESSIONS_PER_EP_MAX, 0])), null);
});
