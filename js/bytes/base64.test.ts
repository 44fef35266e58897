// Base64 against RFC 4648 §10 vectors, round trips, and the strict refusals.
import { test, equal, deepEqual } from '../testkit/index.js';
import { base64Decode, base64Encode } from './base64.js';
import { utf8Decode, utf8Encode } from './utf8.js';

const VECTORS: Array<[string, string]> = [
  ['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy'],
];

test('base64: RFC 4648 §10 vectors both ways', () => {
  for (const [plain, b64] of VECTORS) {
    equal(base64Encode(utf8Encode(plain)), b64, plain);
    equal(utf8Decode(base64Decode(b64) ?? new Uint8Array([0xff])), plain, b64);
  }
});

test('base64: every byte value round-trips, at every length mod 3', () => {
  const all = new Uint8Array(256).map((_, i) => i);
  for (let n = 0; n < 6; n++) deepEqual(base64Decode(base64Encode(all.subarray(n))), all.subarray(n));
  equal(base64Encode(new Uint8Array([0xfb, 0xff])), '+/8=');
});

test('base64: bad length, foreign chars, inner padding and nonzero pad bits are refused', () => {
  for (const bad of ['Zg=', 'Zg', 'Z===', 'Zm9v!A==', 'Zg==Zg==', 'Zm-v', 'Zh==', 'Zm9=', 'Zé==']) equal(base64Decode(bad), null, bad);
});
