// The appender's own 9P frame cursors: the few integer and string fields a telemetry worker writes and reads, and nothing else.
//
// Why not the codec's Reader/Writer (secure9p/wire.ts): they carry the server's fast paths (a
// shared msize scratch, the walk-name cache), which an idle heartbeat worker would pay for in
// arena bytes ("smallest arena, idle worker-heart" in bench/firmware.py) and never use.
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';

/** A frame being built into a buffer of at most `capBytes`; past it throws (a worker's bug, not input). */
export class FrameOut {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private pos = 0;

  constructor(capBytes: number) {
    this.buf = new Uint8Array(capBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private room(n: number): number {
    if (this.pos + n > this.buf.length) throw new Error(`frame exceeds ${this.buf.length} bytes`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(v: number): void {
    this.buf[this.room(1)] = v;
  }
  u16(v: number): void {
    this.view.setUint16(this.room(2), v, true);
  }
  u32(v: number): void {
    this.view.setUint32(this.room(4), v, true);
  }
  u64(v: bigint): void {
    const at = this.room(8);
    this.view.setUint32(at, Number(v & 0xffffffffn), true);
    this.view.setUint32(at + 4, Number((v >> 32n) & 0xffffffffn), true);
  }
  str(s: string): void {
    const b = utf8Encode(s);
    this.u16(b.length);
    this.bytes(b);
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.room(b.length));
  }
  /** The frame with its size field filled in. */
  finish(): Uint8Array {
    this.view.setUint32(0, this.pos, true);
    return this.buf.slice(0, this.pos);
  }
}

/** A reply's body from `start`; reading past its end throws (the appender answers Invalid). */
export class FrameIn {
  private readonly view: DataView;

  constructor(private readonly b: Uint8Array, private pos: number) {
    this.view = new DataView(b.buffer, b.byteOffset, b.length);
  }

  private take(n: number): number {
    if (this.pos + n > this.b.length) throw new Error('reply shorter than its fields');
    const at = this.pos;
    this.pos += n;
    return at;
  }

  remaining(): number {
    return this.b.length - this.pos;
  }
  u16(): number {
    return this.view.getUint16(this.take(2), true);
  }
  u32(): number {
    return this.view.getUint32(this.take(4), true);
  }
  str(): string {
    const n = this.u16();
    const at = this.take(n);
    const s = utf8Decode(this.b, at, at + n);
    if (s === null) throw new Error('reply string is not UTF-8');
    return s;
  }
}
