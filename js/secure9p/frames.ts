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
 * the header fatal.
 */
export class FrameSplitter {
  private readonly split: LengthPrefixSplitter;

  constructor(msizeBytes: number = MSIZE_MAX_BYTES) {
    // One buffer of the largest msize for the connection's life: no growth, ever.
    this.split = new LengthPrefixSplitter({
      headerBytes: HEADER_BYTES,
      declaredBytesMin: HEADER_BYTES,
      bufferBytesMax: MSIZE_MAX_BYTES,
      frameBytesMax: msizeBytes,
    });
  }

  /** Lowers (never raises past MSIZE_MAX_BYTES) the bound once Tversion has been answered. */
  setMsize(msizeBytes: number): void {
    this.split.setFrameBytesMax(msizeBytes);
  }

  /** Bytes held waiting for the rest of a frame. */
  buffered(): number {
    return this.split.buffered();
  }

  /** A half-received frame and the bytes of an oversize one still to skip: what a hot reload carries. */
  exportState(): { held: Uint8Array; skipBytes: number } {
    return this.split.exportState();
  }

  /** Puts back exportState() of an earlier code (a fresh splitter); false when it cannot hold it. */
  importState(s: { held: Uint8Array; skipBytes: number }): boolean {
    return this.split.importState(s);
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
    return this.split.idle();
  }

  /**
   * The common case on a request/response stream: nothing held, and the chunk is exactly one
   * frame within msize. Then the chunk is the frame, to hand on as it is (the transport gives each
   * chunk to us alone), and feed() does nothing else.
   */
  whole(chunk: Uint8Array): boolean {
    return this.split.whole(chunk);
  }

  /**
   * Feeds a chunk, handing each event to `sink` as it completes, in stream order. A server's
   * per-chunk path: no array and no event object per frame (push wraps this for everyone else).
   */
  feed(chunk: Uint8Array, sink: FrameSink): void {
    const split = this.split;
    if (split.whole(chunk)) {
      sink.frame(chunk);
      return;
    }
    let i = 0;
    while (i < chunk.length) {
      const event = split.step(chunk, i);
      i = split.end;
      if (event === 'frame') {
        // A copy: the splitter's buffer takes the next frame's bytes.
        sink.frame(split.frame().slice());
      } else if (event === 'oversize') {
        const h = split.header();
        split.skipOversize();
        sink.oversize(h[5] | (h[6] << 8), h[4], split.declared());
      } else if (event === 'undersize') {
        sink.fatal(`declared frame size ${split.declared()} is below the ${HEADER_BYTES}-byte header`);
        return;
      }
    }
  }
}
