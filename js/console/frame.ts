// TCP console framing (spec §2): u32 LE total length (header included) + one UTF-8 line; encoder and bounded stream decoder.
import { LengthPrefixSplitter, writeLengthPrefix } from '../bytes/length-prefix.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import {
  FRAME_DECLARED_BYTES_MAX, FRAME_DECLARED_BYTES_MIN, FRAME_HEADER_BYTES, FRAME_REPLY_PAYLOAD_BYTES_MAX,
  FRAME_REQUEST_PAYLOAD_BYTES_MAX,
} from './limits.js';

/** A line that cannot be framed: over the payload bound. Always a bug in the caller. */
export class FrameError {
  readonly code = 'frame-too-big';
  constructor(readonly message: string) {}
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** Frames one line; FrameError when its UTF-8 is over `payloadMaxBytes`. */
export function encodeFrame(line: string, payloadMaxBytes: number = FRAME_REPLY_PAYLOAD_BYTES_MAX): Uint8Array | FrameError {
  const payload = utf8Encode(line);
  if (payload.length > payloadMaxBytes) return new FrameError(`payload of ${payload.length} bytes is over ${payloadMaxBytes}`);
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeLengthPrefix(out, out.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/** Stable codes for a stream the decoder gave up on; the caller closes the connection. */
export type FrameFaultCode =
  | 'length-below-min' // declared < 4: the stream cannot be resynchronised
  | 'length-over-max' // declared > 8192 (fatal before AUTH and for clients)
  | 'payload-over-max' // server, before AUTH: payload > 256
  | 'invalid-utf8'; // server, before AUTH

export type FrameEvent =
  /** One whole frame's text; '' for an empty payload (an empty command). */
  | { kind: 'frame'; text: string }
  /**
   * Server after AUTH: a frame over the bound. Its bytes are being skipped (never buffered);
   * the caller answers `ERR FRAME reason=invalid-length` and the session goes on.
   */
  | { kind: 'oversize'; declaredBytes: number }
  /** After AUTH, or on a client: a whole frame that is not UTF-8. Non-fatal; the caller decides. */
  | { kind: 'invalid-utf8' }
  /** The stream is dead: close it. Later input is ignored. */
  | { kind: 'fatal'; code: FrameFaultCode; message: string };

export type FrameSide = 'server' | 'client';

export interface FrameStep {
  /** Bytes of the chunk used, from `start`. */
  consumed: number;
  /** The event these bytes completed, or null when the chunk ran out first. */
  event: FrameEvent | null;
}

/**
 * Cuts a byte stream into frames: the console's face of the one bounded splitter
 * (js/bytes/length-prefix.ts). It holds at most one frame (header + payload bound) and skips
 * oversize frames by counting, so a hostile peer cannot make it grow.
 *
 * Step API (`next`): one event at a time, so a server can switch to the after-AUTH rules
 * between the AUTH frame and whatever the peer pipelined behind it.
 */
export class FrameDecoder {
  /** The most bytes this decoder will ever hold; the property tests check it. */
  readonly bufferBytesMax: number;
  private readonly split: LengthPrefixSplitter;
  private authed = false;

  constructor(readonly side: FrameSide) {
    const payloadMax = side === 'server' ? FRAME_REQUEST_PAYLOAD_BYTES_MAX : FRAME_REPLY_PAYLOAD_BYTES_MAX;
    this.bufferBytesMax = FRAME_HEADER_BYTES + payloadMax;
    this.split = new LengthPrefixSplitter({
      headerBytes: FRAME_HEADER_BYTES,
      declaredBytesMin: FRAME_DECLARED_BYTES_MIN,
      bufferBytesMax: this.bufferBytesMax,
      // Over either bound is oversize; checkOversize() tells the two apart for the fault code.
      frameBytesMax: Math.min(FRAME_DECLARED_BYTES_MAX, this.bufferBytesMax),
    });
  }

  /** Server: from now on oversize frames are skipped and bad UTF-8 is reported, not fatal. */
  setAuthenticated(): void {
    this.authed = true;
  }

  buffered(): number {
    return this.split.buffered();
  }

  /** Bytes of an oversize frame still to be skipped. */
  skipping(): number {
    return this.split.skipping();
  }

  isDead(): boolean {
    return this.split.isDead();
  }

  next(chunk: Uint8Array, start = 0): FrameStep {
    const event = this.split.step(chunk, start);
    const consumed = this.split.end - start;
    switch (event) {
      case 'none':
        return { consumed, event: null };
      case 'frame':
        return { consumed, event: this.finishFrame() };
      case 'oversize':
        return { consumed, event: this.checkOversize() };
      case 'undersize': {
        const declared = this.split.declared();
        return { consumed, event: this.fault('length-below-min', `declared length ${declared} is below ${FRAME_DECLARED_BYTES_MIN}`) };
      }
    }
  }

  /** Feeds a whole chunk under the current rules; stops at a fatal event. */
  push(chunk: Uint8Array): FrameEvent[] {
    const out: FrameEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      const step = this.next(chunk, at);
      at += step.consumed;
      if (step.event === null) break;
      out.push(step.event);
      if (step.event.kind === 'fatal') break;
    }
    return out;
  }

  /** A frame over the bound: skipped after AUTH on a server, the end of the stream otherwise. */
  private checkOversize(): FrameEvent {
    const declared = this.split.declared();
    if (this.side === 'server' && this.authed) {
      this.split.skipOversize();
      return { kind: 'oversize', declaredBytes: declared };
    }
    if (declared > FRAME_DECLARED_BYTES_MAX) {
      return this.fatal('length-over-max', `declared length ${declared} is over ${FRAME_DECLARED_BYTES_MAX}`);
    }
    const payload = declared - FRAME_HEADER_BYTES;
    return this.fatal('payload-over-max', `payload of ${payload} bytes is over ${FRAME_REQUEST_PAYLOAD_BYTES_MAX}`);
  }

  private finishFrame(): FrameEvent {
    const frame = this.split.frame();
    const text = utf8Decode(frame, FRAME_HEADER_BYTES, frame.length);
    if (text !== null) return { kind: 'frame', text };
    if (this.side === 'server' && !this.authed) return this.fatal('invalid-utf8', 'frame payload is not UTF-8');
    return { kind: 'invalid-utf8' };
  }

  /** The splitter already gave up (undersize): the event only. */
  private fault(code: FrameFaultCode, message: string): FrameEvent {
    return { kind: 'fatal', code, message };
  }

  private fatal(code: FrameFaultCode, message: string): FrameEvent {
    this.split.kill();
    return this.fault(code, message);
  }
}
