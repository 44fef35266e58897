// Encodes and decodes 9P2000.L frames (size[4] type[1] tag[2] body, little-endian), bounded by the negotiated msize.
import { DecodeError, EncodeError } from './errors.js';
import { HEADER_BYTES, MSIZE_MAX_BYTES, WALK_NAMES_MAX } from './limits.js';
import type { Dirent, Message, Qid, Request } from './messages.js';
import { nameProblem, walkNameAt } from './names.js';
import { MessageType, REFUSED_REQUESTS, messageTypeName, type MessageTypeName, type RefusedRequestName } from './opcodes.js';
import { Reader, WireFault, Writer } from './wire.js';
import { BytesCache } from '../bytes/cache.js';
import { utf8Decode } from '../bytes/utf8.js';

export type DecodeResult<M> = { ok: true; message: M } | { ok: false; error: DecodeError };

const REFUSED = new Set<string>(REFUSED_REQUESTS);

/** Frame bytes a dirent takes: qid[13] offset[8] type[1] name[s]. */
export function direntBytes(nameUtf8Bytes: number): number {
  return 13 + 8 + 1 + 2 + nameUtf8Bytes;
}

/** The reader every decode uses: decoding is synchronous and never nested, so one serves them all. */
const reader = new Reader(new Uint8Array(0), 0, 0);

/**
 * Decodes one whole frame. Never throws for bad input: every problem comes back as a
 * DecodeError carrying the tag whenever the 7-byte header could be read. `msizeBytes` is the
 * negotiated bound (MSIZE_MAX_BYTES before Tversion); nothing larger is looked at.
 */
export function decodeFrame(bytes: Uint8Array, msizeBytes: number = MSIZE_MAX_BYTES): DecodeResult<Message> {
  const m = decodeMessage(bytes, msizeBytes);
  return m instanceof DecodeError ? { ok: false, error: m } : { ok: true, message: m };
}

/** Decodes a frame a server receives: a reply type here is as wrong as an unknown one. */
export function decodeRequest(bytes: Uint8Array, msizeBytes: number = MSIZE_MAX_BYTES): DecodeResult<Request> {
  const m = decodeRequestMessage(bytes, msizeBytes);
  return m instanceof DecodeError ? { ok: false, error: m } : { ok: true, message: m };
}

/**
 * decodeRequest without the result wrapper, for a server's per-frame path: the message or the
 * DecodeError itself (one object fewer per frame). Every reply type number is odd in 9P2000.L.
 */
export function decodeRequestMessage(bytes: Uint8Array, msizeBytes: number = MSIZE_MAX_BYTES): Request | DecodeError {
  const m = decodeMessage(bytes, msizeBytes);
  // The type byte first: it settles nearly every frame without an instanceof.
  if ((bytes[4] & 1) === 0 || m instanceof DecodeError) return m as Request | DecodeError;
  return new DecodeError('Invalid', `unexpected reply message ${m.kind}`, m.tag, bytes[4]);
}

/** decodeFrame without the result wrapper: the message, or the DecodeError as a value. */
export function decodeMessage(bytes: Uint8Array, msizeBytes: number = MSIZE_MAX_BYTES): Message | DecodeError {
  const length = bytes.length;
  if (length < HEADER_BYTES) return new DecodeError('Invalid', 'unreadable header', null, null);
  const size = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0;
  const type = bytes[4];
  const tag = bytes[5] | (bytes[6] << 8);
  const limit = msizeBytes < MSIZE_MAX_BYTES ? msizeBytes : MSIZE_MAX_BYTES;
  if (length > limit || size > limit) {
    return new DecodeError('TooBig', `frame of ${Math.max(size, length)} bytes exceeds msize ${limit}`, tag, type);
  }
  if (size !== length) {
    return new DecodeError('Invalid', `declared size ${size} does not match frame length ${length}`, tag, type);
  }
  // The small requests, at exactly their fixed size (every well-formed one), are read straight
  // from the bytes: no reader set-up and no call per field, which were half of their decoding
  // inside quickjs-ng. Any other size takes the general path for its exact refusal.
  switch (type) {
    case MessageType.Tclunk:
      if (size === TCLUNK_BYTES) return { kind: 'Tclunk', tag, fid: u32At(bytes, 7) };
      break;
    case MessageType.Tgetattr:
      if (size === TGETATTR_BYTES) return { kind: 'Tgetattr', tag, fid: u32At(bytes, 7), requestMask: u64At(bytes, 11) };
      break;
    case MessageType.Tread:
      if (size === TREAD_BYTES) return { kind: 'Tread', tag, fid: u32At(bytes, 7), offset: u64At(bytes, 11), count: u32At(bytes, 19) };
      break;
    case MessageType.Tlopen:
      if (size === TLOPEN_BYTES) return { kind: 'Tlopen', tag, fid: u32At(bytes, 7), flags: u32At(bytes, 11) };
      break;
    case MessageType.Twalk: {
      const names = walkNamesAt(bytes, size);
      if (names !== null) return { kind: 'Twalk', tag, fid: u32At(bytes, 7), newfid: u32At(bytes, 11), names };
      break;
    }
  }
  const decode = DECODERS[type];
  if (decode === undefined) return new DecodeError('Invalid', `unknown message type ${type}`, tag, type);
  try {
    reader.reset(bytes, HEADER_BYTES, size);
    const message = decode(reader, tag, type);
    reader.finish();
    return message;
  } catch (e) {
    if (e instanceof WireFault) return new DecodeError(e.code, e.message, tag, type);
    throw e; // a bug in the codec itself: let the property tests see it
  }
}

/** Whole-frame sizes of the fixed-layout requests decodeMessage (and a server's own fast path) reads without a reader. */
export const TCLUNK_BYTES = HEADER_BYTES + 4;
export const TGETATTR_BYTES = HEADER_BYTES + 4 + 8;
export const TREAD_BYTES = HEADER_BYTES + 4 + 8 + 4;
export const TLOPEN_BYTES = HEADER_BYTES + 4 + 4;
/** fid[4] newfid[4] nwname[2], before the names. */
const TWALK_MIN_BYTES = HEADER_BYTES + 4 + 4 + 2;

export function u32At(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/** As Reader.u64: one BigInt when the value fits in 32 bits. */
export function u64At(b: Uint8Array, p: number): bigint {
  const lo = u32At(b, p);
  const hi = u32At(b, p + 4);
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * A well-formed Twalk's names read straight from its bytes; null for anything the reader path
 * would refuse (too many names, a truncated or bad name, trailing bytes), so it gives the refusal.
 */
export function walkNamesAt(b: Uint8Array, size: number): string[] | null {
  if (size < TWALK_MIN_BYTES) return null;
  const n = b[15] | (b[16] << 8);
  if (n > WALK_NAMES_MAX) return null;
  const names: string[] = [];
  let p = TWALK_MIN_BYTES;
  for (let i = 0; i < n; i++) {
    if (size - p < 2) return null;
    const len = b[p] | (b[p + 1] << 8);
    if (size - p - 2 < len) return null;
    const name = walkNameAt(b, p + 2, len);
    if (name === null) return null;
    names.push(name);
    p += 2 + len;
  }
  return p === size ? names : null;
}

/** Slots of the whole-walk cache (a power of two: the slot is a hash masked by it). */
const WALK_CACHE_SLOTS = 16;
/** Longer name sections are not cached: comparing them would cost what reading them does. */
const WALK_CACHE_BYTES_MAX = 64;
/** A Twalk's nwname and names section (from byte 15) and the names it was read as. */
const acceptedWalks = new BytesCache<readonly string[]>(WALK_CACHE_SLOTS, WALK_CACHE_BYTES_MAX);

/**
 * walkNamesAt for a server's own fast path, remembering the walks it accepted: a client walks the
 * same paths over and over (a stat or a read of the same file, a worker's own files), and the
 * whole section is found again with one byte compare where reading it name by name cost twice
 * that inside quickjs-ng. The array is shared by every walk of the same bytes: frozen, read-only.
 */
export function walkNamesCached(b: Uint8Array, size: number): readonly string[] | null {
  // Only walks with names are kept (a section of 2 bytes is nwname 0: nothing to save).
  const cacheable = size - 15 > 2;
  const known = cacheable ? acceptedWalks.find(b, 15, size - 15) : undefined;
  if (known !== undefined) return known;
  const names = walkNamesAt(b, size);
  if (names === null || !cacheable) return names;
  acceptedWalks.keep(b, 15, size - 15, Object.freeze(names));
  return names;
}

type BodyDecoder = (r: Reader, tag: number, type: number) => Message;

/** The body decoder of each message we know, by name; DECODERS indexes them by type byte. */
const BODY_DECODERS: Partial<Record<MessageTypeName, BodyDecoder>> = {
  Tversion: (r, tag) => ({ kind: 'Tversion', tag, msize: r.u32('msize'), version: r.str('version') }),
  Rversion: (r, tag) => ({ kind: 'Rversion', tag, msize: r.u32('msize'), version: r.str('version') }),
  Tauth: (r, tag) => ({ kind: 'Tauth', tag, afid: r.u32('afid'), uname: r.str('uname'), aname: r.str('aname'), nUname: r.u32('n_uname') }),
  Rauth: (r, tag) => ({ kind: 'Rauth', tag, aqid: r.qid() }),
  Tattach: (r, tag) => ({
    kind: 'Tattach', tag, fid: r.u32('fid'), afid: r.u32('afid'), uname: r.str('uname'), aname: r.str('aname'), nUname: r.u32('n_uname'),
  }),
  Rattach: (r, tag) => ({ kind: 'Rattach', tag, qid: r.qid() }),
  Tflush: (r, tag) => ({ kind: 'Tflush', tag, oldtag: r.u16('oldtag') }),
  Rflush: (_r, tag) => ({ kind: 'Rflush', tag }),
  Twalk: (r, tag) => {
    const fid = r.u32('fid');
    const newfid = r.u32('newfid');
    const n = r.u16('nwname');
    // Checked before reading any name, so a huge count costs nothing.
    if (n > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${n} names exceeds ${WALK_NAMES_MAX}`);
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(r.walkName());
    return { kind: 'Twalk', tag, fid, newfid, names };
  },
  Rwalk: (r, tag) => {
    const n = r.u16('nwqid');
    if (n > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${n} qids exceeds ${WALK_NAMES_MAX}`);
    const qids = [];
    for (let i = 0; i < n; i++) qids.push(r.qid());
    return { kind: 'Rwalk', tag, qids };
  },
  Tlopen: (r, tag) => ({ kind: 'Tlopen', tag, fid: r.u32('fid'), flags: r.u32('flags') }),
  Rlopen: (r, tag) => ({ kind: 'Rlopen', tag, qid: r.qid(), iounit: r.u32('iounit') }),
  Tread: (r, tag) => ({ kind: 'Tread', tag, fid: r.u32('fid'), offset: r.u64('offset'), count: r.u32('count') }),
  Rread: (r, tag) => {
    const count = r.u32('count');
    return { kind: 'Rread', tag, data: r.bytes(count) };
  },
  Twrite: (r, tag) => {
    const fid = r.u32('fid');
    const offset = r.u64('offset');
    const count = r.u32('count');
    return { kind: 'Twrite', tag, fid, offset, data: r.bytes(count) };
  },
  Rwrite: (r, tag) => ({ kind: 'Rwrite', tag, count: r.u32('count') }),
  Tclunk: (r, tag) => ({ kind: 'Tclunk', tag, fid: r.u32('fid') }),
  Rclunk: (_r, tag) => ({ kind: 'Rclunk', tag }),
  Tgetattr: (r, tag) => ({ kind: 'Tgetattr', tag, fid: r.u32('fid'), requestMask: r.u64('request_mask') }),
  Rgetattr: (r, tag) => ({
    kind: 'Rgetattr', tag, valid: r.u64(), qid: r.qid(), mode: r.u32(), uid: r.u32(), gid: r.u32(), nlink: r.u64(), rdev: r.u64(),
    size: r.u64(), blksize: r.u64(), blocks: r.u64(), atimeSec: r.u64(), atimeNsec: r.u64(), mtimeSec: r.u64(),
    mtimeNsec: r.u64(), ctimeSec: r.u64(), ctimeNsec: r.u64(), btimeSec: r.u64(), btimeNsec: r.u64(), gen: r.u64(),
    dataVersion: r.u64(),
  }),
  Treaddir: (r, tag) => ({ kind: 'Treaddir', tag, fid: r.u32('fid'), offset: r.u64('offset'), count: r.u32('count') }),
  Rreaddir: (r, tag) => {
    const count = r.u32('count');
    const data = r.bytes(count);
    // Its own reader: the shared one is busy with the frame around these entries.
    const d = new Reader(data, 0, data.length);
    const entries: Dirent[] = [];
    // Each dirent takes at least 24 bytes, so this loop is bounded by msize / 24.
    while (d.remaining() > 0) {
      entries.push({ qid: d.qid(), offset: d.u64('dirent offset'), type: d.u8('dirent type'), name: d.str('dirent name') });
    }
    return { kind: 'Rreaddir', tag, entries };
  },
  Tstatfs: (r, tag) => ({ kind: 'Tstatfs', tag, fid: r.u32('fid') }),
  Rstatfs: (r, tag) => ({
    kind: 'Rstatfs', tag, type: r.u32(), bsize: r.u32(), blocks: r.u64(), bfree: r.u64(), bavail: r.u64(), files: r.u64(),
    ffree: r.u64(), fsid: r.u64(), namelen: r.u32(),
  }),
  Rlerror: (r, tag) => ({ kind: 'Rlerror', tag, ecode: r.u32('ecode') }),
};

/** A request we know and refuse: only its header is read, the body is kept raw. */
const decodeRefused: BodyDecoder = (r, tag, type) =>
  ({ kind: 'Trefused', tag, type, name: messageTypeName(type) as RefusedRequestName, body: r.bytes(r.remaining()) });

/**
 * Body decoders indexed by type byte (a table, as lib9p's srv.c): one array load per frame where
 * a switch over message names compared strings case by case inside quickjs-ng.
 */
const DECODERS: (BodyDecoder | undefined)[] = new Array<BodyDecoder | undefined>(256).fill(undefined);
for (const [name, type] of Object.entries(MessageType) as [MessageTypeName, number][]) {
  DECODERS[type] = REFUSED.has(name) ? decodeRefused : BODY_DECODERS[name];
}

/**
 * Encodes one message as a whole frame. Throws EncodeError when a field is out of range or the
 * frame would exceed `msizeBytes`: the caller (our own session) must have sized it to fit.
 */
export function encodeMessage(m: Message, msizeBytes: number = MSIZE_MAX_BYTES): Uint8Array {
  const w = Writer.take(msizeBytes < MSIZE_MAX_BYTES ? msizeBytes : MSIZE_MAX_BYTES);
  try {
    w.header(m.kind === 'Trefused' ? m.type : MessageType[m.kind], m.tag);
    (BODY_ENCODERS[m.kind] as (w: Writer, m: Message) => void)(w, m);
    w.endFrame();
    return w.finish();
  } catch (e) {
    w.abandon();
    if (e instanceof WireFault) throw new EncodeError(`${m.kind}: ${e.message}`);
    throw e;
  }
}

type BodyEncoders = { [K in Message['kind']]: (w: Writer, m: Extract<Message, { kind: K }>) => void };

/** The body encoder of each message, looked up by kind (one property load, not a switch over names). */
const BODY_ENCODERS: BodyEncoders = {
  Tversion: (w, m) => {
    w.u32(m.msize, 'msize');
    w.str(m.version, 'version');
  },
  Rversion: (w, m) => {
    w.u32(m.msize, 'msize');
    w.str(m.version, 'version');
  },
  Tauth: (w, m) => {
    w.u32(m.afid);
    w.str(m.uname, 'uname');
    w.str(m.aname, 'aname');
    w.u32(m.nUname);
  },
  Rauth: (w, m) => w.qid(m.aqid),
  Tattach: (w, m) => {
    w.u32(m.fid);
    w.u32(m.afid);
    w.str(m.uname, 'uname');
    w.str(m.aname, 'aname');
    w.u32(m.nUname);
  },
  Rattach: (w, m) => w.qid(m.qid),
  Tflush: (w, m) => w.u16(m.oldtag, 'oldtag'),
  Rflush: () => {},
  Rclunk: () => {},
  Twalk: (w, m) => {
    w.u32(m.fid);
    w.u32(m.newfid);
    if (m.names.length > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${m.names.length} names exceeds ${WALK_NAMES_MAX}`);
    w.u16(m.names.length);
    for (const n of m.names) {
      const problem = nameProblem(n);
      if (problem !== null) throw new WireFault('Invalid', problem);
      w.str(n, 'walk name');
    }
  },
  Rwalk: (w, m) => {
    if (m.qids.length > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${m.qids.length} qids exceeds ${WALK_NAMES_MAX}`);
    w.u16(m.qids.length);
    // Indexed, not for-of: an iterator per frame is measurable inside quickjs-ng.
    for (let i = 0; i < m.qids.length; i++) w.qid(m.qids[i]);
  },
  Tlopen: (w, m) => {
    w.u32(m.fid);
    w.u32(m.flags, 'flags');
  },
  Rlopen: (w, m) => {
    w.qid(m.qid);
    w.u32(m.iounit, 'iounit');
  },
  Tread: (w, m) => {
    w.u32(m.fid);
    w.u64(m.offset, 'offset');
    w.u32(m.count, 'count');
  },
  Treaddir: (w, m) => {
    w.u32(m.fid);
    w.u64(m.offset, 'offset');
    w.u32(m.count, 'count');
  },
  Rread: (w, m) => {
    w.u32(m.data.length);
    w.bytes(m.data);
  },
  Twrite: (w, m) => {
    w.u32(m.fid);
    w.u64(m.offset, 'offset');
    w.u32(m.data.length);
    w.bytes(m.data);
  },
  Rwrite: (w, m) => w.u32(m.count, 'count'),
  Tclunk: (w, m) => w.u32(m.fid),
  Tstatfs: (w, m) => w.u32(m.fid),
  Tgetattr: (w, m) => {
    w.u32(m.fid);
    w.u64(m.requestMask, 'request_mask');
  },
  Rgetattr: (w, m) => {
    w.u64(m.valid);
    w.qid(m.qid);
    w.u32(m.mode, 'mode');
    w.u32(m.uid, 'uid');
    w.u32(m.gid, 'gid');
    // Field by field, not a loop over a fresh array: this is the hottest reply (stat), and an
    // array plus its iterator per frame is measurable inside quickjs-ng.
    w.u64(m.nlink);
    w.u64(m.rdev);
    w.u64(m.size);
    w.u64(m.blksize);
    w.u64(m.blocks);
    w.u64(m.atimeSec);
    w.u64(m.atimeNsec);
    w.u64(m.mtimeSec);
    w.u64(m.mtimeNsec);
    w.u64(m.ctimeSec);
    w.u64(m.ctimeNsec);
    w.u64(m.btimeSec);
    w.u64(m.btimeNsec);
    w.u64(m.gen);
    w.u64(m.dataVersion);
  },
  Rreaddir: (w, m) => {
    const at = w.offset();
    w.u32(0);
    for (const e of m.entries) {
      w.qid(e.qid);
      w.u64(e.offset, 'dirent offset');
      w.u8(e.type, 'dirent type');
      w.str(e.name, 'dirent name');
    }
    w.patchU32(at, w.offset() - at - 4);
  },
  Rstatfs: (w, m) => {
    w.u32(m.type);
    w.u32(m.bsize);
    for (const v of [m.blocks, m.bfree, m.bavail, m.files, m.ffree, m.fsid]) w.u64(v);
    w.u32(m.namelen);
  },
  Rlerror: (w, m) => w.u32(m.ecode, 'ecode'),
  Trefused: (w, m) => w.bytes(m.body),
};
