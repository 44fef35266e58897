// The per-session fid table: bounded; clunked numbers are remembered so a stale use says so, and may be bound again (spec §0 interop).
import { Eclunked, Efidinuse, Efidtablefull, Eunknownfid, refusal, type NineError } from './errors.js';
import { FIDS_PER_SESSION_MAX, RETIRED_FIDS_MAX } from './limits.js';

export class FidTable<E> {
  private readonly live = new Map<number, E>();
  /** Numbers reserved by an operation still in progress (an async walk or attach). */
  private readonly pending = new Set<number>();
  /** Insertion-ordered, so the oldest retirement is the first forgotten past RETIRED_FIDS_MAX. */
  private readonly retired = new Set<number>();

  get(fid: number): E | NineError {
    return this.live.get(fid) ?? this.missing(fid);
  }

  /**
   * The live entry, or undefined: with missing(), what get() answers, for a caller on a hot path
   * (an undefined test is a fraction of an instanceof inside quickjs-ng).
   */
  find(fid: number): E | undefined {
    return this.live.get(fid);
  }

  /** Why `fid` has no entry: clunked already, or never bound. */
  missing(fid: number): NineError {
    if (this.retired.has(fid)) return refusal(Eclunked, fid);
    return refusal(Eunknownfid, fid);
  }

  /** Claims a number for a new fid; the caller must later bind() or release() it. */
  reserve(fid: number): NineError | null {
    if (this.live.has(fid) || this.pending.has(fid)) return refusal(Efidinuse, fid);
    if (this.live.size + this.pending.size >= FIDS_PER_SESSION_MAX) return refusal(Efidtablefull, FIDS_PER_SESSION_MAX);
    // Spec §5.3 retired clunked numbers for the whole session, but every standard client (diod's
    // libnpclient, Linux v9fs, Go p9) hands a clunked number out again at once, as 9P allows
    // after Rclunk; §0 (standard clients must attach, list and read) wins. A number is bound
    // again only as a newfid: a plain use of a clunked fid is still EBADF `already clunked`.
    this.retired.delete(fid);
    this.pending.add(fid);
    return null;
  }

  bind(fid: number, entry: E): void {
    this.pending.delete(fid);
    this.live.set(fid, entry);
  }

  release(fid: number): void {
    this.pending.delete(fid);
  }

  /** Replaces a live fid's entry in place (a walk with newfid = fid). */
  replace(fid: number, entry: E): void {
    if (this.live.has(fid)) this.live.set(fid, entry);
  }

  /** Removes a fid and remembers its number as clunked; undefined when it was not live (see missing()). */
  clunk(fid: number): E | undefined {
    const e = this.live.get(fid);
    if (e === undefined) return undefined;
    this.live.delete(fid);
    this.retired.add(fid);
    if (this.retired.size > RETIRED_FIDS_MAX) {
      const oldest = this.retired.values().next().value as number;
      this.retired.delete(oldest);
    }
    return e;
  }

  isRetired(fid: number): boolean {
    return this.retired.has(fid);
  }

  /** Empties the table (Tversion reset); returns the entries so their open files can be closed. */
  clear(): E[] {
    const all = [...this.live.values()];
    this.live.clear();
    this.pending.clear();
    this.retired.clear();
    return all;
  }

  liveFids(): number[] {
    return [...this.live.keys()].sort((a, b) => a - b);
  }

  size(): number {
    return this.live.size;
  }
}
