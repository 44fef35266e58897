// Little-endian cursors over one frame: the reader never reads past its end, the writer never grows past its cap.
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import type { Qid } from './messages.js';
import { nameBytesProblem, walkNameAt } from './names.js';
import { MSIZE_MAX_BYTES, QID_BYTES } from './limits.js';

/** Raised inside the codec only; decodeFrame turns it into a DecodeError value. */
export class WireFault {
  constructor(
    readonly code: 'Invalid' | 'TooBig',
    readonly message: string,
  ) {}
}

export class Reader {
  private buf: Uint8Array;
  private pos: number;
  private end: number;

  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  /**
   * Points this reader at another frame. The codec keeps one reader for every request it decodes:
   * a new object per frame (and a DataView with it) cost more than the fields it read inside quickjs-ng.
   */
  reset(buf: Uint8Array, start: number, end: number): void {
    this.buf = buf;
    this.pos = start;
    this.end = end;
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

  // Integers are assembled from bytes: no DataView to make per frame, and no native call per
  // field. The bound check is inline (a call to need() per field was measurable too).
  u16(what = 'u16'): number {
    const p = this.pos;
    if (this.end - p < 2) throw new WireFault('Invalid', `truncated ${what}`);
    const b = this.buf;
    this.pos = p + 2;
    return b[p] | (b[p + 1] << 8);
  }

  u32(what = 'u32'): number {
    const p = this.pos;
    if (this.end - p < 4) throw new WireFault('Invalid', `truncated ${what}`);
    const b = this.buf;
    this.pos = p + 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const lo = this.u32();
    const hi = this.u32();
    // Most u64 fields on the wire (offsets, masks) fit in 32 bits: one BigInt then, not three.
    return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
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
    // The length's own check, inline: a `${what} length` string built per name cost more than the read.
    if (this.end - this.pos < 2) throw new WireFault('Invalid', `truncated ${what} length`);
    const p = this.pos;
    this.pos = p + 2;
    return this.bytes(this.buf[p] | (this.buf[p + 1] << 8), what);
  }

  /**
   * A Twalk name: len[2] + bytes that walkNameAt accepts, as a string; a refused name throws with
   * nameBytesProblem's reason. No view of the bytes is made for a name walked before.
   */
  walkName(): string {
    const p = this.pos;
    if (this.end - p < 2) throw new WireFault('Invalid', 'truncated walk name length');
    const len = this.buf[p] | (this.buf[p + 1] << 8);
    if (this.end - p - 2 < len) throw new WireFault('Invalid', 'truncated walk name');
    const name = walkNameAt(this.buf, p + 2, len);
    if (name === null) throw new WireFault('Invalid', nameBytesProblem(this.buf.subarray(p + 2, p + 2 + len)) as string);
    this.pos = p + 2 + len;
    return name;
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
let scratch: Uint8Array | null = null;
let scratchView: DataView | null = null;
/** Whether a Writer holds the scratch now: a second one gets its own buffer instead. */
let scratchHeld = false;
/** The writer that owns the scratch, parked between frames so `Writer.take` need not build one. */
let parked: Writer | null = null;

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private cap: number;
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

  /**
   * A writer for one frame: the parked scratch writer when it is free (the codec's every frame),
   * else a new one. Each object made per frame costs thousands of instructions inside quickjs-ng.
   */
  static take(capBytes: number): Writer {
    const w = parked;
    if (w !== null && !scratchHeld && capBytes <= SCRATCH_BYTES) {
      parked = null;
      scratchHeld = true;
      w.holdsScratch = true;
      w.pos = 0;
      w.cap = capBytes;
      return w;
    }
    return new Writer(capBytes);
  }

  private tooBig(): WireFault {
    return new WireFault('TooBig', `message exceeds ${this.cap} bytes`);
  }

  private invalid(what: string, v: unknown): WireFault {
    return new WireFault('Invalid', `${what} out of range: ${String(v)}`);
  }

  /** Gives the scratch back, once; the scratch's writer is parked for the next frame. */
  private release(): void {
    if (this.holdsScratch) {
      this.holdsScratch = false;
      scratchHeld = false;
      parked = this;
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
    // In range iff nothing is left above bit 63 (a negative shifts to -1n): one BigInt operation,
    // where comparing against 2^64 - 1 took two. Not BigInt.asUintN(64, v) !== v: quickjs-ng
    // 0.15.1 answers that true for 2^64 - 1 (the "at end" offset), which the firmware suites caught.
    if (typeof v !== 'bigint' || v >> 64n !== 0n) throw this.invalid(what, v);
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

  /** The 7-byte frame header with its size left 0 for `endFrame`; one call, as every reply starts so. */
  header(type: number, tag: number): void {
    if ((type & 0xff) !== type) throw this.invalid('u8', type);
    if ((tag & 0xffff) !== tag) throw this.invalid('tag', tag);
    if (this.pos + 7 > this.cap) throw this.tooBig();
    // Size is written by endFrame; two byte stores are cheaper than a native call for the tag.
    const b = this.buf;
    const p = this.pos;
    b[p + 4] = type;
    b[p + 5] = tag & 0xff;
    b[p + 6] = tag >>> 8;
    this.pos = p + 7;
  }

  /** Patches the size of the frame begun at 0 with `header`. */
  endFrame(): void {
    this.view.setUint32(0, this.pos, true);
  }

  // The three fields checked and written in one call: Rwalk carries up to 16 qids, and a call per
  // field was a third of its cost inside quickjs-ng.
  qid(q: Qid): void {
    const { type, version, path } = q;
    if ((type & 0xff) !== type) throw this.invalid('qid type', type);
    if (version >>> 0 !== version) throw this.invalid('qid version', version);
    if (typeof path !== 'bigint' || path >> 64n !== 0n) throw this.invalid('qid path', path);
    if (this.pos + 13 > this.cap) throw this.tooBig();
    const p = this.pos;
    this.buf[p] = type;
    this.view.setUint32(p + 1, version, true);
    this.view.setBigUint64(p + 5, path, true);
    this.pos = p + 13;
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
