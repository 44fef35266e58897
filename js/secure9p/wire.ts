// Little-endian cursors over one frame: the reader never reads past its end, the writer never grows past its cap.
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import type { Qid } from './messages.js';
import { MSIZE_MAX_BYTES, QID_BYTES } from './limits.js';

/** Raised inside the codec only; decodeFrame turns it into a DecodeError value. */
export class WireFault {
  constructor(
    readonly code: 'Invalid' | 'TooBig',
    readonly message: string,
  ) {}
}

export class Reader {
  private pos: number;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new WireFault('Invalid', `truncated ${what}`);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++];
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A view into the frame (no copy): the frame is already bounded by msize. */
  bytes(n: number, what = 'data'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** len[2] + raw bytes, not yet interpreted (walk names are checked as bytes). */
  rawString(what = 'string'): Uint8Array {
    const n = this.u16(`${what} length`);
    return this.bytes(n, what);
  }

  /** len[2] + strict UTF-8 without NUL (spec §5.1). */
  str(what = 'string'): string {
    const b = this.rawString(what);
    for (let i = 0; i < b.length; i++) if (b[i] === 0) throw new WireFault('Invalid', `${what} contains NUL`);
    const s = utf8Decode(b);
    if (s === null) throw new WireFault('Invalid', `${what} is not valid UTF-8`);
    return s;
  }

  qid(what = 'qid'): Qid {
    this.need(QID_BYTES, what);
    return { type: this.u8(), version: this.u32(), path: this.u64() };
  }

  /** Every message has an exact length: bytes left over mean a malformed or mistyped frame. */
  finish(): void {
    if (this.pos !== this.end) throw new WireFault('Invalid', `${this.end - this.pos} trailing bytes`);
  }
}

/**
 * The bytes every Writer without its own buffer encodes into: encoding is synchronous and never
 * nested, so one msize-sized scratch serves them all, and `finish` copies out exactly the frame.
 * Growing a small buffer field by field and copying it on each doubling cost more than the
 * encoding itself inside quickjs-ng (see bench/ninep.py).
 */
const SCRATCH_BYTES = MSIZE_MAX_BYTES;
const U64_MAX = 0xffffffffffffffffn;
let scratch: Uint8Array | null = null;
let scratchView: DataView | null = null;
/** Whether a Writer holds the scratch now: a second one gets its own buffer instead. */
let scratchHeld = false;

export class Writer {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  private readonly cap: number;
  /** Holds the shared scratch until finish or abandon. */
  private holdsScratch: boolean;

  constructor(capBytes: number) {
    if (!scratchHeld && capBytes <= SCRATCH_BYTES) {
      if (scratch === null) {
        scratch = new Uint8Array(SCRATCH_BYTES);
        scratchView = new DataView(scratch.buffer);
      }
      scratchHeld = true;
      this.holdsScratch = true;
      this.buf = scratch;
      this.view = scratchView!;
    } else {
      this.holdsScratch = false;
      this.buf = new Uint8Array(capBytes);
      this.view = new DataView(this.buf.buffer);
    }
    this.cap = capBytes;
  }

  private tooBig(): WireFault {
    return new WireFault('TooBig', `message exceeds ${this.cap} bytes`);
  }

  private invalid(what: string, v: unknown): WireFault {
    return new WireFault('Invalid', `${what} out of range: ${String(v)}`);
  }

  /** Gives the scratch back, once. */
  private release(): void {
    if (this.holdsScratch) {
      this.holdsScratch = false;
      scratchHeld = false;
    }
  }

  // Each field checks its range and room inline: a method call per check was most of the cost.
  u8(v: number, what = 'u8'): void {
    if ((v & 0xff) !== v) throw this.invalid(what, v);
    if (this.pos + 1 > this.cap) throw this.tooBig();
    this.buf[this.pos++] = v;
  }

  u16(v: number, what = 'u16'): void {
    if ((v & 0xffff) !== v) throw this.invalid(what, v);
    if (this.pos + 2 > this.cap) throw this.tooBig();
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number, what = 'u32'): void {
    if (v >>> 0 !== v) throw this.invalid(what, v);
    if (this.pos + 4 > this.cap) throw this.tooBig();
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  u64(v: bigint, what = 'u64'): void {
    // Two comparisons, not BigInt.asUintN(64, v) !== v: quickjs-ng 0.15.1 answers that true for
    // 2^64 - 1 (the "at end" offset), which the firmware suites caught.
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw this.invalid(what, v);
    if (this.pos + 8 > this.cap) throw this.tooBig();
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    if (this.pos + b.length > this.cap) throw this.tooBig();
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  str(s: string, what = 'string'): void {
    if (s.includes('\0')) throw new WireFault('Invalid', `${what} contains NUL`);
    const b = utf8Encode(s);
    this.u16(b.length, `${what} length`);
    this.bytes(b);
  }

  qid(q: Qid): void {
    this.u8(q.type, 'qid type');
    this.u32(q.version, 'qid version');
    this.u64(q.path, 'qid path');
  }

  /** Position, for back-patching a count written before its data. */
  offset(): number {
    return this.pos;
  }

  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  /** The frame, copied out; the writer is done (its scratch goes back). */
  finish(): Uint8Array {
    this.release();
    return this.buf.slice(0, this.pos);
  }

  /** Ends a writer without a frame (its message failed); safe after finish. */
  abandon(): void {
    this.release();
  }
}
