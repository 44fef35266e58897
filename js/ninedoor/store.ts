// A bounded, newline-delimited text store (queen.log, GPU ctl/lease/status/job): appends whole lines, drops whole lines past its caps.
import { utf8Decode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';

const NEWLINE = 0x0a;

/** A class of lines with its own share of the store (queen.log's audit lines): past it, its own oldest line goes first. */
export interface LineBudget {
  /** A line belongs to the class when it starts with one of these (ASCII) prefixes. */
  readonly prefixes: readonly string[];
  /** Bytes (newlines included) the class may hold; at most the store's retainedBytesMax. */
  readonly bytesMax: number;
}

function startsWithAscii(b: Uint8Array, prefix: string): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

export class LineStore {
  /** Retained lines, oldest first, each newline-terminated. */
  private kept: Uint8Array[] = [];
  /** Each kept line's sequence number (one per append, never reused): readers resume after the last they saw. */
  private seqs: number[] = [];
  /** Whether each kept line belongs to the budgeted class. */
  private budgeted: boolean[] = [];
  private keptBytes = 0;
  private budgetedBytes = 0;
  private nextSeq = 1;
  /** kept joined; rebuilt on demand, replaced (never changed in place) after a change. */
  private data: Uint8Array | null = new Uint8Array(0);

  constructor(
    /** Retained bytes; the oldest whole lines go first when an append would pass it. */
    readonly retainedBytesMax: number,
    /** Largest single append (newline included); over it → TooBig and nothing stored. */
    readonly recordBytesMax: number,
    /** Optional class of lines held to a share of the store, so they never evict all the others. */
    private readonly budget: LineBudget | null = null,
  ) {}

  /**
   * Appends bytes, newline-terminated (one is added when missing, and counted). Whole lines are
   * evicted, never a part of one, so any read from the window's start begins at a line.
   */
  append(b: Uint8Array): number | NineError {
    const terminated = b.length > 0 && b[b.length - 1] === NEWLINE;
    const total = b.length + (terminated ? 0 : 1);
    if (total > this.recordBytesMax) return new NineError('TooBig', `record of ${total} bytes exceeds ${this.recordBytesMax}`);
    let line = b;
    if (!terminated) {
      line = new Uint8Array(total);
      line.set(b);
      line[total - 1] = NEWLINE;
    } else {
      line = b.slice();
    }
    this.push(line);
    return b.length;
  }

  private push(line: Uint8Array): void {
    const inBudget = this.budget !== null && this.budget.prefixes.some((p) => startsWithAscii(line, p));
    if (inBudget) {
      const max = (this.budget as LineBudget).bytesMax;
      // The class's own oldest lines make room first: the other lines keep their share.
      while (this.budgetedBytes + line.length > max && this.budgetedBytes > 0) this.removeAt(this.budgeted.indexOf(true));
    }
    while (this.keptBytes + line.length > this.retainedBytesMax && this.kept.length > 0) this.removeAt(0);
    this.kept.push(line);
    this.seqs.push(this.nextSeq++);
    this.budgeted.push(inBudget);
    this.keptBytes += line.length;
    if (inBudget) this.budgetedBytes += line.length;
    this.data = null;
  }

  private removeAt(i: number): void {
    const n = this.kept[i].length;
    this.keptBytes -= n;
    if (this.budgeted[i]) this.budgetedBytes -= n;
    this.kept.splice(i, 1);
    this.seqs.splice(i, 1);
    this.budgeted.splice(i, 1);
  }

  /** Replaces the whole content (an install from the GPU bridge, a hot reload); the same bounds apply. */
  reset(b: Uint8Array): NineError | null {
    if (b.length > this.retainedBytesMax) return new NineError('TooBig', `content of ${b.length} bytes exceeds ${this.retainedBytesMax}`);
    this.kept = [];
    this.seqs = [];
    this.budgeted = [];
    this.keptBytes = 0;
    this.budgetedBytes = 0;
    let start = 0;
    while (start < b.length) {
      const nl = b.indexOf(NEWLINE, start);
      const end = nl < 0 ? b.length : nl + 1;
      // An unterminated last line is kept as it was given (a GPU install is content, not records).
      this.push(b.slice(start, end));
      start = end;
    }
    return null;
  }

  /** The retained window, oldest line first. */
  bytes(): Uint8Array {
    if (this.data === null) this.data = this.join(0);
    return this.data;
  }

  /** Sequence number of the newest line (0 before any). */
  lastSeq(): number {
    return this.nextSeq - 1;
  }

  /** The retained lines appended after line `seq`, joined (the whole window when seq is older than all of them). */
  bytesAfter(seq: number): Uint8Array {
    let i = this.seqs.length;
    while (i > 0 && this.seqs[i - 1] > seq) i--;
    return i === 0 ? this.bytes() : this.join(i);
  }

  private join(from: number): Uint8Array {
    let n = 0;
    for (let i = from; i < this.kept.length; i++) n += this.kept[i].length;
    const out = new Uint8Array(n);
    let at = 0;
    for (let i = from; i < this.kept.length; i++) {
      out.set(this.kept[i], at);
      at += this.kept[i].length;
    }
    return out;
  }

  /** Lines without their newlines, oldest first. */
  lines(): string[] {
    return this.kept.map((l) => utf8Decode(l, 0, l[l.length - 1] === NEWLINE ? l.length - 1 : l.length) ?? '\ufffd');
  }
}

/**
 * One open's reads of a LineStore. The first read takes the window as it is; later reads go on
 * in that snapshot, and past its end they get the lines appended since (a `tail -f` at the end
 * sees new lines). Lines evicted meanwhile are skipped whole: a reader never starts in the middle
 * of a line because older ones were dropped under it (issue 13, bug 9).
 */
export class LineReader {
  private view: Uint8Array = new Uint8Array(0);
  /** Reader offset of view[0]. */
  private viewStart = 0;
  /** The newest line the view holds. */
  private seenSeq = 0;

  constructor(private readonly store: LineStore) {}

  read(offset: bigint, count: number): Uint8Array {
    const o = offset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(offset);
    if (o < this.viewStart) {
      // Read again from earlier on (a second `cat` on the fid): start over from the window.
      this.view = this.store.bytes();
      this.viewStart = o;
      this.seenSeq = this.store.lastSeq();
    } else if (o >= this.viewStart + this.view.length) {
      const fresh = this.store.bytesAfter(this.seenSeq);
      this.viewStart = Math.max(o, this.viewStart + this.view.length);
      this.view = fresh;
      this.seenSeq = this.store.lastSeq();
    }
    const start = o - this.viewStart;
    if (start === 0 && count >= this.view.length) return this.view;
    return this.view.subarray(start, start + count);
  }
}

/**
 * Up to `count` bytes of `all` from `offset`, empty past the end: a view, not a copy (`all` itself
 * for a whole read from 0, the common `cat` of a small file), as OpenFile.read allows. So `all`
 * must never change in place: every store here replaces its array instead (LineStore.bytes,
 * ReadOnlyFile.set), which is what lets an open read a consistent snapshot too.
 */
export function sliceAt(all: Uint8Array, offset: bigint, count: number): Uint8Array {
  if (offset === 0n && count >= all.length) return all;
  const start = offset > BigInt(all.length) ? all.length : Number(offset);
  return all.subarray(start, start + count);
}
