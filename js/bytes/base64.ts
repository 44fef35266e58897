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
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      if (c === PAD && last && j >= 4 - pad) continue;
      const x = c < 128 ? INDEX[c] : -1;
      if (x < 0) return null;
      v[j] = x;
    }
    const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out[o++] = n >> 16;
    if (!(last && pad === 2)) out[o++] = (n >> 8) & 0xff;
    else if ((n & 0xffff) !== 0) return null;
    if (!(last && pad >= 1)) out[o++] = n & 0xff;
    else if ((n & 0xff) !== 0) return null;
  }
  return out;
}
