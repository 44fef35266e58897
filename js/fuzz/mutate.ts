// Byte mutations for the fuzzer: flip, insert, delete, overwrite, splice, interesting values and dictionary tokens.
import type { Prng } from './prng.js';

/** Values that sit on the edges parsers get wrong: 0, ±1, powers of two, sign bits, 7/8-bit limits. */
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x0d, 0x20, 0x22, 0x2e, 0x2f, 0x3a, 0x7b, 0x7d];
const INTERESTING_32 = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0x2000, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];
/** Bytes a chunk operation may touch at once. */
const CHUNK_BYTES_MAX = 64;
/** Kinds of mutation, picked uniformly. */
const KINDS = 11;

export interface MutateSource {
  /** Other inputs to splice from. */
  corpus: readonly Uint8Array[];
  /** Tokens (already UTF-8) to insert or overwrite with. */
  dictionary: readonly Uint8Array[];
}

function splice(a: Uint8Array, at: number, del: number, ins: Uint8Array, maxBytes: number): Uint8Array {
  const full = new Uint8Array(a.length - del + ins.length);
  full.set(a.subarray(0, at));
  full.set(ins, at);
  full.set(a.subarray(at + del), at + ins.length);
  return full.length > maxBytes ? full.slice(0, maxBytes) : full;
}

function interesting32(rng: Prng, bytes: number): Uint8Array {
  const v = rng.pick(INTERESTING_32) + (rng.oneIn(4) ? rng.below(3) - 1 : 0);
  const out = new Uint8Array(bytes);
  const le = rng.oneIn(2);
  for (let i = 0; i < bytes; i++) out[le ? i : bytes - 1 - i] = (v >>> (8 * i)) & 0xff;
  return out;
}

/** One mutation of `a` (a is not changed); the result is at most maxBytes long. */
export function mutateOnce(rng: Prng, a: Uint8Array, src: MutateSource, maxBytes: number): Uint8Array {
  const at = rng.below(a.length + 1);
  switch (rng.below(KINDS)) {
    case 0: {
      if (a.length === 0) break;
      const out = a.slice();
      out[rng.below(a.length)] ^= 1 << rng.below(8);
      return out;
    }
    case 1: {
      if (a.length === 0) break;
      const out = a.slice();
      out[rng.below(a.length)] = rng.u32() & 0xff;
      return out;
    }
    case 2: {
      const n = 1 + rng.below(CHUNK_BYTES_MAX);
      const ins = new Uint8Array(n);
      const b = rng.u32() & 0xff;
      for (let i = 0; i < n; i++) ins[i] = rng.oneIn(2) ? b : rng.u32() & 0xff;
      return splice(a, at, 0, ins, maxBytes);
    }
    case 3: {
      const del = Math.min(a.length - at, 1 + rng.below(rng.oneIn(4) ? a.length + 1 : CHUNK_BYTES_MAX));
      return splice(a, at, del, new Uint8Array(0), maxBytes);
    }
    case 4: {
      if (a.length === 0) break;
      const out = a.slice();
      out[rng.below(a.length)] = rng.pick(INTERESTING_8);
      return out;
    }
    case 5: {
      const bytes = rng.pick([2, 4, 8]);
      const v = interesting32(rng, bytes);
      const pos = rng.below(Math.max(1, a.length - bytes + 1));
      return splice(a, pos, Math.min(bytes, a.length - pos), v, maxBytes);
    }
    case 6:
    case 7: {
      if (src.dictionary.length === 0) break;
      const tok = rng.pick(src.dictionary);
      return rng.oneIn(2) ? splice(a, at, 0, tok, maxBytes) : splice(a, at, Math.min(tok.length, a.length - at), tok, maxBytes);
    }
    case 8: {
      if (src.corpus.length === 0) break;
      const other = rng.pick(src.corpus);
      const from = rng.below(other.length + 1);
      const n = rng.below(other.length - from + 1);
      return splice(a, at, rng.oneIn(2) ? Math.min(n, a.length - at) : 0, other.subarray(from, from + n), maxBytes);
    }
    case 9: {
      if (a.length < 2) break;
      const from = rng.below(a.length);
      const n = 1 + rng.below(Math.min(CHUNK_BYTES_MAX, a.length - from));
      return splice(a, at, 0, a.slice(from, from + n), maxBytes);
    }
    default: {
      if (a.length === 0) break;
      return a.subarray(0, rng.below(a.length)).slice();
    }
  }
  return splice(a, at, 0, Uint8Array.of(rng.u32() & 0xff), maxBytes);
}
