// Bounded length-prefix splitter: cuts a byte stream into frames whose first 4 bytes (u32 LE) give the whole frame's length, holding at most one frame.
//
// The TCP console (js/console/frame.ts) and Secure9P (js/secure9p/frames.ts) frame their streams
// the same way and differ only in their bounds and in what they do with a frame over the bound
// (skip it and go on, or give up on the stream). This is the one splitter; each protocol wraps it
// with its own events and policy.

/** Bytes of the length prefix at the start of every frame (u32 little-endian, the header included). */
export const LENGTH_PREFIX_BYTES = 4;

/** The bounds of one splitter, fixed for its life (the frame bound may be lowered later). */
export interface LengthPrefixBounds {
  /**
   * Bytes gathered before the declared length is judged: the prefix plus any fixed header the
   * caller wants to read when a frame is over the bound (9P: size, type, tag = 7).
   */
  headerBytes: number;
  /** The smallest declared length; below it the stream cannot be resynchronised. */
  declaredBytesMin: number;
  /** The buffer: the most bytes this splitter will ever hold. */
  bufferBytesMax: number;
  /** A declared length over this is an oversize frame; clamped to bufferBytesMax. */
  frameBytesMax: number;
}

/** What one step stopped at: stable codes, compared by the wrappers. */
export type LengthPrefixEvent =
  /** The chunk ran out before anything completed. */
  | 'none'
  /** One whole frame: frame() until the next step. */
  | 'frame'
  /** A header declaring more than the frame bound: header() holds it; the caller skipOversize()s or kill()s. */
  | 'oversize'
  /** A declared length below declaredBytesMin: the splitter is dead, later input is ignored. */
  | 'undersize';

/** The u32 little-endian length prefix at `at`. */
export function readLengthPrefix(bytes: Uint8Array, at = 0): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

/** Writes `length` as the u32 little-endian prefix at `at`. */
export function writeLengthPrefix(bytes: Uint8Array, length: number, at = 0): void {
  bytes[at] = length & 0xff;
  bytes[at + 1] = (length >>> 8) & 0xff;
  bytes[at + 2] = (length >>> 16) & 0xff;
  bytes[at + 3] = (length >>> 24) & 0xff;
}

/**
 * The splitter. One buffer of bufferBytesMax for its life; an oversize frame the caller chooses
 * to skip is skipped by counting, never buffered, so a hostile peer cannot make it grow.
 *
 * Step API: step() consumes bytes up to one event and returns it, with `end` the index in the
 * chunk after the bytes it used. No allocation per step: the 9P server runs it per chunk.
 */
export class LengthPrefixSplitter {
  /** Index in the last chunk after the bytes the last step used. */
  end = 0;
  private readonly buf: Uint8Array;
  private readonly headerBytes: number;
  private readonly declaredBytesMin: number;
  private frameBytesMax: number;
  private have = 0;
  private frameBytes = 0;
  private skipBytes = 0;
  private dead = false;

  constructor(bounds: LengthPrefixBounds) {
    // A minimum below the header would let a frame end before its header is in: a caller's bug.
    if (bounds.headerBytes < LENGTH_PREFIX_BYTES || bounds.declaredBytesMin < bounds.headerBytes) {
      throw new RangeError(`length-prefix bounds: header ${bounds.headerBytes}, minimum ${bounds.declaredBytesMin}`);
    }
    this.headerBytes = bounds.headerBytes;
    this.declaredBytesMin = bounds.declaredBytesMin;
    this.buf = new Uint8Array(bounds.bufferBytesMax);
    this.frameBytesMax = Math.min(bounds.frameBytesMax, bounds.bufferBytesMax);
  }

  /** The most bytes this splitter will ever hold. */
  get bufferBytesMax(): number {
    return this.buf.length;
  }

  /** Changes the frame bound, never past the buffer. */
  setFrameBytesMax(bytes: number): void {
    this.frameBytesMax = Math.min(bytes, this.buf.length);
  }

  /** Bytes held waiting for the rest of a frame. */
  buffered(): number {
    return this.have;
  }

  /** Bytes of an oversize frame still to be skipped. */
  skipping(): number {
    return this.skipBytes;
  }

  isDead(): boolean {
    return this.dead;
  }

  /** Nothing held, nothing being skipped, the stream usable: the next chunk starts a frame. */
  idle(): boolean {
    return this.have === 0 && this.skipBytes === 0 && !this.dead;
  }

  /** Idle, and `chunk` is exactly one frame within the bound: the chunk is the frame as it is. */
  whole(chunk: Uint8Array): boolean {
    if (!this.idle() || chunk.length < this.headerBytes) return false;
    const size = readLengthPrefix(chunk);
    return size === chunk.length && size <= this.frameBytesMax;
  }

  /** The frame the last 'frame' step completed; a view, valid until the next step. */
  frame(): Uint8Array {
    return this.buf.subarray(0, this.frameBytes);
  }

  /** The header the last 'oversize' step judged; a view, valid until the next step. */
  header(): Uint8Array {
    return this.buf.subarray(0, this.headerBytes);
  }

  /** After 'oversize' or 'undersize': the declared length of that header. */
  declared(): number {
    return readLengthPrefix(this.buf);
  }

  /** After 'oversize': throw the rest of that frame away as it arrives, then go on. */
  skipOversize(): void {
    this.skipBytes = this.declared() - this.headerBytes;
  }

  /** Gives up on the stream: nothing held, later input ignored. */
  kill(): void {
    this.dead = true;
    this.have = 0;
    this.skipBytes = 0;
  }

  /** A half-received frame and the bytes of an oversize one still to skip: what a hot reload carries. */
  exportState(): { held: Uint8Array; skipBytes: number } {
    return { held: this.buf.slice(0, this.have), skipBytes: this.skipBytes };
  }

  /** Puts back exportState() of an earlier code (on a fresh splitter); false when it cannot hold it. */
  importState(s: { held: Uint8Array; skipBytes: number }): boolean {
    if (s.held.length > this.buf.length || !Number.isSafeInteger(s.skipBytes) || s.skipBytes < 0) return false;
    this.buf.set(s.held, 0);
    this.have = s.held.length;
    this.skipBytes = s.skipBytes;
    return true;
  }

  /** Consumes bytes of `chunk` from `start` up to one event; `end` says where it stopped. */
  step(chunk: Uint8Array, start: number): LengthPrefixEvent {
    let i = start;
    if (this.dead) {
      this.end = chunk.length;
      return 'none';
    }
    while (i < chunk.length) {
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, chunk.length - i);
        this.skipBytes -= n;
        i += n;
        continue;
      }
      // Fill the header first, then exactly the declared length: never more than the bound.
      const want = this.have < this.headerBytes ? this.headerBytes : readLengthPrefix(this.buf);
      const n = Math.min(want - this.have, chunk.length - i);
      this.buf.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have === this.headerBytes) {
        const size = readLengthPrefix(this.buf);
        if (size < this.declaredBytesMin) {
          this.kill();
          this.end = i;
          return 'undersize';
        }
        if (size > this.frameBytesMax) {
          // The header stays in buf for header()/declared(); the caller picks skip or kill.
          this.have = 0;
          this.end = i;
          return 'oversize';
        }
      }
      if (this.have >= this.headerBytes && this.have === readLengthPrefix(this.buf)) {
        this.frameBytes = this.have;
        this.have = 0;
        this.end = i;
        return 'frame';
      }
    }
    this.end = i;
    return 'none';
  }
}
