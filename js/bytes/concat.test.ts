// concatBytes: parts in order, empty parts and no parts, and a new array (the parts are not aliased).
import { test, equal, deepEqual } from '../testkit/index.js';
import { concatBytes } from './concat.js';

test('concatBytes joins parts in order, skips nothing for empty ones, and copies', () => {
  const a = new Uint8Array([1, 2]);
  const out = concatBytes([a, new Uint8Array(0), new Uint8Array([3]), new Uint8Array([4, 5, 6])]);
  deepEqual([...out], [1, 2, 3, 4, 5, 6]);
  a[0] = 9;
  equal(out[0], 1);
  equal(concatBytes([]).length, 0);
});
