// Cuts a TCP byte stream into whole 9P frames using the size prefix, holding at most one msize of bytes.
import { LengthPrefixSplitter } from '../bytes/length-prefix.js';
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

/**
 * The 9P face of the one bounded splitter (js/bytes/length-prefix.ts): a 7-byte header (size,
 * type, tag) judged before the body, oversize frames skipped (the session goes on), a size below
 * the header fatal. A subclass, not a wrapper: idle() and whole() run once per request on the
 * server's data path, and inside quickjs-ng a forwarding call there is a measurable cost.
 * From the base: buffered(), idle(), whole(), exportState(), importState() (what a hot reload carries).
 */
export class FrameSplitter extends LengthPrefixSplitter {
  constructor(msizeBytes: number = MSIZE_MAX_BYTES) {
    // One buffer of the largest msize for the connection's life: no growth, ever.
    super({ headerBytes: HEADER_BYTES, declaredBytesMin: HEADER_BYTES, bufferBytesMax: MSIZE_MAX_BYTES, frameBytesMax: msizeBytes });
  }

  /** Lowers (never raises past MSIZE_MAX_BYTES) the bound once Tversion has been answered. */
  setMsize(msizeBytes: number): void {
    this.setFrameBytesMax(msizeBytes);
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
   * Feeds a chunk, handing each event to `sink` as it completes, in stream order. A server's
   * per-chunk path: no array and no event object per frame (push wraps this for everyone else).
   * A chunk that is exactly one frame within msize while idle (whole()) is handed on as it is: the
   * transport gives each chunk to us alone. A server may try such a chunk itself first
   * (Session.handleSmall) when idle().
   */
  feed(chunk: Uint8Array, sink: FrameSink): void {
    if (this.whole(chunk)) {
      sink.frame(chunk);
      return;
    }
    let i = 0;
    while (i < chunk.length) {
      const event = this.step(chunk, i);
      i = this.end;
      if (event === 'frame') {
        // A copy: the buffer takes the next frame's bytes.
        sink.frame(this.frame().slice());
      } else if (event === 'oversize') {
        const h = this.header();
        this.skipOversize();
        sink.oversize(h[5] | (h[6] << 8), h[4], this.declared());
      } else if (event === 'undersize') {
        sink.fatal(`declared frame size ${this.declared()} is below the ${HEADER_BYTES}-byte header`);
        return;
      }
    }
  }
}
