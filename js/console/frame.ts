// TCP console framing (spec §2): u32 LE total length (header included) + one UTF-8 line; encoder and bounded stream decoder.
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
  const total = out.length;
  out[0] = total & 0xff;
  out[1] = (total >>> 8) & 0xff;
  out[2] = (total >>> 16) & 0xff;
  out[3] = (total >>> 24) & 0xff;
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
 * Cuts a byte stream into frames. It holds at most one frame (header + payload bound) and
 * skips oversize frames by counting, so a hostile peer cannot make it grow.
 *
 * Step API (`next`): one event at a time, so a server can switch to the after-AUTH rules
 * between the AUTH frame and whatever the peer pipelined behind it.
 */
export class FrameDecoder {
  /** The most bytes this decoder will ever hold; the property tests check it. */
  readonly bufferBytesMax: number;
  private readonly buf: Uint8Array;
  private have = 0;
  private skipBytes = 0;
  private dead = false;
  private authed = false;

  constructor(readonly side: FrameSide) {
    const payloadMax = side === 'server' ? FRAME_REQUEST_PAYLOAD_BYTES_MAX : FRAME_REPLY_PAYLOAD_BYTES_MAX;
    this.bufferBytesMax = FRAME_HEADER_BYTES + payloadMax;
    this.buf = new Uint8Array(this.bufferBytesMax);
  }

  /** Server: from now on oversize frames are skipped and bad UTF-8 is reported, not fatal. */
  setAuthenticated(): void {
    this.authed = true;
  }

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

  next(chunk: Uint8Array, start = 0): FrameStep {
    let i = start;
    if (this.dead) return { consumed: chunk.length - start, event: null };
    while (i < chunk.length) {
      if (this.skipBytes > 0) {
        const n = Math.min(this.skipBytes, chunk.length - i);
        this.skipBytes -= n;
        i += n;
        continue;
      }
      const want = this.have < FRAME_HEADER_BYTES ? FRAME_HEADER_BYTES : this.declared();
      const n = Math.min(want - this.have, chunk.length - i);
      this.buf.set(chunk.subarray(i, i + n), this.have);
      this.have += n;
      i += n;
      if (this.have === FRAME_HEADER_BYTES) {
        const event = this.checkHeader();
        if (event !== null) return { consumed: i - start, event };
      }
      if (this.have >= FRAME_HEADER_BYTES && this.have === this.declared()) {
        return { consumed: i - start, event: this.finishFrame() };
      }
    }
    return { consumed: i - start, event: null };
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

  private declared(): number {
    return (this.buf[0] | (this.buf[1] << 8) | (this.buf[2] << 16) | (this.buf[3] << 24)) >>> 0;
  }

  /** Applies the length rules once the header is in; returns an event when the frame is not normal. */
  private checkHeader(): FrameEvent | null {
    const declared = this.declared();
    if (declared < FRAME_DECLARED_BYTES_MIN) {
      return this.fatal('length-below-min', `declared length ${declared} is below ${FRAME_DECLARED_BYTES_MIN}`);
    }
    const payload = declared - FRAME_HEADER_BYTES;
    const over = declared > FRAME_DECLARED_BYTES_MAX || payload > this.bufferBytesMax - FRAME_HEADER_BYTES;
    if (!over) return null;
    if (this.side === 'server' && this.authed) {
      this.have = 0;
      this.skipBytes = payload;
      return { kind: 'oversize', declaredBytes: declared };
    }
    if (declared > FRAME_DECLARED_BYTES_MAX) {
      return this.fatal('length-over-max', `declared length ${declared} is over ${FRAME_DECLARED_BYTES_MAX}`);
    }
    return this.fatal('payload-over-max', `payload of ${payload} bytes is over ${FRAME_REQUEST_PAYLOAD_BYTES_MAX}`);
  }

  private finishFrame(): FrameEvent {
    const text = utf8Decode(this.buf, FRAME_HEADER_BYTES, this.have);
    this.have = 0;
    if (text !== null) return { kind: 'frame', text };
    if (this.side === 'server' && !this.authed) return this.fatal('invalid-utf8', 'frame payload is not UTF-8');
    return { kind: 'invalid-utf8' };
  }

  private fatal(code: FrameFaultCode, message: string): FrameEvent {
    this.dead = true;
    this.have = 0;
    this.skipBytes = 0;
    return { kind: 'fatal', code, message };
  }
}
