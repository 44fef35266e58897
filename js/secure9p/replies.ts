// The hot replies (Rwalk, Rlopen, Rread, Rclunk) written straight into one shared reply buffer, for a server that sends at once.
import { MSIZE_MAX_BYTES, HEADER_BYTES, QID_BYTES, RREAD_HEADER_BYTES, WALK_NAMES_MAX } from './limits.js';
import type { Qid } from './messages.js';
import { MessageType } from './opcodes.js';

/**
 * Where every put* below leaves its frame, from byte 0: valid until the next put*. Replying is
 * synchronous and never nested (a frame is put and sent, or copied, before anything else runs), so
 * one msize-sized buffer serves every session. Made on first use: a bundle that only imports the
 * codec (a worker's client) never pays its 8 KiB.
 */
let buf: Uint8Array | null = null;
let view: DataView | null = null;
/** The type numbers, read off the table once (a property read per reply otherwise). */
const RCLUNK = MessageType.Rclunk;
const RLOPEN = MessageType.Rlopen;
const RREAD = MessageType.Rread;
const RWALK = MessageType.Rwalk;

/** The reply buffer; put* returns how many of its bytes are the frame. */
export function replyBuffer(): Uint8Array {
  if (buf === null) {
    buf = new Uint8Array(MSIZE_MAX_BYTES);
    view = new DataView(buf.buffer);
  }
  return buf;
}

// Writing here costs a fraction of a Writer inside quickjs-ng: no writer to take and release, no
// try/catch, no call per field, and no copy of the frame out of a scratch (a typed-array slice is
// about 2,500 instructions there). Each put* checks what the codec's encoder would refuse and
// answers -1 for it, so the caller falls back to the message and the ordinary encode path.

/**
 * size[4] type[1] tag[2]; false when the tag is not a u16. Two word stores: the second also
 * zeroes byte 7, which is the body's (written after) or past the frame (Rclunk).
 */
function header(v: DataView, size: number, type: number, tag: number): boolean {
  if ((tag & 0xffff) !== tag) return false;
  v.setUint32(0, size, true);
  v.setUint32(4, type | (tag << 8), true);
  return true;
}

/** qid[13] at `at`; false for a field out of range. */
function qidAt(b: Uint8Array, v: DataView, at: number, q: Qid): boolean {
  const type = q.type;
  const version = q.version;
  const path = q.path;
  // As Writer.u64: in range iff nothing is left above bit 63 (a negative shifts to -1n).
  if ((type & 0xff) !== type || version >>> 0 !== version || typeof path !== 'bigint' || path >> 64n !== 0n) return false;
  b[at] = type;
  v.setUint32(at + 1, version, true);
  v.setBigUint64(at + 5, path, true);
  return true;
}

/** Rclunk: the header alone. */
export function putRclunk(tag: number): number {
  if (view === null) replyBuffer();
  return header(view as DataView, HEADER_BYTES, RCLUNK, tag) ? HEADER_BYTES : -1;
}

/** Rlopen: qid[13] iounit[4]. */
export function putRlopen(tag: number, qid: Qid, iounit: number, msizeBytes: number): number {
  const size = HEADER_BYTES + QID_BYTES + 4;
  if (size > msizeBytes || iounit >>> 0 !== iounit) return -1;
  const b = buf ?? replyBuffer();
  const v = view as DataView;
  if (!header(v, size, RLOPEN, tag) || !qidAt(b, v, HEADER_BYTES, qid)) return -1;
  v.setUint32(HEADER_BYTES + QID_BYTES, iounit, true);
  return size;
}

/** Rread: count[4] data[count]. */
export function putRread(tag: number, data: Uint8Array, msizeBytes: number): number {
  const size = RREAD_HEADER_BYTES + data.length;
  if (size > msizeBytes || size > MSIZE_MAX_BYTES) return -1;
  const b = buf ?? replyBuffer();
  const v = view as DataView;
  if (!header(v, size, RREAD, tag)) return -1;
  v.setUint32(HEADER_BYTES, data.length, true);
  b.set(data, RREAD_HEADER_BYTES);
  return size;
}

/** Rwalk: nwqid[2] qid[13]*nwqid; a walk has at most WALK_NAMES_MAX steps, so no more qids. */
export function putRwalk(tag: number, qids: readonly Qid[], msizeBytes: number): number {
  const n = qids.length;
  const size = HEADER_BYTES + 2 + n * QID_BYTES;
  if (n > WALK_NAMES_MAX || size > msizeBytes) return -1;
  const b = buf ?? replyBuffer();
  const v = view as DataView;
  if (!header(v, size, RWALK, tag)) return -1;
  v.setUint16(HEADER_BYTES, n, true);
  for (let i = 0; i < n; i++) if (!qidAt(b, v, HEADER_BYTES + 2 + i * QID_BYTES, qids[i])) return -1;
  return size;
}
