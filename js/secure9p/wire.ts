// Little-endian cursors over one frame: the reader never reads past its end, the writer never grows past its cap.
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import type { Qid } from './messages.js';
import { QID_BYTES } from './limits.js';

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

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const U64_MAX = 0xffffffffffffffffn;
/** First allocation of a writer; it doubles up to its cap. */
const WRITER_INITIAL_BYTES = 64;

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(private readonly capBytes: number) {
    this.buf = new Uint8Array(Math.min(WRITER_INITIAL_BYTES, capBytes));
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos + n > this.capBytes) throw new WireFault('TooBig', `message exceeds ${this.capBytes} bytes`);
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(Math.min(size, this.capBytes));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private check(v: number, max: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new WireFault('Invalid', `${what} out of range: ${v}`);
  }

  u8(v: number, what = 'u8'): void {
    this.check(v, 0xff, what);
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number, what = 'u16'): void {
    this.check(v, U16_MAX, what);
    this.room(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number, what = 'u32'): void {
    this.check(v, U32_MAX, what);
    this.room(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }

  u64(v: bigint, what = 'u64'): void {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw new WireFault('Invalid', `${what} out of range: ${String(v)}`);
    this.room(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
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

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
