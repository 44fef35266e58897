// Tests for BytesCache: a hit needs every byte equal, keys are copies, and long or empty keys are never kept.
import { test, equal } from '../testkit/index.js';
import { BytesCache } from './cache.js';

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));

test('bytes cache: a kept value is found for the same bytes at any offset, not for others', () => {
  const c = new BytesCache<string>(8, 16);
  const b = bytes('xxprocyy');
  equal(c.find(b, 2, 4), undefined);
  c.keep(b, 2, 4, 'proc');
  equal(c.find(bytes('proc'), 0, 4), 'proc');
  equal(c.find(bytes('prod'), 0, 4), undefined, 'one byte off');
  equal(c.find(bytes('pr0c'), 0, 4), undefined, 'same ends and length, middle differs');
  equal(c.find(bytes('proc!'), 0, 5), undefined, 'longer');
  b[3] = 0x21;
  equal(c.find(bytes('proc'), 0, 4), 'proc', 'the key is a copy: changing the source later changes nothing');
});

test('bytes cache: empty and over-long keys are never kept; a slot keeps the last one in', () => {
  const c = new BytesCache<number>(1, 4);
  c.keep(bytes(''), 0, 0, 1);
  equal(c.find(bytes(''), 0, 0), undefined);
  c.keep(bytes('abcde'), 0, 5, 2);
  equal(c.find(bytes('abcde'), 0, 5), undefined);
  c.keep(bytes('ab'), 0, 2, 3);
  c.keep(bytes('cd'), 0, 2, 4);
  equal(c.find(bytes('ab'), 0, 2), undefined, 'one slot: ab was replaced');
  equal(c.find(bytes('cd'), 0, 2), 4);
});
