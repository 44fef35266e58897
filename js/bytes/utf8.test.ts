// Tests for strict UTF-8 and hex conversions.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Encode, utf8Decode, utf8Length, toHex, fromHex } from './utf8.js';

test('utf8: round-trips ASCII, 2-, 3- and 4-byte characters', () => {
  const s = 'a\u00e9\u20ac\u{1f600}';
  const b = utf8Encode(s);
  deepEqual(Array.from(b), [0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80]);
  equal(utf8Length(s), b.length);
  equal(utf8Decode(b), s);
});

test('utf8: refuses overlong, surrogate, truncated and out-of-range sequences', () => {
  for (const bad of [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xff], [0x80]]) {
    equal(utf8Decode(new Uint8Array(bad)), null, `bytes ${bad}`);
  }
});

test('utf8: lone surrogate encodes as U+FFFD', () => {
  deepEqual(Array.from(utf8Encode('\ud800')), [0xef, 0xbf, 0xbd]);
});

test('hex: round-trip and refusal', () => {
  equal(toHex(new Uint8Array([0, 15, 255])), '000fff');
  deepEqual(fromHex('000fFF'), new Uint8Array([0, 15, 255]));
  equal(fromHex('abc'), null);
  equal(fromHex('zz'), null);
  ok(fromHex('')?.length === 0);
});

test('utf8: ASCII on either side of the one-call bound decodes the same, and a non-ASCII byte still takes the strict path', () => {
  const chars = (b: Uint8Array) => Array.from(b, (c) => String.fromCharCode(c)).join('');
  for (const n of [0, 1, 4095, 4096, 4097, 9000]) {
    const b = new Uint8Array(n).map((_, i) => 0x20 + (i % 95));
    equal(utf8Decode(b), chars(b));
    equal(utf8Decode(b, 1, Math.max(1, n - 1)), chars(b.subarray(1, Math.max(1, n - 1))));
  }
  const mixed = new Uint8Array(4096).fill(0x61);
  mixed[4000] = 0xc3;
  mixed[4001] = 0xa9;
  equal(utf8Decode(mixed), 'a'.repeat(4000) + '\u00e9' + 'a'.repeat(94));
  mixed[4001] = 0x41; // a lead byte without its continuation
  equal(utf8Decode(mixed), null);
  equal(utf8Decode(new Uint8Array([0x61, 0x00, 0x7f])), 'a\u0000\u007f');
});
