// A small cache keyed by byte strings: one entry per slot (a hash of the bytes), the last one in wins, found again with a byte compare.

/**
 * For values worked out from bytes a client sends over and over (a walk name, a whole walk): a
 * remembered one is found with one compare of the bytes, which inside quickjs-ng costs a fraction
 * of decoding and checking them again. Keys are copied in; a hit needs every byte equal.
 */
export class BytesCache<T> {
  private readonly keys: (Uint8Array | null)[];
  private readonly values: (T | undefined)[];

  /** `slots` a power of two; keys longer than `keyBytesMax` (or empty) are never kept. */
  constructor(
    private readonly slots: number,
    private readonly keyBytesMax: number,
  ) {
    this.keys = new Array<Uint8Array | null>(slots).fill(null);
    this.values = new Array<T | undefined>(slots).fill(undefined);
  }

  /** The slot for b[start, start + len), or -1 when such a key is not kept. */
  private slot(b: Uint8Array, start: number, len: number): number {
    if (len <= 0 || len > this.keyBytesMax) return -1;
    return (len * 31 + b[start + (len >> 1)] * 7 + b[start + len - 1]) & (this.slots - 1);
  }

  /** The value kept for exactly the bytes b[start, start + len), or undefined. */
  find(b: Uint8Array, start: number, len: number): T | undefined {
    const slot = this.slot(b, start, len);
    if (slot < 0) return undefined;
    const c = this.keys[slot];
    if (c === null || c.length !== len) return undefined;
    let k = 0;
    while (k < len && c[k] === b[start + k]) k++;
    return k === len ? this.values[slot] : undefined;
  }

  /** Keeps `value` for the bytes b[start, start + len) (a copy of them), in place of its slot's entry. */
  keep(b: Uint8Array, start: number, len: number, value: T): void {
    const slot = this.slot(b, start, len);
    if (slot < 0) return;
    this.keys[slot] = b.slice(start, start + len);
    this.values[slot] = value;
  }
}
