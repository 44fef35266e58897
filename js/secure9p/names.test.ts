// Tests for the walk-name rules on strings and bytes (the byte form is also covered through the codec tests).
import { test, equal } from '../testkit/index.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { nameBytesProblem, nameFromBytes, nameProblem, walkNameAt } from './names.js';

/** nameFromBytes must agree with the byte rules and UTF-8 decoding (its regex path runs in both engines). */
export function checkNameFromBytes(b: Uint8Array): void {
  equal(nameFromBytes(b), nameBytesProblem(b) === null ? utf8Decode(b) : null, `bytes ${Array.from(b).join(',')}`);
}

test('names: accepted and refused component strings', () => {
  equal(nameProblem('queen.log'), null);
  equal(nameProblem('\u{1f600}'.repeat(63)), null); // 252 bytes
  equal(nameProblem('\u{1f600}'.repeat(64)), 'name longer than 255 bytes'); // 256 bytes
  equal(nameProblem(''), 'empty name');
  equal(nameProblem('..'), "name is '..'");
  equal(nameProblem('.'), "name is '.'");
  equal(nameProblem('a/b'), "name contains '/'");
  equal(nameProblem('a\0'), 'name contains NUL');
  equal(nameProblem('a\ud800'), 'name is not valid UTF-8');
  equal(nameProblem('...'), null);
});

test('names: nameFromBytes takes exactly the names nameBytesProblem accepts, decoded as UTF-8', () => {
  const check = checkNameFromBytes;
  for (const s of ['proc', 'queen.log', '.', '..', '...', '', 'a/b', 'a\0', '\x7f', '\u00e9t\u00e9', '\u{1f600}', 'x'.repeat(255), 'x'.repeat(256)]) {
    check(utf8Encode(s));
  }
  check(new Uint8Array([0x61, 0xff]));
  // Every name of one and two bytes drawn from the edges of the regex path: NUL, '.', '/', DEL, the first non-ASCII byte.
  const edges = [0x00, 0x01, 0x2e, 0x2f, 0x30, 0x61, 0x7f, 0x80, 0xc3, 0xa9, 0xff];
  for (const a of edges) {
    check(new Uint8Array([a]));
    for (const b of edges) check(new Uint8Array([a, b]));
  }
});

test('names: walkNameAt answers as nameFromBytes, the first time and from its cache, at any offset', () => {
  const names = ['proc', 'boot', 'queen.log', 'worker-1', 'x'.repeat(32), 'x'.repeat(33), '\u00e9t\u00e9', '.', '..', 'a/b', ''];
  for (let round = 0; round < 3; round++) {
    for (const s of names) {
      const b = utf8Encode(s);
      const framed = new Uint8Array(b.length + 5);
      framed.set(b, 3);
      equal(walkNameAt(framed, 3, b.length), nameFromBytes(b), `${JSON.stringify(s)} round ${round}`);
    }
  }
  // Names that land in one slot (same length, first and last byte) are told apart by every byte.
  equal(walkNameAt(utf8Encode('pxoc'), 0, 4), 'pxoc');
  equal(walkNameAt(utf8Encode('proc'), 0, 4), 'proc');
  equal(walkNameAt(utf8Encode('pxoc'), 0, 4), 'pxoc');
  // A refused name is never remembered: the same slot's accepted name does not answer for it.
  equal(walkNameAt(new Uint8Array([0x70, 0x2f, 0x63]), 0, 3), null);
  equal(walkNameAt(new Uint8Array([0x70, 0x00, 0x63]), 0, 3), null);
});
