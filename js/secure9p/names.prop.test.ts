// Property test: nameFromBytes (the Twalk decoder's fast path) agrees with nameBytesProblem and UTF-8 decoding on any bytes.
import fc from 'fast-check';
import { test } from '../testkit/index.js';
import { checkNameFromBytes } from './names.test.js';

/** Runs per property: enough to hit every edge byte in many positions. */
const PROPERTY_RUNS = 2000;

test('names property: nameFromBytes takes exactly the names the byte rules accept', () => {
  const edgy = fc.constantFrom(0x00, 0x01, 0x2e, 0x2f, 0x30, 0x61, 0x7f, 0x80, 0xc3, 0xa9, 0xff);
  fc.assert(fc.property(fc.array(edgy, { maxLength: 8 }), (a) => checkNameFromBytes(new Uint8Array(a))), { numRuns: PROPERTY_RUNS });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => checkNameFromBytes(b)), { numRuns: PROPERTY_RUNS });
});
