// Walk-name rules (spec §5.3): what one path component may be before any provider sees it.
import { latin1, utf8Decode, utf8Length } from '../bytes/utf8.js';
import { BytesCache } from '../bytes/cache.js';
import { NAME_BYTES_MAX, WALK_NAMES_MAX } from './limits.js';

/**
 * The one walk name with a '/' we take: a step that stays in the directory it is walked from.
 * Python p9fs walks pathlib's parts, so `ls("/")` walks ['/'] and `cat("/log/x")` ['/', 'log', 'x'];
 * diod takes it (it appends the name to its path, and `dir//` is `dir`). It reaches nothing new,
 * so no policy is asked; any other name holding a '/' is still refused (spec §5.3).
 */
export const WALK_STAY_NAME = '/';
/** The problem a `..` name is refused with; the session puts such a walk on the record as a traversal. */
export const TRAVERSAL_PROBLEM = "name is '..'";

/** Why a name was refused, or null when it is acceptable. Works on raw bytes so bad UTF-8 is caught. */
export function nameBytesProblem(b: Uint8Array): string | null {
  if (b.length === 1 && b[0] === 0x2f) return null; // WALK_STAY_NAME
  if (b.length === 0) return 'empty name';
  if (b.length > NAME_BYTES_MAX) return `name longer than ${NAME_BYTES_MAX} bytes`;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0) return 'name contains NUL';
    if (b[i] === 0x2f) return "name contains '/'";
  }
  if (b.length === 1 && b[0] === 0x2e) return "name is '.'";
  if (b.length === 2 && b[0] === 0x2e && b[1] === 0x2e) return TRAVERSAL_PROBLEM;
  if (utf8Decode(b) === null) return 'name is not valid UTF-8';
  return null;
}

/** Printable ASCII but '/': a name made only of these needs no further check but '.' and '..'. */
const PLAIN_NAME = /^[\x01-\x2e\x30-\x7f]+$/;

/**
 * A walk name from its bytes, or null when nameBytesProblem has a reason to refuse it. Plain ASCII
 * names (nearly all) are checked with one regex over the bytes read as char codes, not a JS loop
 * per byte and a UTF-8 decode twice, which was most of a Twalk's cost inside quickjs-ng.
 */
export function nameFromBytes(b: Uint8Array): string | null {
  if (b.length > 0 && b.length <= NAME_BYTES_MAX) {
    const s = latin1(b);
    if (PLAIN_NAME.test(s) && s !== '.' && s !== '..') return s;
  }
  return nameBytesProblem(b) === null ? (utf8Decode(b) as string) : null;
}

/** Slots of the validated-name cache (a power of two: the slot is a hash masked by it). */
const NAME_CACHE_SLOTS = 64;
/** Longer names are not cached: comparing them byte by byte would cost what checking them does. */
const NAME_CACHE_BYTES_MAX = 32;
/** A name's bytes and the string they were accepted as. */
const acceptedNames = new BytesCache<string>(NAME_CACHE_SLOTS, NAME_CACHE_BYTES_MAX);

/**
 * nameFromBytes for the walk name at b[start, start + len), remembering names it accepted. A
 * client walks the same few names over and over (`proc`, `boot`, a worker id); a remembered one
 * is found with a byte compare, where a view, a string and a regex test per name were a fifth of
 * a Twalk's cost inside quickjs-ng. Same bytes, same answer: only accepted names are kept.
 */
export function walkNameAt(b: Uint8Array, start: number, len: number): string | null {
  const known = acceptedNames.find(b, start, len);
  if (known !== undefined) return known;
  const name = nameFromBytes(b.subarray(start, start + len));
  if (name !== null) acceptedNames.keep(b, start, len, name);
  return name;
}

/** The same check for a JS string (encoder side and providers). */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'empty name';
  if (name.includes('\0')) return 'name contains NUL';
  if (name.includes('/')) return "name contains '/'";
  if (name === '.') return "name is '.'";
  if (name === '..') return TRAVERSAL_PROBLEM;
  // Lone surrogates cannot be encoded faithfully, so they count as bad UTF-8.
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(name)) return 'name is not valid UTF-8';
  if (utf8Length(name) > NAME_BYTES_MAX) return `name longer than ${NAME_BYTES_MAX} bytes`;
  return null;
}

export function walkCountProblem(n: number): string | null {
  return n > WALK_NAMES_MAX ? `walk of ${n} names exceeds ${WALK_NAMES_MAX}` : null;
}
