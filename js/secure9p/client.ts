// A promise-based 9P2000.L client over any whole-frame transport: bounded tags, queue, fids and helper sizes; errors as NineError values.
import { concatBytes } from '../bytes/concat.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { decodeFrame, encodeMessage } from './codec.js';
import { Errno, errorFromErrno, ETIMEDOUT, NineError } from './errors.js';
import {
  FIDS_PER_SESSION_MAX, IO_HEADER_BYTES, MSIZE_MAX_BYTES, MSIZE_MIN_BYTES, NOFID, NOTAG, OFFSET_AT_END, RREAD_HEADER_BYTES,
  TAGS_IN_FLIGHT_MAX, WALK_NAMES_MAX,
} from './limits.js';
import type { Dirent, Qid, Reply, Request, Rgetattr, Rstatfs } from './messages.js';
import { GETATTR_BASIC, OpenFlag } from './opcodes.js';

/** Requests waiting for a free tag beyond the 16-tag window; one more is refused Busy at once. */
export const CLIENT_QUEUE_MAX = 64;
/** How long a request (queued or in flight) may wait for its reply before it fails with ETIMEDOUT. */
export const CLIENT_REQUEST_TIMEOUT_MS = 5000;
/** Largest file readAll() gathers; a longer file is TooBig rather than an unbounded buffer. */
export const READ_ALL_BYTES_MAX = 65536;
/** Largest payload one write()/append() call sends (it is cut into msize-sized Twrites). */
export const WRITE_BYTES_MAX = 65536;
/** Most names list() returns; a longer directory is TooBig. */
export const LIST_ENTRIES_MAX = 1024;
/** Path components a helper walks (in steps of WALK_NAMES_MAX). */
export const PATH_NAMES_MAX = 32;
/**
 * Times readAll(retained) starts again from a ring's new base after a wrap made its read stale: a
 * heartbeat may wrap the ring between the getattr that gave the base and the read. A ring that
 * wraps again before the second read is done stays an error (Invalid) rather than a loop.
 */
export const READ_ALL_STALE_RETRIES_MAX = 1;
export { ETIMEDOUT, errorFromErrno } from './errors.js';


export interface ClientOptions {
  /** Hands one whole request frame to the transport. May deliver the reply synchronously through receive(). */
  send(frame: Uint8Array): void;
  /** Clock for request deadlines, ms (any monotonic origin); checked by expire(). */
  nowMs(): number;
  /** msize offered in Tversion; the server may lower it. Default MSIZE_MAX_BYTES. */
  msizeBytes?: number;
  /** Version offered; default `9P2000.L`. */
  version?: string;
  requestTimeoutMs?: number;
}

export interface Opened {
  qid: Qid;
  iounit: number;
}

type Resolve = (r: Reply | NineError) => void;

interface Waiting {
  /** Built at send time: the tag is not known before. */
  make: (tag: number) => Request;
  deadlineMs: number;
  resolve: Resolve;
}

interface InFlight {
  kind: Request['kind'];
  deadlineMs: number;
  /** null once the caller has been answered (timed out): the reply, when it comes, is dropped. */
  resolve: Resolve | null;
}

export class NineClient {
  private msizeBytes: number;
  private readonly timeoutMs: number;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly queue: Waiting[] = [];
  private nextTag = 0;
  /** Fid numbers only grow in a session, so a stale reply or a use after clunk can never name a newer fid. */
  private nextFid = 0;
  private readonly liveFids = new Set<number>();
  private closedReason: string | null = null;
  /** Replies with no matching tag (or undecodable): counted, never fatal. */
  strayReplies = 0;
  /** The fid of the first successful attach: the helpers walk from it. */
  root: number | null = null;

  constructor(private readonly o: ClientOptions) {
    this.msizeBytes = Math.min(o.msizeBytes ?? MSIZE_MAX_BYTES, MSIZE_MAX_BYTES);
    this.timeoutMs = o.requestTimeoutMs ?? CLIENT_REQUEST_TIMEOUT_MS;
  }

  // ---- what the transport owner calls ----

  /** One whole reply frame from the server. */
  receive(frame: Uint8Array): void {
    const d = decodeFrame(frame, this.msizeBytes);
    if (!d.ok) {
      const t = d.error.tag === null ? undefined : this.inFlight.get(d.error.tag);
      if (t === undefined || d.error.tag === null) {
        this.strayReplies++;
        return;
      }
      this.complete(d.error.tag, new NineError('Invalid', `undecodable reply: ${d.error.message}`));
      return;
    }
    const m = d.message;
    if (m.kind.startsWith('T') || !this.inFlight.has(m.tag)) {
      this.strayReplies++;
      return;
    }
    this.complete(m.tag, m as Reply);
  }

  /** Fails requests past their deadline (ETIMEDOUT) and flushes the ones on the wire; call it on a timer. */
  expire(): number {
    const now = this.o.nowMs();
    let n = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const w = this.queue[i];
      if (now < w.deadlineMs) continue;
      this.queue.splice(i, 1);
      w.resolve(new NineError('Busy', 'request timed out in the client queue', ETIMEDOUT));
      n++;
    }
    for (const [tag, f] of [...this.inFlight]) {
      if (f.resolve === null || now < f.deadlineMs) continue;
      const r = f.resolve;
      f.resolve = null;
      r(new NineError('Busy', `${f.kind} timed out after ${this.timeoutMs} ms`, ETIMEDOUT));
      n++;
      // The tag stays taken until the server answers the request or its flush (9P: only then is it free).
      if (f.kind !== 'Tflush') void this.flush(tag);
    }
    return n;
  }

  /** The transport is gone: everything waiting gets Closed, and so does every later call. */
  close(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    const err = new NineError('Closed', reason);
    for (const w of this.queue.splice(0)) w.resolve(err);
    for (const f of this.inFlight.values()) f.resolve?.(err);
    this.inFlight.clear();
    this.liveFids.clear();
  }

  msize(): number {
    return this.msizeBytes;
  }
  tagsInFlight(): number {
    return this.inFlight.size;
  }
  queued(): number {
    return this.queue.length;
  }
  openFids(): number[] {
    return [...this.liveFids].sort((a, b) => a - b);
  }

  // ---- the messages ----

  /** Tversion; the reply's msize bounds every later frame. Anything but 9P2000.L back is Invalid. */
  async version(): Promise<{ msize: number; version: string } | NineError> {
    const r = await this.rpc((tag) => ({ kind: 'Tversion', tag, msize: this.msizeBytes, version: this.o.version ?? '9P2000.L' }), NOTAG);
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rversion') return unexpected(r, 'Rversion');
    if (!r.version.startsWith('9P2000.L')) return new NineError('Invalid', `server speaks ${r.version}`);
    if (r.msize < MSIZE_MIN_BYTES || r.msize > this.msizeBytes) return new NineError('Invalid', `server msize ${r.msize} out of range`);
    this.msizeBytes = r.msize;
    return { msize: r.msize, version: r.version };
  }

  /** Tattach without an auth fid (tickets travel in aname). Returns the new root fid. */
  async attach(uname: string, aname: string, nUname = NOFID): Promise<number | NineError> {
    const fid = this.takeFid();
    if (fid instanceof NineError) return fid;
    const r = await this.rpc((tag) => ({ kind: 'Tattach', tag, fid, afid: NOFID, uname, aname, nUname }));
    if (r instanceof NineError || r.kind !== 'Rattach') return this.dropFid(fid, r, 'Rattach');
    this.root ??= fid;
    return fid;
  }

  /** Tversion then Tattach: the usual start. */
  async connect(uname: string, aname: string, nUname = NOFID): Promise<number | NineError> {
    const v = await this.version();
    if (v instanceof NineError) return v;
    return this.attach(uname, aname, nUname);
  }

  /**
   * Twalk of ≤ WALK_NAMES_MAX names to a new fid. A walk that stops early (fewer qids) is
   * NotFound: the server bound nothing. Zero names clones.
   */
  async walk(fid: number, names: readonly string[]): Promise<{ fid: number; qids: Qid[] } | NineError> {
    if (names.length > WALK_NAMES_MAX) return new NineError('Invalid', `walk of ${names.length} names exceeds ${WALK_NAMES_MAX}`);
    const newfid = this.takeFid();
    if (newfid instanceof NineError) return newfid;
    const r = await this.rpc((tag) => ({ kind: 'Twalk', tag, fid, newfid, names: [...names] }));
    if (r instanceof NineError || r.kind !== 'Rwalk') return this.dropFid(newfid, r, 'Rwalk');
    if (r.qids.length !== names.length) {
      this.liveFids.delete(newfid);
      return new NineError('NotFound', `${names[r.qids.length]}: not found`, Errno.ENOENT);
    }
    return { fid: newfid, qids: r.qids };
  }

  async lopen(fid: number, flags: number): Promise<Opened | NineError> {
    const r = await this.rpc((tag) => ({ kind: 'Tlopen', tag, fid, flags }));
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rlopen') return unexpected(r, 'Rlopen');
    return { qid: r.qid, iounit: r.iounit };
  }

  /** One Tread; `count` is cut to what one Rread can carry. Empty data = end of file. */
  async read(fid: number, offset: bigint, count: number): Promise<Uint8Array | NineError> {
    const room = Math.min(count, this.msizeBytes - RREAD_HEADER_BYTES);
    const r = await this.rpc((tag) => ({ kind: 'Tread', tag, fid, offset, count: room }));
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rread') return unexpected(r, 'Rread');
    return r.data;
  }

  /**
   * Writes `data` in Twrites of at most msize − IO_HEADER_BYTES, one after another, so the
   * server sees them in order. OFFSET_AT_END stays "at end" for every piece. Stops at a
   * short write and returns the bytes accepted; an error before any byte is returned as is.
   */
  async write(fid: number, offset: bigint, data: Uint8Array): Promise<number | NineError> {
    if (data.length > WRITE_BYTES_MAX) return new NineError('TooBig', `write of ${data.length} bytes exceeds ${WRITE_BYTES_MAX}`);
    const chunk = this.msizeBytes - IO_HEADER_BYTES;
    let done = 0;
    // Bounded by WRITE_BYTES_MAX / chunk iterations; a zero-length write still sends one Twrite.
    do {
      const piece = data.subarray(done, done + chunk);
      const at = offset === OFFSET_AT_END ? OFFSET_AT_END : offset + BigInt(done);
      const r = await this.rpc((tag) => ({ kind: 'Twrite', tag, fid, offset: at, data: piece }));
      if (r instanceof NineError) return done > 0 ? done : r;
      if (r.kind !== 'Rwrite') return done > 0 ? done : unexpected(r, 'Rwrite');
      done += Math.min(r.count, piece.length);
      if (r.count < piece.length) break;
    } while (done < data.length);
    return done;
  }

  async clunk(fid: number): Promise<void | NineError> {
    const r = await this.rpc((tag) => ({ kind: 'Tclunk', tag, fid }));
    // Whatever the answer, the server no longer holds the number for us (9P: clunk always frees).
    this.liveFids.delete(fid);
    if (fid === this.root) this.root = null;
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rclunk') return unexpected(r, 'Rclunk');
  }

  async getattr(fid: number, requestMask: bigint = GETATTR_BASIC): Promise<Rgetattr | NineError> {
    const r = await this.rpc((tag) => ({ kind: 'Tgetattr', tag, fid, requestMask }));
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rgetattr') return unexpected(r, 'Rgetattr');
    return r;
  }

  /** One Treaddir at an entry cookie; an empty array = end of directory. */
  async readdir(fid: number, offset: bigint, count: number = this.msizeBytes - RREAD_HEADER_BYTES): Promise<Dirent[] | NineError> {
    const room = Math.min(count, this.msizeBytes - RREAD_HEADER_BYTES);
    const r = await this.rpc((tag) => ({ kind: 'Treaddir', tag, fid, offset, count: room }));
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rreaddir') return unexpected(r, 'Rreaddir');
    return r.entries;
  }

  async statfs(fid: number): Promise<Rstatfs | NineError> {
    const r = await this.rpc((tag) => ({ kind: 'Tstatfs', tag, fid }));
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rstatfs') return unexpected(r, 'Rstatfs');
    return r;
  }

  /**
   * Tflush for a tag on the wire. When Rflush arrives the old request is over: if its own
   * reply never came, its caller (if still waiting) gets Busy `flushed` and the tag is free.
   */
  async flush(oldtag: number): Promise<void | NineError> {
    if (!this.inFlight.has(oldtag)) return new NineError('NotFound', `tag ${oldtag} is not in flight`);
    const r = await this.rpc((tag) => ({ kind: 'Tflush', tag, oldtag }));
    const old = this.inFlight.get(oldtag);
    if (old !== undefined) {
      this.inFlight.delete(oldtag);
      old.resolve?.(new NineError('Busy', `${old.kind} flushed`, Errno.EAGAIN));
      this.pump();
    }
    if (r instanceof NineError) return r;
    if (r.kind !== 'Rflush') return unexpected(r, 'Rflush');
  }

  /** Tags on the wire now (for flush). */
  pendingTags(): number[] {
    return [...this.inFlight.keys()];
  }

  // ---- helpers over the root fid ----

  /** Walks from the root to an absolute or root-relative path, in steps of WALK_NAMES_MAX names. */
  async walkPath(path: string): Promise<number | NineError> {
    if (this.root === null) return new NineError('Invalid', 'not attached');
    const names = path.split('/').filter((c) => c !== '');
    if (names.length > PATH_NAMES_MAX) return new NineError('Invalid', `path of ${names.length} names exceeds ${PATH_NAMES_MAX}`);
    const first = await this.walk(this.root, names.slice(0, WALK_NAMES_MAX));
    if (first instanceof NineError) return first;
    for (let i = WALK_NAMES_MAX; i < names.length; i += WALK_NAMES_MAX) {
      const step = names.slice(i, i + WALK_NAMES_MAX);
      // In place (newfid = fid), so a long path holds one fid. This fid is ours, never the root.
      const r = await this.rpc((tag) => ({ kind: 'Twalk', tag, fid: first.fid, newfid: first.fid, names: step }));
      const bad = r instanceof NineError ? r : r.kind !== 'Rwalk' ? unexpected(r, 'Rwalk')
        : r.qids.length !== step.length ? new NineError('NotFound', `${step[r.qids.length]}: not found`, Errno.ENOENT) : null;
      if (bad !== null) {
        await this.clunk(first.fid);
        return bad;
      }
    }
    return first.fid;
  }

  /**
   * The whole content, at most maxBytes (≤ READ_ALL_BYTES_MAX; longer is TooBig), from offset 0; with
   * `retained`, from where the file says its retained content starts (getattr's data_version: a
   * NineDoor ring's base after it wrapped, spec §10.1).
   */
  async readAll(path: string, maxBytes: number = READ_ALL_BYTES_MAX, retained = false): Promise<Uint8Array | NineError> {
    const limit = Math.min(maxBytes, READ_ALL_BYTES_MAX);
    return this.withOpen(path, OpenFlag.RDONLY, async (fid) => {
      let start = 0n;
      if (retained) {
        const a = await this.getattr(fid);
        if (a instanceof NineError) return a;
        start = a.dataVersion;
      }
      for (let retries = 0; ; retries++) {
        const got = await this.readFrom(fid, path, start, limit);
        if (!retained || !(got instanceof NineError) || got.code !== 'Invalid' || retries >= READ_ALL_STALE_RETRIES_MAX) return got;
        // A ring refuses a read below its base as stale (Invalid). If the base moved since it was
        // read, the ring wrapped meanwhile: read what it retains now. Else the refusal stands.
        const a = await this.getattr(fid);
        if (a instanceof NineError || a.dataVersion <= start) return got;
        start = a.dataVersion;
      }
    });
  }

  /** readAll's reads on an open fid, from `start` until a short read. */
  private async readFrom(fid: number, path: string, start: bigint, limit: number): Promise<Uint8Array | NineError> {
    const parts: Uint8Array[] = [];
    let total = 0;
    // Each pass moves ≥ 1 byte or ends, so at most limit + 1 passes.
    for (;;) {
      const d = await this.read(fid, start + BigInt(total), Math.min(this.msizeBytes, limit + 1 - total));
      if (d instanceof NineError) return d;
      if (d.length === 0) break;
      total += d.length;
      if (total > limit) return new NineError('TooBig', `${path} is larger than ${limit} bytes`);
      parts.push(d);
    }
    return concatBytes(parts);
  }

  /** readAll as UTF-8 text (invalid UTF-8 is Invalid). */
  async readText(path: string, maxBytes: number = READ_ALL_BYTES_MAX): Promise<string | NineError> {
    const b = await this.readAll(path, maxBytes);
    if (b instanceof NineError) return b;
    return utf8Decode(b) ?? new NineError('Invalid', `${path} is not UTF-8`);
  }

  /**
   * Appends text to an append-only file (write-open with APPEND, offset "at end"). Append-only
   * nodes take each Twrite as whole records, so text longer than one frame is cut only after a
   * newline; one line longer than a frame is TooBig before anything is sent. Returns bytes written.
   */
  async append(path: string, text: string): Promise<number | NineError> {
    const data = utf8Encode(text);
    if (data.length > WRITE_BYTES_MAX) return new NineError('TooBig', `append of ${data.length} bytes exceeds ${WRITE_BYTES_MAX}`);
    const pieces = linePieces(data, this.msizeBytes - IO_HEADER_BYTES);
    if (pieces instanceof NineError) return pieces;
    return this.withOpen(path, OpenFlag.WRONLY | OpenFlag.APPEND, async (fid) => {
      let done = 0;
      for (const p of pieces) {
        const n = await this.write(fid, OFFSET_AT_END, p);
        if (n instanceof NineError) return done > 0 ? done : n;
        done += n;
        if (n < p.length) break;
      }
      return done;
    });
  }

  /** Names in a directory (Treaddir, `.` and `..` left out), at most maxEntries (≤ LIST_ENTRIES_MAX). */
  async list(path: string, maxEntries: number = LIST_ENTRIES_MAX): Promise<string[] | NineError> {
    const limit = Math.min(maxEntries, LIST_ENTRIES_MAX);
    return this.withOpen(path, OpenFlag.RDONLY, async (fid) => {
      const names: string[] = [];
      let cookie = 0n;
      // Each pass returns ≥ 1 entry or ends; the raw count is bounded so `.`/`..` cannot loop forever.
      for (let seen = 0; seen <= limit + 2;) {
        const ents = await this.readdir(fid, cookie);
        if (ents instanceof NineError) return ents;
        if (ents.length === 0) return names;
        for (const e of ents) {
          seen++;
          cookie = e.offset;
          if (e.name === '.' || e.name === '..') continue;
          if (names.length >= limit) return new NineError('TooBig', `${path} has more than ${limit} entries`);
          names.push(e.name);
        }
      }
      return new NineError('TooBig', `${path} has more than ${limit} entries`);
    });
  }

  /** Walks to path, opens, runs f, and always clunks. */
  private async withOpen<T>(path: string, flags: number, f: (fid: number) => Promise<T | NineError>): Promise<T | NineError> {
    const fid = await this.walkPath(path);
    if (fid instanceof NineError) return fid;
    try {
      const o = await this.lopen(fid, flags);
      if (o instanceof NineError) return o;
      return await f(fid);
    } finally {
      await this.clunk(fid);
    }
  }

  // ---- plumbing ----

  private takeFid(): number | NineError {
    if (this.closedReason !== null) return new NineError('Closed', this.closedReason);
    if (this.liveFids.size >= FIDS_PER_SESSION_MAX) return new NineError('Busy', `client holds ${FIDS_PER_SESSION_MAX} fids`);
    if (this.nextFid >= NOFID) return new NineError('Busy', 'fid numbers exhausted for this session');
    const fid = this.nextFid++;
    this.liveFids.add(fid);
    return fid;
  }

  private dropFid(fid: number, r: Reply | NineError, want: Reply['kind']): NineError {
    this.liveFids.delete(fid);
    return r instanceof NineError ? r : unexpected(r, want);
  }

  /**
   * Sends one request with a free tag, or queues it while the window is full. Resolves with
   * the reply, or a NineError: Rlerror (errno kept), Busy (queue full, timeout), Closed.
   */
  private rpc(make: (tag: number) => Request, fixedTag?: number): Promise<Reply | NineError> {
    return new Promise<Reply | NineError>((resolve) => {
      if (this.closedReason !== null) return resolve(new NineError('Closed', this.closedReason));
      const deadlineMs = this.o.nowMs() + this.timeoutMs;
      if (fixedTag !== undefined) {
        if (this.inFlight.has(fixedTag)) return resolve(new NineError('Busy', `tag ${fixedTag} in flight`, Errno.EAGAIN));
        return this.transmit(fixedTag, make, deadlineMs, resolve);
      }
      if (this.inFlight.size < TAGS_IN_FLIGHT_MAX && this.queue.length === 0) return this.transmit(this.freeTag(), make, deadlineMs, resolve);
      if (this.queue.length >= CLIENT_QUEUE_MAX) return resolve(new NineError('Busy', `client queue full (${CLIENT_QUEUE_MAX})`, Errno.EAGAIN));
      this.queue.push({ make, deadlineMs, resolve });
    });
  }

  private transmit(tag: number, make: (tag: number) => Request, deadlineMs: number, resolve: Resolve): void {
    const m = make(tag);
    let frame: Uint8Array;
    try {
      frame = encodeMessage(m, this.msizeBytes);
    } catch (e) {
      return resolve(new NineError('TooBig', `${m.kind} does not fit msize ${this.msizeBytes}: ${e instanceof Error ? e.message : String(e)}`));
    }
    // Registered before send: an in-memory server answers from inside send().
    this.inFlight.set(tag, { kind: m.kind, deadlineMs, resolve });
    this.o.send(frame);
  }

  private complete(tag: number, r: Reply | NineError): void {
    const f = this.inFlight.get(tag);
    if (f === undefined) return;
    this.inFlight.delete(tag);
    f.resolve?.(r instanceof NineError || r.kind !== 'Rlerror' ? r : errorFromErrno(r.ecode, `${f.kind} refused`));
    this.pump();
  }

  /** Moves queued requests onto the wire as tags free up. */
  private pump(): void {
    while (this.queue.length > 0 && this.inFlight.size < TAGS_IN_FLIGHT_MAX && this.closedReason === null) {
      const w = this.queue.shift() as Waiting;
      this.transmit(this.freeTag(), w.make, w.deadlineMs, w.resolve);
    }
  }

  /** A tag not on the wire; the window (≤ 16) guarantees one within 17 tries. */
  private freeTag(): number {
    for (;;) {
      const t = this.nextTag;
      this.nextTag = (this.nextTag + 1) % NOTAG;
      if (!this.inFlight.has(t)) return t;
    }
  }
}

const NEWLINE = 0x0a;

/** Cuts data into pieces of ≤ room bytes, each ending after a newline (or at the end of data). */
function linePieces(data: Uint8Array, room: number): Uint8Array[] | NineError {
  const out: Uint8Array[] = [];
  let start = 0;
  // Each pass takes ≥ 1 byte, so at most data.length passes.
  while (data.length - start > room) {
    const nl = data.lastIndexOf(NEWLINE, start + room - 1);
    if (nl < start) return new NineError('TooBig', `a line of more than ${room} bytes does not fit one write`);
    out.push(data.subarray(start, nl + 1));
    start = nl + 1;
  }
  out.push(data.subarray(start));
  return out;
}

function unexpected(r: Reply, want: string): NineError {
  return new NineError('Invalid', `expected ${want}, got ${r.kind}`);
}
