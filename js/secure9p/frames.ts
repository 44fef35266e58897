// Cuts a TCP byte stream into whole 9P frames using the size prefix, holding at most one msize of bytes.
import { HEADER_BYTES, MSIZE_MAX_BYTES } from './limits.js';

export type FrameEvent =
  /** One whole frame, ready for decodeFrame. */
  | { kind: 'frame'; bytes: Uint8Array }
  /**
   * A frame declared larger than msize: its bytes are skipped (spec §15: TooBig, session kept);
   * `tag` lets the server answer Rlerror EMSGSIZE.
   */
  | { kind: 'oversize'; tag: number; type: number; declaredBytes: number }
  /** A declared size below the 7-byte header: the stream cannot be resynchronised; close it. */
  | { kind: 'fatal'; reason: string };

/** Where a splitter hands what it cuts, as it cuts it (FrameEvent's three cases). */
export interface FrameSink {
  frame(bytes: Uint8Array): void;
  oversize(tag: number, type: number, declaredBytes: number): void;
  fatal(reason: string): void;
}

export class FrameSplitter {
  private readonly buf: Uint8Array;
  private have = 0;
  /** Bytes of an oversize frame still to be thrown away. */
  private skipBytes = 0;
  private dead = false;

  constructor(private msizeBytes: number = MSIZE_MAX_BYTES) {
    // One buffer of the largest msize for the connection's life: no growth, ever.
    this.buf = new Uint8Array(MSIZE_MAX_BYTES);
    this.msizeBytes = Math.min(msizeBytes, MSIZE_MAX_BYTES);
  }

  /** Lowers (never raises past MSIZE_MAX_BYTES) the bound once Tversion has been answered. */
  setMsize(msizeBytes: number): void {
    this.msizeBytes = Math.min(msizeBytes, MSIZE_MAX_BYTES);
  }

  /** Bytes held waiting for the rest of a frame. */
  buffered(): number {
    return this.have;
  }

  /** A half-received frame and the bytes of an oversize one still to skip: what a hot reload carries. */
  exportState(): { held: Uint8Array; skipBytes: number } {
    return { held: this.buf.slice(0, this.have), skipBytes: this.skipBytes };
  }

  /** Puts back exportState() of an earlier code (a fresh splitter); false when it cannot hold it. */
  importState(s: { held: Uint8Array; skipBytes: number }): boolean {
    if (s.held.length > this.buf.length || !Number.isSafeInteger(s.skipBytes) || s.skipBytes < 0) return false;
    this.buf.set(s.held, 0);
    this.have = s.held.length;
    this.skipBytes = s.skipBytes;
    return true;
  }

  /** Feeds a chunk; returns the events it completes, in stream order. */
  push(chunk: Uint8Array): FrameEvent[] {
    const out: FrameEvent[] = [];
    this.feed(chunk, {
      frame: (bytes) => out.push({ kind: 'frame', bytes }),
      oversize: (tag, type, declaredBytes) => out.push({ kind: 'oversize', tag, type, declaredBytes }),
      fatal: (reason) => out.push({ kind: 'fatal', reason }),
    });
    return out;
  }

  /**
   * Nothing held, nothing being skipped, the stream usable: the next chunk starts a frame. A
   * server may then try the chunk as one whole frame itself (Session.handleSmall) before feed().
   */
  idle(): boolean {
    return this.have === 0 && this.skipBytes === 0 && !this.dead;
  }

  /**
   * The common case on a request/response stream: nothing held, and the chunk is exactly one
   * frame within msize. Then the chunk is the frame, to hand on as it is (the transport gives each
   * chunk to us alone), and feed() does nothing else.
   */
  whole(chunk: Uint8Array): boolean {
    if (!this.idle() || chunk.length < HEADER_BYTES) return false;
    const size = (chunk[0] | (chunk[1] << 8) | (chunk[2] << 16) | (chunk[3] << 24)) >>> 0;
    return size === chunk.length && size <= this.msizeBytes;
  }

  /**
   * Feeds a chunk, handing each event to `sink` as it completes, in stream order. A server's
   * per-chunk path: no array and no event object per frame (push wraps this for everyone else).
   */
  feed(chunk: Uint8Array, sink: FrameSink): void {
    if (this.whole(chunk)) {
      sink.frame(chunk);
      return;
    }
    if (this.dead) return;
    let i = 0;
    while (i < chunk.length) {
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, chunk.length - i);
        this.skipBytes -= n;
        i += n;
        continue;
      }
      // Fill the header first, then exactly the declared size: never more than msize bytes.
      const want = this.have < HEADER_BYTES ? HEADER_BYTES : this.declared();
      const n = Math.min(want - this.have, chunk.length - i);
      this.buf.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have === HEADER_BYTES) {
        const size = this.declared();
        if (size < HEADER_BYTES) {
          this.dead = true;
          this.have = 0;
          sink.fatal(`declared frame size ${size} is below the ${HEADER_BYTES}-byte header`);
          return;
        }
        if (size > this.msizeBytes) {
          this.skipBytes = size - HEADER_BYTES;
          this.have = 0;
          sink.oversize(this.buf[5] | (this.buf[6] << 8), this.buf[4], size);
          continue;
        }
      }
      if (this.have >= HEADER_BYTES && this.have === this.declared()) {
        const frame = this.buf.slice(0, this.have);
        this.have = 0;
        sink.frame(frame);
      }
    }
  }

  private declared(): number {
    return (this.buf[0] | (this.buf[1] << 8) | (this.buf[2] << 16) | (this.buf[3] << 24)) >>> 0;
  }
}
