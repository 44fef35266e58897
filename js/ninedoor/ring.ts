// A worker's telemetry ring (spec §10.1): absolute offsets, append at `next`, oldest whole records dropped on wrap, stale cursors refused.
import { utf8Decode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import { OFFSET_AT_END } from '../secure9p/limits.js';
import { RING_BYTES_PER_WORKER, RING_REWIND_BYTES_MAX } from './limits.js';

const NEWLINE = 0x0a;

/** Told of each wrap (NineDoor aggregates these per worker, see audit.ts), instead of a line per wrap. */
export type RingWrapped = (droppedBytes: number, newBase: number) => void;

export class TelemetryRing {
  /** Absolute offset of the oldest retained byte. */
  private baseOffset = 0;
  private readonly bytes: Uint8Array;
  private used = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly capacityBytes: number = RING_BYTES_PER_WORKER,
    /** Absent: each wrap logs the spec §10.1 line itself. */
    private readonly wrapped: RingWrapped | null = null,
  ) {
    this.bytes = new Uint8Array(capacityBytes);
  }

  base(): number {
    return this.baseOffset;
  }

  /** The retained bytes, oldest first (a hot reload carries them with base()). */
  retained(): Uint8Array {
    return this.bytes.slice(0, this.used);
  }

  /** Puts back what retained() and base() gave; over the capacity, the newest whole records are kept. */
  reinstate(base: number, data: Uint8Array): void {
    let keep = data;
    if (data.length > this.capacityBytes) {
      // Cut at a record boundary, so the ring still starts with a whole record.
      const nl = data.indexOf(NEWLINE, data.length - this.capacityBytes - 1);
      keep = data.subarray(nl < 0 ? data.length : nl + 1);
    }
    this.bytes.set(keep, 0);
    this.used = keep.length;
    this.baseOffset = base + (data.length - keep.length);
  }

  /** Absolute offset one past the newest byte: where the next append lands. */
  next(): number {
    return this.baseOffset + this.used;
  }

  /**
   * Appends one record. The offset must be `next` or u64 max ("at end"); the record must be
   * UTF-8 and is stored newline-terminated (spec §17.10). Returns the bytes the writer sent.
   */
  append(offset: bigint, data: Uint8Array): number | NineError {
    if (offset !== OFFSET_AT_END && offset !== BigInt(this.next())) {
      return new NineError('Invalid', `telemetry offset ${offset} is not the end ${this.next()}`);
    }
    if (utf8Decode(data) === null) return new NineError('Invalid', 'telemetry record is not UTF-8');
    const terminated = data.length > 0 && data[data.length - 1] === NEWLINE;
    const recordBytes = data.length + (terminated ? 0 : 1);
    if (recordBytes > this.capacityBytes) {
      this.log(`[audit] telemetry quota reject bytes=${recordBytes} quota=${this.capacityBytes}`);
      return new NineError('TooBig', `telemetry record of ${recordBytes} bytes exceeds ${this.capacityBytes}`);
    }
    const overflow = this.used + recordBytes - this.capacityBytes;
    if (overflow > 0) {
      // Whole records go, never a part of one: `base` stays at a record start, so a reader that
      // rewinds to it (TAIL, a stale cursor's rewind_to) never begins with a fragment.
      const nl = this.bytes.subarray(0, this.used).indexOf(NEWLINE, overflow - 1);
      const dropped = nl < 0 ? this.used : nl + 1;
      this.bytes.copyWithin(0, dropped, this.used);
      this.used -= dropped;
      this.baseOffset += dropped;
      if (this.wrapped !== null) this.wrapped(dropped, this.baseOffset);
      else this.log(`[audit] telemetry ring wrap dropped_bytes=${dropped} new_base=${this.baseOffset}`);
    }
    this.bytes.set(data, this.used);
    this.used += data.length;
    if (!terminated) this.bytes[this.used++] = NEWLINE;
    return data.length;
  }

  /** Bytes from an absolute offset; below `base` is stale (Invalid), at or past `next` is empty. */
  read(offset: bigint, count: number): Uint8Array | NineError {
    if (offset < BigInt(this.baseOffset)) {
      return new NineError('Invalid', `telemetry cursor stale requested=${offset} rewind_to=${this.baseOffset}`);
    }
    if (offset >= BigInt(this.next())) return new Uint8Array(0);
    const start = Number(offset) - this.baseOffset;
    return this.bytes.slice(start, Math.min(this.used, start + count));
  }
}

/** One reader's position (one per open fid): going back is allowed up to RING_REWIND_BYTES_MAX before the last read. */
export class RingCursor {
  private lastReadOffset: number | null = null;

  constructor(private readonly ring: TelemetryRing) {}

  read(offset: bigint, count: number): Uint8Array | NineError {
    if (this.lastReadOffset !== null && offset < BigInt(this.lastReadOffset - RING_REWIND_BYTES_MAX)) {
      return new NineError('Invalid', `telemetry cursor rewind exceeds ${RING_REWIND_BYTES_MAX} bytes requested=${offset} last=${this.lastReadOffset}`);
    }
    const data = this.ring.read(offset, count);
    if (!(data instanceof NineError)) this.lastReadOffset = Number(offset);
    return data;
  }
}
