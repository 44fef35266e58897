// A bounded, newline-delimited text store (queen.log, GPU ctl/lease/status/job): appends whole lines, drops the oldest past its cap.
import { utf8Decode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';

const NEWLINE = 0x0a;

export class LineStore {
  private data = new Uint8Array(0);

  constructor(
    /** Retained bytes; the oldest whole lines go first when an append would pass it. */
    readonly retainedBytesMax: number,
    /** Largest single append (newline included); over it → TooBig and nothing stored. */
    readonly recordBytesMax: number,
  ) {}

  /**
   * Appends bytes, newline-terminated (one is added when missing, and counted). Readers see
   * offsets into the retained window: a reader of an old offset may skip lines once the oldest
   * are dropped, which is the price of a bounded log that `cat` can still read from 0.
   */
  append(b: Uint8Array): number | NineError {
    const terminated = b.length > 0 && b[b.length - 1] === NEWLINE;
    const total = b.length + (terminated ? 0 : 1);
    if (total > this.recordBytesMax) return new NineError('TooBig', `record of ${total} bytes exceeds ${this.recordBytesMax}`);
    let start = 0;
    while (this.data.length - start + total > this.retainedBytesMax) {
      const nl = this.data.indexOf(NEWLINE, start);
      start = nl < 0 ? this.data.length : nl + 1;
    }
    const next = new Uint8Array(this.data.length - start + total);
    next.set(this.data.subarray(start));
    next.set(b, this.data.length - start);
    if (!terminated) next[next.length - 1] = NEWLINE;
    this.data = next;
    return b.length;
  }

  /** Replaces the whole content (an install from the GPU bridge); the same bounds apply. */
  reset(b: Uint8Array): NineError | null {
    if (b.length > this.retainedBytesMax) return new NineError('TooBig', `content of ${b.length} bytes exceeds ${this.retainedBytesMax}`);
    this.data = b.slice();
    return null;
  }

  bytes(): Uint8Array {
    return this.data;
  }

  /** Lines without their newlines, oldest first. */
  lines(): string[] {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = this.data.indexOf(NEWLINE, start);
      if (nl < 0) break;
      out.push(utf8Decode(this.data, start, nl) ?? '\ufffd');
      start = nl + 1;
    }
    return out;
  }
}

/**
 * Up to `count` bytes of `all` from `offset`, empty past the end: a view, not a copy (`all` itself
 * for a whole read from 0, the common `cat` of a small file), as OpenFile.read allows. So `all`
 * must never change in place: every store here replaces its array instead (LineStore.append,
 * ReadOnlyFile.set), which is what lets an open read a consistent snapshot too.
 */
export function sliceAt(all: Uint8Array, offset: bigint, count: number): Uint8Array {
  if (offset === 0n && count >= all.length) return all;
  const start = offset > BigInt(all.length) ? all.length : Number(offset);
  return all.subarray(start, start + count);
}
