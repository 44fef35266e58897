// Encodes and decodes 9P2000.L frames (size[4] type[1] tag[2] body, little-endian), bounded by the negotiated msize.
import { DecodeError, EncodeError } from './errors.js';
import { HEADER_BYTES, MSIZE_MAX_BYTES, WALK_NAMES_MAX } from './limits.js';
import type { Dirent, Message, Reply, Request } from './messages.js';
import { nameBytesProblem, nameProblem } from './names.js';
import { MessageType, REFUSED_REQUESTS, messageTypeName, type RefusedRequestName } from './opcodes.js';
import { Reader, WireFault, Writer } from './wire.js';
import { utf8Decode } from '../bytes/utf8.js';

export type DecodeResult<M> = { ok: true; message: M } | { ok: false; error: DecodeError };

const REFUSED = new Set<string>(REFUSED_REQUESTS);

/** Frame bytes a dirent takes: qid[13] offset[8] type[1] name[s]. */
export function direntBytes(nameUtf8Bytes: number): number {
  return 13 + 8 + 1 + 2 + nameUtf8Bytes;
}

/**
 * Decodes one whole frame. Never throws for bad input: every problem comes back as a
 * DecodeError carrying the tag whenever the 7-byte header could be read. `msizeBytes` is the
 * negotiated bound (MSIZE_MAX_BYTES before Tversion); nothing larger is looked at.
 */
export function decodeFrame(bytes: Uint8Array, msizeBytes: number = MSIZE_MAX_BYTES): DecodeResult<Message> {
  if (bytes.length < HEADER_BYTES) {
    return { ok: false, error: new DecodeError('Invalid', 'unreadable header', null, null) };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = view.getUint32(0, true);
  const type = bytes[4];
  const tag = view.getUint16(5, true);
  const limit = Math.min(msizeBytes, MSIZE_MAX_BYTES);
  if (bytes.length > limit || size > limit) {
    return { ok: false, error: new DecodeError('TooBig', `frame of ${Math.max(size, bytes.length)} bytes exceeds msize ${limit}`, tag, type) };
  }
  if (size !== bytes.length) {
    return { ok: false, error: new DecodeError('Invalid', `declared size ${size} does not match frame length ${bytes.length}`, tag, type) };
  }
  try {
    const r = new Reader(bytes, HEADER_BYTES, size);
    const message = decodeBody(r, type, tag, bytes);
    r.finish();
    return { ok: true, message };
  } catch (e) {
    if (e instanceof WireFault) return { ok: false, error: new DecodeError(e.code, e.message, tag, type) };
    throw e; // a bug in the codec itself: let the property tests see it
  }
}

/** Decodes a frame a server receives: a reply type here is as wrong as an unknown one. */
export function decodeRequest(bytes: Uint8Array, msizeBytes: number = MSIZE_MAX_BYTES): DecodeResult<Request> {
  const d = decodeFrame(bytes, msizeBytes);
  if (d.ok && d.message.kind.startsWith('R')) {
    return { ok: false, error: new DecodeError('Invalid', `unexpected reply message ${d.message.kind}`, d.message.tag, bytes[4]) };
  }
  return d as DecodeResult<Request>;
}

function decodeBody(r: Reader, type: number, tag: number, frame: Uint8Array): Message {
  const name = messageTypeName(type);
  if (name !== null && REFUSED.has(name)) {
    return { kind: 'Trefused', tag, type, name: name as RefusedRequestName, body: r.bytes(r.remaining()) };
  }
  switch (name) {
    case 'Tversion':
      return { kind: 'Tversion', tag, msize: r.u32('msize'), version: r.str('version') };
    case 'Rversion':
      return { kind: 'Rversion', tag, msize: r.u32('msize'), version: r.str('version') };
    case 'Tauth':
      return { kind: 'Tauth', tag, afid: r.u32('afid'), uname: r.str('uname'), aname: r.str('aname'), nUname: r.u32('n_uname') };
    case 'Rauth':
      return { kind: 'Rauth', tag, aqid: r.qid() };
    case 'Tattach':
      return {
        kind: 'Tattach', tag, fid: r.u32('fid'), afid: r.u32('afid'), uname: r.str('uname'), aname: r.str('aname'), nUname: r.u32('n_uname'),
      };
    case 'Rattach':
      return { kind: 'Rattach', tag, qid: r.qid() };
    case 'Tflush':
      return { kind: 'Tflush', tag, oldtag: r.u16('oldtag') };
    case 'Rflush':
      return { kind: 'Rflush', tag };
    case 'Twalk': {
      const fid = r.u32('fid');
      const newfid = r.u32('newfid');
      const n = r.u16('nwname');
      // Checked before reading any name, so a huge count costs nothing.
      if (n > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${n} names exceeds ${WALK_NAMES_MAX}`);
      const names: string[] = [];
      for (let i = 0; i < n; i++) {
        const raw = r.rawString('walk name');
        const problem = nameBytesProblem(raw);
        if (problem !== null) throw new WireFault('Invalid', problem);
        names.push(utf8Decode(raw) as string);
      }
      return { kind: 'Twalk', tag, fid, newfid, names };
    }
    case 'Rwalk': {
      const n = r.u16('nwqid');
      if (n > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${n} qids exceeds ${WALK_NAMES_MAX}`);
      const qids = [];
      for (let i = 0; i < n; i++) qids.push(r.qid());
      return { kind: 'Rwalk', tag, qids };
    }
    case 'Tlopen':
      return { kind: 'Tlopen', tag, fid: r.u32('fid'), flags: r.u32('flags') };
    case 'Rlopen':
      return { kind: 'Rlopen', tag, qid: r.qid(), iounit: r.u32('iounit') };
    case 'Tread':
      return { kind: 'Tread', tag, fid: r.u32('fid'), offset: r.u64('offset'), count: r.u32('count') };
    case 'Rread': {
      const count = r.u32('count');
      return { kind: 'Rread', tag, data: r.bytes(count) };
    }
    case 'Twrite': {
      const fid = r.u32('fid');
      const offset = r.u64('offset');
      const count = r.u32('count');
      return { kind: 'Twrite', tag, fid, offset, data: r.bytes(count) };
    }
    case 'Rwrite':
      return { kind: 'Rwrite', tag, count: r.u32('count') };
    case 'Tclunk':
      return { kind: 'Tclunk', tag, fid: r.u32('fid') };
    case 'Rclunk':
      return { kind: 'Rclunk', tag };
    case 'Tgetattr':
      return { kind: 'Tgetattr', tag, fid: r.u32('fid'), requestMask: r.u64('request_mask') };
    case 'Rgetattr':
      return {
        kind: 'Rgetattr', tag, valid: r.u64(), qid: r.qid(), mode: r.u32(), uid: r.u32(), gid: r.u32(), nlink: r.u64(), rdev: r.u64(),
        size: r.u64(), blksize: r.u64(), blocks: r.u64(), atimeSec: r.u64(), atimeNsec: r.u64(), mtimeSec: r.u64(),
        mtimeNsec: r.u64(), ctimeSec: r.u64(), ctimeNsec: r.u64(), btimeSec: r.u64(), btimeNsec: r.u64(), gen: r.u64(),
        dataVersion: r.u64(),
      };
    case 'Treaddir':
      return { kind: 'Treaddir', tag, fid: r.u32('fid'), offset: r.u64('offset'), count: r.u32('count') };
    case 'Rreaddir': {
      const count = r.u32('count');
      const data = r.bytes(count);
      const d = new Reader(data, 0, data.length);
      const entries: Dirent[] = [];
      // Each dirent takes at least 24 bytes, so this loop is bounded by msize / 24.
      while (d.remaining() > 0) {
        entries.push({ qid: d.qid(), offset: d.u64('dirent offset'), type: d.u8('dirent type'), name: d.str('dirent name') });
      }
      return { kind: 'Rreaddir', tag, entries };
    }
    case 'Tstatfs':
      return { kind: 'Tstatfs', tag, fid: r.u32('fid') };
    case 'Rstatfs':
      return {
        kind: 'Rstatfs', tag, type: r.u32(), bsize: r.u32(), blocks: r.u64(), bfree: r.u64(), bavail: r.u64(), files: r.u64(),
        ffree: r.u64(), fsid: r.u64(), namelen: r.u32(),
      };
    case 'Rlerror':
      return { kind: 'Rlerror', tag, ecode: r.u32('ecode') };
    default:
      void frame;
      throw new WireFault('Invalid', `unknown message type ${type}`);
  }
}

/**
 * Encodes one message as a whole frame. Throws EncodeError when a field is out of range or the
 * frame would exceed `msizeBytes`: the caller (our own session) must have sized it to fit.
 */
export function encodeMessage(m: Message, msizeBytes: number = MSIZE_MAX_BYTES): Uint8Array {
  const w = new Writer(Math.min(msizeBytes, MSIZE_MAX_BYTES));
  try {
    w.u32(0); // size, patched below
    w.u8(m.kind === 'Trefused' ? m.type : MessageType[m.kind as keyof typeof MessageType]);
    w.u16(m.tag, 'tag');
    encodeBody(w, m);
    w.patchU32(0, w.offset());
    return w.finish();
  } catch (e) {
    if (e instanceof WireFault) throw new EncodeError(`${m.kind}: ${e.message}`);
    throw e;
  } finally {
    w.abandon();
  }
}

function encodeBody(w: Writer, m: Message): void {
  switch (m.kind) {
    case 'Tversion':
    case 'Rversion':
      w.u32(m.msize, 'msize');
      w.str(m.version, 'version');
      return;
    case 'Tauth':
      w.u32(m.afid);
      w.str(m.uname, 'uname');
      w.str(m.aname, 'aname');
      w.u32(m.nUname);
      return;
    case 'Rauth':
      w.qid(m.aqid);
      return;
    case 'Tattach':
      w.u32(m.fid);
      w.u32(m.afid);
      w.str(m.uname, 'uname');
      w.str(m.aname, 'aname');
      w.u32(m.nUname);
      return;
    case 'Rattach':
      w.qid(m.qid);
      return;
    case 'Tflush':
      w.u16(m.oldtag, 'oldtag');
      return;
    case 'Rflush':
    case 'Rclunk':
      return;
    case 'Twalk':
      w.u32(m.fid);
      w.u32(m.newfid);
      if (m.names.length > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${m.names.length} names exceeds ${WALK_NAMES_MAX}`);
      w.u16(m.names.length);
      for (const n of m.names) {
        const problem = nameProblem(n);
        if (problem !== null) throw new WireFault('Invalid', problem);
        w.str(n, 'walk name');
      }
      return;
    case 'Rwalk':
      if (m.qids.length > WALK_NAMES_MAX) throw new WireFault('Invalid', `walk of ${m.qids.length} qids exceeds ${WALK_NAMES_MAX}`);
      w.u16(m.qids.length);
      for (const q of m.qids) w.qid(q);
      return;
    case 'Tlopen':
      w.u32(m.fid);
      w.u32(m.flags, 'flags');
      return;
    case 'Rlopen':
      w.qid(m.qid);
      w.u32(m.iounit, 'iounit');
      return;
    case 'Tread':
    case 'Treaddir':
      w.u32(m.fid);
      w.u64(m.offset, 'offset');
      w.u32(m.count, 'count');
      return;
    case 'Rread':
      w.u32(m.data.length);
      w.bytes(m.data);
      return;
    case 'Twrite':
      w.u32(m.fid);
      w.u64(m.offset, 'offset');
      w.u32(m.data.length);
      w.bytes(m.data);
      return;
    case 'Rwrite':
      w.u32(m.count, 'count');
      return;
    case 'Tclunk':
    case 'Tstatfs':
      w.u32(m.fid);
      return;
    case 'Tgetattr':
      w.u32(m.fid);
      w.u64(m.requestMask, 'request_mask');
      return;
    case 'Rgetattr':
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
      return;
    case 'Rreaddir': {
      const at = w.offset();
      w.u32(0);
      for (const e of m.entries) {
        w.qid(e.qid);
        w.u64(e.offset, 'dirent offset');
        w.u8(e.type, 'dirent type');
        w.str(e.name, 'dirent name');
      }
      w.patchU32(at, w.offset() - at - 4);
      return;
    }
    case 'Rstatfs':
      w.u32(m.type);
      w.u32(m.bsize);
      for (const v of [m.blocks, m.bfree, m.bavail, m.files, m.ffree, m.fsid]) w.u64(v);
      w.u32(m.namelen);
      return;
    case 'Rlerror':
      w.u32(m.ecode, 'ecode');
      return;
    case 'Trefused':
      w.bytes(m.body);
      return;
  }
}
