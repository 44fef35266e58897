// Standard padded base64 (RFC 4648 §4) in plain TS: quickjs-ng guarantees no atob/btoa, and js/ may not use Buffer.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PAD = 61; // '='
/** Alphabet index per char code; -1 for anything outside the standard alphabet. */
const INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

export function base64Encode(b: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 3 <= b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + ALPHABET[n & 63];
  }
  const rest = b.length - i;
  if (rest === 1) {
    const n = b[i] << 16;
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + '==';
  } else if (rest === 2) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    s += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] + ALPHABET[(n >> 6) & 63] + '=';
  }
  return s;
}

/**
 * Strict decode: length a multiple of 4, standard alphabet only, padding only at the end and
 * with zero leftover bits (so each byte string has exactly one accepted spelling). Null on
 * anything else, so callers refuse bad input instead of guessing.
 */
export function base64Decode(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null;
  let pad = 0;
  if (s.length > 0 && s.charCodeAt(s.length - 1) === PAD) pad = s.length > 1 && s.charCodeAt(s.length - 2) === PAD ? 2 : 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  // Whole quads first, unrolled and without per-quad objects: inside quickjs-ng this loop is the
  // cost of every base64 line the hive takes (console `b64:` content, RELOAD chunks, GPU publish).
  const whole = pad === 0 ? s.length : s.length - 4;
  let o = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = sextet(s.charCodeAt(i));
    const b = sextet(s.charCodeAt(i + 1));
    const c = sextet(s.charCodeAt(i + 2));
    const d = sextet(s.charCodeAt(i + 3));
    if ((a | b | c | d) < 0) return null;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    out[o++] = (n >> 8) & 0xff;
    out[o++] = n & 0xff;
  }
  if (pad === 0) return out;
  // The padded last quad: 2 or 3 sextets, and the bits past the data must be zero (one spelling).
  const i = s.length - 4;
  const a = sextet(s.charCodeAt(i));
  const b = sextet(s.charCodeAt(i + 1));
  const c = pad === 2 ? 0 : sextet(s.charCodeAt(i + 2));
  if ((a | b | c) < 0) return null;
  const n = (a << 18) | (b << 12) | (c << 6);
  out[o++] = n >> 16;
  if (pad === 2) return (n & 0xffff) === 0 ? out : null;
  out[o++] = (n >> 8) & 0xff;
  return (n & 0xff) === 0 ? out : null;
}

/** A base64 character's value, or -1 (padding and anything outside the alphabet). */
function sextet(c: number): number {
  return c < 128 ? INDEX[c] : -1;
}
