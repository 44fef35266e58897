// A minimal Secure9P appender for telemetry workers: version, attach, walk, open-for-append, write, and nothing else.
//
// Why not NineClient: a heartbeat worker needs five requests, and the general client with the full
// codec costs its runtime ~130 KiB of arena; this keeps an idle worker's quota small (bench:
// "smallest arena, idle worker-heart"). Frames are built with frame.ts's small cursors (the server
// codec's carry fast paths a worker would pay for in arena), and one request is in flight at a
// time (tag 1), which is all a worker appending on a tick needs.
import { utf8Encode } from '../bytes/utf8.js';
import { errorFromErrno, NineError } from '../secure9p/errors.js';
import { MSIZE_MAX_BYTES } from '../secure9p/limits.js';
import { FrameIn, FrameOut } from './frame.js';

const TVERSION = 100;
const TATTACH = 104;
const TWALK = 110;
const TLOPEN = 12;
const TWRITE = 118;
const RLERROR = 7;
const NOTAG = 0xffff;
const NOFID = 0xffffffff;
const TAG = 1;
const ROOT_FID = 1;
const FILE_FID = 2;
const OPEN_WRONLY_APPEND = 0o2001; // Linux O_WRONLY | O_APPEND
const OFFSET_AT_END = 0xffffffffffffffffn;
/** A request NineDoor has not answered by then fails (Busy), as NineClient's do. */
export const APPENDER_REQUEST_TIMEOUT_MS = 5000;
/** Walk names a path may have (spec §5: 8 per walk). */
const WALK_NAMES_MAX = 8;

interface Pending {
  rtype: number;
  resolve(r: FrameIn | NineError): void;
  deadline: number;
}

export class Appender {
  private pending: Pending | null = null;
  private msize = MSIZE_MAX_BYTES;
  private closed: string | null = null;

  constructor(private readonly send: (frame: Uint8Array) => void, private readonly nowMs: () => number) {}

  /** Every whole reply frame from NineDoor. */
  receive(frame: Uint8Array): void {
    const p = this.pending;
    if (!p || frame.length < 7) return;
    const r = new FrameIn(frame, 7);
    const type = frame[4];
    this.pending = null;
    if (type === RLERROR) {
      const errno = frame.length >= 11 ? r.u32() : 0;
      p.resolve(errorFromErrno(errno, 'refused'));
    } else if (type !== p.rtype) p.resolve(new NineError('Invalid', `unexpected reply type ${type}`));
    else p.resolve(r);
  }

  /** Fails a request that outlived its deadline; call about once a second. */
  expire(): void {
    if (this.pending && this.nowMs() >= this.pending.deadline) {
      const p = this.pending;
      this.pending = null;
      p.resolve(new NineError('Busy', 'NineDoor did not answer'));
    }
  }

  /** Ready for a new session after NineDoor closed the last one (a NineDoor hot reload asks that). */
  reopenable(): void {
    this.closed = null;
    this.msize = MSIZE_MAX_BYTES;
  }

  close(reason: string): void {
    this.closed = reason;
    const p = this.pending;
    this.pending = null;
    p?.resolve(new NineError('Closed', reason));
  }

  private request(type: number, tag: number, body: (w: FrameOut) => void): Promise<FrameIn | NineError> {
    if (this.closed !== null) return Promise.resolve(new NineError('Closed', this.closed));
    if (this.pending) return Promise.resolve(new NineError('Busy', 'a request is already in flight'));
    const w = new FrameOut(this.msize);
    w.u32(0);
    w.u8(type);
    w.u16(tag);
    body(w);
    return new Promise((resolve) => {
      this.pending = { rtype: type + 1, resolve, deadline: this.nowMs() + APPENDER_REQUEST_TIMEOUT_MS };
      this.send(w.finish());
    });
  }

  /** The negotiated msize, for a snapshot that hands this session to the next code of the task. */
  msizeBytes(): number {
    return this.msize;
  }

  /**
   * Takes over the session an earlier code of this task opened (hot reload): NineDoor still holds
   * its fids, so appends go on without attaching again.
   */
  resume(msizeBytes: number): void {
    this.msize = Math.max(0, Math.min(msizeBytes, MSIZE_MAX_BYTES));
  }

  /** Negotiates, attaches with the ticket (empty uname: the ticket names role and worker), opens `path` for appending. */
  async open(ticket: string, path: readonly string[]): Promise<void | NineError> {
    try {
      return await this.openSteps(ticket, path);
    } catch (e) {
      // A truncated reply body (FrameIn refuses to read past it) is a protocol error, not a crash.
      return new NineError('Invalid', `malformed reply: ${(e as Error).message}`);
    }
  }

  private async openSteps(ticket: string, path: readonly string[]): Promise<void | NineError> {
    if (path.length === 0 || path.length > WALK_NAMES_MAX) return new NineError('Invalid', `path of ${path.length} names`);
    const v = await this.request(TVERSION, NOTAG, (w) => {
      w.u32(MSIZE_MAX_BYTES);
      w.str('9P2000.L');
    });
    if (v instanceof NineError) return v;
    this.msize = Math.min(v.u32(), MSIZE_MAX_BYTES);
    if (v.str() !== '9P2000.L') return new NineError('Invalid', 'server does not speak 9P2000.L');
    const a = await this.request(TATTACH, TAG, (w) => {
      w.u32(ROOT_FID);
      w.u32(NOFID);
      w.str('');
      w.str(ticket);
      w.u32(NOFID);
    });
    if (a instanceof NineError) return a;
    const walked = await this.request(TWALK, TAG, (w) => {
      w.u32(ROOT_FID);
      w.u32(FILE_FID);
      w.u16(path.length);
      for (const name of path) w.str(name);
    });
    if (walked instanceof NineError) return walked;
    if (walked.u16() !== path.length) return new NineError('NotFound', `no ${path.join('/')}`);
    const o = await this.request(TLOPEN, TAG, (w) => {
      w.u32(FILE_FID);
      w.u32(OPEN_WRONLY_APPEND);
    });
    if (o instanceof NineError) return o;
  }

  /** Appends one record (a line) at the file's end. */
  async append(text: string): Promise<void | NineError> {
    const data = utf8Encode(text);
    const r = await this.request(TWRITE, TAG, (w) => {
      w.u32(FILE_FID);
      w.u64(OFFSET_AT_END);
      w.u32(data.length);
      w.bytes(data);
    });
    if (r instanceof NineError) return r;
    if (r.remaining() < 4 || r.u32() !== data.length) return new NineError('Invalid', 'short or malformed write reply');
  }
}
