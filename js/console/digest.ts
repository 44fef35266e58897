// The CAT `data=` digest (spec §3.3): newest short lines, preferring non-`[` ones, joined oldest-first by `|`, bounded.
import { utf8Length } from '../bytes/utf8.js';
import { CAT_DIGEST_BYTES_MAX, CAT_DIGEST_LINE_BYTES_MAX } from './limits.js';
import { truncateUtf8 } from './text.js';

const DIGEST_SEPARATOR = '|';

/**
 * `lines` oldest first. Candidates are non-empty lines of at most CAT_DIGEST_LINE_BYTES_MAX
 * bytes; if any does not start with `[` (a tagged log line) only those are used. The newest
 * candidates are taken while the joined text fits CAT_DIGEST_BYTES_MAX; the result is cut to
 * the bound in any case.
 */
export function catDigest(lines: readonly string[]): string {
  const short = lines.filter((l) => l !== '' && utf8Length(l) <= CAT_DIGEST_LINE_BYTES_MAX);
  const plain = short.filter((l) => !l.startsWith('['));
  const pool = plain.length > 0 ? plain : short;
  const picked: string[] = [];
  let bytes = 0;
  for (let i = pool.length - 1; i >= 0; i--) {
    const add = utf8Length(pool[i]) + (picked.length > 0 ? 1 : 0);
    if (picked.length > 0 && bytes + add > CAT_DIGEST_BYTES_MAX) break;
    picked.unshift(pool[i]);
    bytes += add;
  }
  return truncateUtf8(picked.join(DIGEST_SEPARATOR), CAT_DIGEST_BYTES_MAX);
}
