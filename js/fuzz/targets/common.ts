// Helpers the fuzz targets share: text seeds, frame splitting of an input, the reply check.
import { utf8Encode } from '../../bytes/utf8.js';

export const text = (...lines: string[]): Uint8Array[] => lines.map((l) => utf8Encode(l));

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A contract breach found by a target's own check (not the parser's throw). */
export function broken(what: string): never {
  throw new Error(`contract: ${what}`);
}

/** Cuts an input into chunks at the positions its own bytes pick, so split reads are tried too. */
export function chunks(input: Uint8Array, chunkBytesMax: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  let k = input.length > 0 ? input[input.length - 1] : 0;
  while (i < input.length) {
    k = (Math.imul(k, 31) + input[i] + 7) >>> 0;
    const n = 1 + (k % chunkBytesMax);
    out.push(input.subarray(i, i + n));
    i += n;
  }
  return out;
}
