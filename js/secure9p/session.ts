// The Secure9P session engine: one client's state machine, transport-agnostic (whole frames in, frames out via send).
import {
  TCLUNK_BYTES, TGETATTR_BYTES, TLOPEN_BYTES, TREAD_BYTES, decodeRequestMessage, direntBytes, encodeMessage, u32At, u64At, walkNamesCached,
} from './codec.js';
import {
  DecodeError, Eafid, Ealreadyopen, Eclosed, Edirwrite, EncodeError, Einternal, Emsizesmall, Emutate, Enoauth, Enotappend, Enotopen,
  Enotopendir, Enotopenread, Enotopenwrite, Enotversioned, Ereadonly, Etoobig, Eunexpected, Eunreadable, Eunsupported, Ewalknodir,
  Ewalkopen, NineError, refusal, type NamedError,
} from './errors.js';
import { FidTable } from './fids.js';
import type { Access, Answer, AttachGrant, DirEntry, FileServer, NodeAttr, OpenFile, Principal } from './fileserver.js';
import {
  HEADER_BYTES, IO_HEADER_BYTES, MSIZE_MAX_BYTES, MSIZE_MIN_BYTES, NAME_BYTES_MAX, NOFID, RREAD_HEADER_BYTES,
} from './limits.js';
import type { Dirent, Qid, Reply, Request, Rgetattr, Tattach, Tflush, Treaddir, Trefused, Tstatfs, Tversion, Twrite } from './messages.js';
import { DirentType, GETATTR_BASIC, MessageType, OpenFlag, QidType, messageTypeName, type RefusedRequestName } from './opcodes.js';
import { putRclunk, putRlopen, putRread, putRwalk, replyBuffer } from './replies.js';
import { resolvePrincipal, type AttachPolicy } from './principal.js';
import { TRAVERSAL_PROBLEM, WALK_STAY_NAME } from './names.js';
import { checkSessionState, principalIn, principalOut, type SessionState } from './handoff.js';
import { TagWindow } from './tags.js';
import { utf8Encode, utf8Length } from '../bytes/utf8.js';

/** The version we speak; an accepted offer (versionAccepted: this, or `9P2000.L.<suffix>` such as `9P2000.L.Google.7`) gets exactly this back. */
export const VERSION_9P2000L = '9P2000.L';
export const VERSION_UNKNOWN = 'unknown';

/**
 * A Tversion string we speak (spec §0 item 1): exactly `9P2000.L`, or `9P2000.L.<suffix>` (Go p9
 * offers `9P2000.L.Google.7`). Anything else, `9P2000.Lx` included, is answered `unknown`.
 */
export function versionAccepted(version: string): boolean {
  return version === VERSION_9P2000L || (version.startsWith(`${VERSION_9P2000L}.`) && version.length > VERSION_9P2000L.length + 1);
}
/** f_type Linux reports for a 9P mount (V9FS_MAGIC). */
const V9FS_MAGIC = 0x01021997;
const BLOCK_BYTES = 4096;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

export interface SessionOptions<N> {
  fs: FileServer<N>;
  /** Delivers one reply frame to the client; the frame is the transport's to keep. */
  send(frame: Uint8Array): void;
  /**
   * Delivers buf[0, length) as one reply frame, copying it before it returns: buf is the session's
   * and is written again for the next reply. A transport that copies anyway (a socket write) offers
   * this and saves the session a copy of every reply; without it, send() gets a copy.
   */
  sendPart?(buf: Uint8Array, length: number): void;
  /** The stream cannot go on (unreadable header): the transport should drop the connection. */
  close?(reason: string): void;
  /** Log sink for revocations and, with `trace`, every frame (lib9p's chatty9p). */
  log?(line: string): void;
  trace?: boolean;
  /** Wall clock, Unix ms: ticket expiry is measured against issued_at_ms. */
  nowMs(): number;
  attach: AttachPolicy;
  /** A cap on ops for this session regardless of ticket; null/absent = unbounded. */
  opsMax?: number | null;
  /** Called once when the session is revoked (NineDoor removes the worker, releases leases). */
  onRevoke?(reason: string, who: Principal | null): void;
  /**
   * An attach refused (who: null when the credentials did not resolve) or a walk with `..`:
   * the provider writes its audit line. Refusals the FileServer makes it audits itself.
   */
  refused?(op: 'attach' | 'walk', who: Principal | null, uname: string, aname: string, reason: string): void;
}

interface OpenState {
  access: Access;
  file: OpenFile;
  /** Directory snapshot taken at open, so Treaddir offsets stay stable while it is read. */
  listing: DirEntry[] | null;
}

interface FidEntry<N> {
  node: N;
  qid: Qid;
  who: Principal;
  open: OpenState | null;
  /** The last Rgetattr this fid answered and the attributes it came from (see getattr). */
  stat: StatMemo | null;
}

/**
 * An encoded Rgetattr with the attributes it was built from. Stat of an unchanged node is the
 * hottest request there is (ls, cat, a mounted file's every open); the same attributes give the
 * same bytes but for the tag, so the frame is reused instead of building and encoding 25 fields.
 */
interface StatMemo {
  perm: number;
  size: bigint;
  mtimeMs: number;
  dataVersion: bigint;
  frame: Uint8Array;
}

type Maybe<T> = T | Promise<T>;
/**
 * A handler's result: a reply to encode, a refusal, a memoised frame (all but its tag), or a
 * number: that many bytes of replies.ts's reply buffer are the reply, tag and all (a put*'s answer).
 */
type Outcome = Reply | NineError | Uint8Array | number;

/**
 * The request types the fast decoder (handleSmall) reads straight from the bytes, read off the
 * table once; the handlers of these five take their fields as values, so either decoder feeds them.
 */
const T_GETATTR = MessageType.Tgetattr;
const T_WALK = MessageType.Twalk;
const T_READ = MessageType.Tread;
const T_LOPEN = MessageType.Tlopen;
const T_CLUNK = MessageType.Tclunk;
/** Any other request: its handler takes the decoded message. */
const T_OTHER = -1;

function isPromise<T>(v: Maybe<T>): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * An answer that comes later, taken out of the reply buffer: a put*'s number points into it, and
 * other replies are put there before this one's turn comes (every later step runs as its own job).
 */
function kept(out: Maybe<Outcome>): Maybe<Outcome> {
  return typeof out === 'number' ? replyBuffer().slice(0, out) : out;
}

/** Applies f now for a plain value, later for a promise: handlers may answer either way. */
function chain<T>(v: Maybe<T>, f: (x: T) => Maybe<Outcome>): Maybe<Outcome> {
  return isPromise(v) ? v.then((x) => kept(f(x))) : f(v);
}

const QID_DIR = QidType.DIR;
const isDir = (q: Qid) => (q.type & QID_DIR) !== 0;

/** replies.ts's buffer, once a reply has been put there (a call per reply otherwise). */
let replyBytes: Uint8Array | null = null;

/** Refused requests: namespace mutations are EPERM; features we lack are EOPNOTSUPP (spec §0). */
const REFUSAL: Readonly<Record<RefusedRequestName, NamedError<[string]>>> = {
  Tlcreate: Emutate, Tsymlink: Emutate, Tmknod: Emutate, Trename: Emutate, Tsetattr: Emutate,
  Tlink: Emutate, Tmkdir: Emutate, Trenameat: Emutate, Tunlinkat: Emutate, Tremove: Emutate,
  Treadlink: Eunsupported, Txattrwalk: Eunsupported, Txattrcreate: Eunsupported, Tfsync: Eunsupported,
  Tlock: Eunsupported, Tgetlock: Eunsupported,
};

export class Session<N> {
  private msizeBytes = MSIZE_MAX_BYTES;
  private versioned = false;
  /** Bumped by Tversion: replies to requests from before the reset are dropped. */
  private generation = 0;
  private readonly fids = new FidTable<FidEntry<N>>();
  private readonly tags = new TagWindow();
  /** Ops left; never raised, so a new Tversion or attach cannot refill it. */
  private opsLeft: number | null;
  private expiresAtMs: number | null = null;
  private revoked: string | null = null;
  private principal: Principal | null = null;
  /** Whether o.sendPart is there, read once. */
  private readonly lends: boolean;

  constructor(private readonly o: SessionOptions<N>) {
    this.opsLeft = o.opsMax ?? null;
    this.lends = o.sendPart !== undefined;
  }

  // ---- what transports and NineDoor call ----

  /**
   * Handles one whole frame; replies go out through `send`, now or when an async handler answers.
   * Two decoders feed one path: the fast one (handleSmall) takes the small requests at their exact
   * size, the general one (handleDecoded) everything; both end in serve(), and so in respond().
   */
  handleFrame(bytes: Uint8Array): void {
    if (!this.handleSmall(bytes)) this.handleDecoded(bytes);
  }

  /**
   * The general decoder: any frame through the codec, then serve() (what handleFrame does with a
   * frame the fast decoder does not take; fastpath.prop.test.ts runs every request both ways).
   */
  handleDecoded(bytes: Uint8Array): void {
    const m = decodeRequestMessage(bytes, this.msizeBytes);
    if (m instanceof DecodeError) {
      if (m.tag === null) {
        if (this.o.trace) this.trace(`9p <- undecodable: ${m.message}`);
        this.o.close?.(m.message);
        return;
      }
      if (this.o.trace) this.trace(`9p <- type=${m.type} tag=${m.tag} undecodable`);
      // A `..` is a traversal attempt, not noise: it goes on the record (issue 13, bug 10).
      if (m.type === MessageType.Twalk && m.message.endsWith(TRAVERSAL_PROBLEM)) this.o.refused?.('walk', this.principal, '', '', 'traversal');
      this.respond(m.tag, new NineError(m.code, m.message));
      return;
    }
    // Guarded here, not only in trace(): the line would be built for every frame otherwise.
    if (this.o.trace) this.trace(`9p <- ${m.kind === 'Trefused' ? m.name : m.kind} tag=${m.tag}`);
    // Tversion starts the session over, so it is answered before admission (a revoked session's is Closed).
    if (m.kind === 'Tversion' && this.revoked === null) return this.respond(m.tag, this.version(m));
    // The five small requests as the fast decoder gives them: their fields as values.
    switch (m.kind) {
      case 'Tgetattr': return this.serve(T_GETATTR, m.tag, m.fid, 0, 0n, null, m);
      case 'Twalk': return this.serve(T_WALK, m.tag, m.fid, m.newfid, 0n, m.names, m);
      case 'Tread': return this.serve(T_READ, m.tag, m.fid, m.count, m.offset, null, m);
      case 'Tlopen': return this.serve(T_LOPEN, m.tag, m.fid, m.flags, 0n, null, m);
      case 'Tclunk': return this.serve(T_CLUNK, m.tag, m.fid, 0, 0n, null, m);
      default: return this.serve(T_OTHER, m.tag, 0, 0, 0n, null, m);
    }
  }

  /**
   * The fast decoder: the small requests (getattr, walk, lopen, read, clunk) at exactly their
   * size, as every well-formed one is, read straight from the bytes into serve(), with no decode
   * call or message object (together a third of such a request's cost inside quickjs-ng). Every
   * check after decoding is serve()'s, shared with the general decoder. False, with nothing done,
   * for anything else (and with trace on, which logs by message): a chunk that is not exactly one
   * such frame, which a stream transport then gives its splitter, or any other frame, which
   * handleDecoded decodes and answers, refusals included.
   */
  handleSmall(bytes: Uint8Array): boolean {
    if (this.o.trace) return false;
    const n = bytes.length;
    if (n < HEADER_BYTES || n > this.msizeBytes) return false;
    if (((bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0) !== n) return false;
    const type = bytes[4];
    let names: readonly string[] | null = null;
    if (type === T_WALK) {
      names = walkNamesCached(bytes, n);
      if (names === null) return false;
    } else {
      const fixed = type === T_GETATTR ? TGETATTR_BYTES : type === T_READ ? TREAD_BYTES : type === T_LOPEN ? TLOPEN_BYTES
        : type === T_CLUNK ? TCLUNK_BYTES : -1;
      if (n !== fixed) return false;
    }
    const tag = bytes[5] | (bytes[6] << 8);
    const fid = (bytes[7] | (bytes[8] << 8) | (bytes[9] << 16) | (bytes[10] << 24)) >>> 0;
    // Twalk newfid, Tlopen flags, Tread offset and count: where the general decoder reads them.
    if (type === T_READ) this.serve(type, tag, fid, u32At(bytes, 19), u64At(bytes, 11), null, null);
    else this.serve(type, tag, fid, type === T_WALK || type === T_LOPEN ? u32At(bytes, 11) : 0, 0n, names, null);
    return true;
  }

  /**
   * Every decoded request but a live session's Tversion, from either decoder (lib9p's srv loop):
   * admission, the checks every request shares, in order, its handler, then respond. `count` is
   * Twalk's newfid, Tlopen's flags or Tread's count, `offset` Tread's; `m` is the decoded message
   * (null from the fast decoder, which only gives the five small requests, whose handlers take
   * these fields). One function, not a dispatch call inside it: a call is a few hundred
   * instructions inside quickjs-ng, a tenth of a small request's cost.
   */
  private serve(type: number, tag: number, fid: number, count: number, offset: bigint, names: readonly string[] | null, m: Request | null): void {
    // Nothing held and not revoked (nearly always): admitted without a call.
    if ((this.revoked !== null || this.tags.held !== 0) && !this.admitted(tag)) return;
    if (m !== null && m.kind === 'Tflush') return this.flush(m);
    let out: Maybe<Outcome>;
    try {
      // The expiry test inline when there is none (a queen's session): a call per request otherwise.
      out = !this.versioned ? refusal(Enotversioned)
        : m !== null && m.kind === 'Tauth' ? refusal(Enoauth)
        : (this.expiresAtMs === null ? null : this.expired()) ?? (
          type === T_GETATTR ? this.getattr(tag, fid)
          : type === T_WALK ? this.walk(tag, fid, count, names as readonly string[])
          : type === T_READ ? this.read(tag, fid, offset, count)
          : type === T_LOPEN ? this.open(tag, fid, count)
          : type === T_CLUNK ? this.clunk(tag, fid)
          : this.dispatch(m as Request));
    } catch (e) {
      out = this.bug(e);
    }
    this.respond(tag, out);
  }

  /** Tflush: answered after the flushed request's own reply, so the client never sees that after Rflush. */
  private flush(m: Tflush): void {
    if (m.oldtag !== m.tag && this.tags.waitFor(m.oldtag, m.tag)) this.tags.hold(m.tag);
    else this.respond(m.tag, { kind: 'Rflush', tag: m.tag });
  }

  /**
   * A new request's tag, checked: false when it has been answered already (a revoked session's
   * Closed, a tag in use, the window full). A request answered at once never enters the window,
   * only one whose answer comes later (settle): nothing else can run before a synchronous
   * answer, so no other request can see its tag, and the window's map is left alone. That holds
   * while a handler never hands this session another frame from inside itself (none does: a
   * provider answers later, through a promise or a channel).
   */
  private admitted(tag: number): boolean {
    if (this.revoked !== null) {
      this.respond(tag, this.closed());
      return false;
    }
    const refused = this.tags.check(tag);
    if (refused === null) return true;
    this.respond(tag, refused);
    return false;
  }

  /** For stream transports: the splitter skipped a frame declared larger than msize (spec §15: TooBig, session kept). */
  refuseOversize(tag: number, declaredBytes: number): void {
    this.respond(tag, refusal(Etoobig, declaredBytes, this.msizeBytes));
  }

  /** Ends the session for `reason`; every later request gets Closed (EBADF). */
  revoke(reason: string): void {
    if (this.revoked !== null) return;
    this.revoked = reason;
    const who = this.principal;
    this.o.log?.(`revoked ${who?.identity ?? who?.role ?? 'session'}: ${reason}`);
    for (const e of this.fids.clear()) this.closeOpen(e);
    this.o.onRevoke?.(reason, who);
  }

  msize(): number {
    return this.msizeBytes;
  }
  revokedReason(): string | null {
    return this.revoked;
  }
  opsRemaining(): number | null {
    return this.opsLeft;
  }
  liveFids(): number[] {
    return this.fids.liveFids();
  }
  tagsInFlight(): number {
    return this.tags.size();
  }
  who(): Principal | null {
    return this.principal;
  }

  // ---- plumbing ----

  private trace(line: string): void {
    if (this.o.trace) this.o.log?.(line);
  }

  private closed(): NineError {
    return refusal(Eclosed, this.revoked ?? 'session closed');
  }

  private bug(e: unknown): NineError {
    this.o.log?.(`9p internal error: ${e instanceof Error ? e.message : String(e)}`);
    return refusal(Einternal);
  }

  /** A held tag's answer: sent unless a Tversion came since, then any flushes that waited on it. */
  private answered(tag: number, r: Outcome, gen: number): void {
    if (gen !== this.generation) return;
    // Free the tag before replying: a synchronous transport (in-memory, a channel) may hand the
    // client's next request, reusing this tag or slot, back to us from inside send().
    const flushes = this.tags.complete(tag);
    this.respond(tag, r);
    if (flushes === null) return;
    // A waiting Tflush may itself be flushed: answering it frees the flushes that wait on it, in
    // turn (at most the tag window's worth, each tag held once).
    const queue = flushes.slice();
    for (let i = 0; i < queue.length; i++) {
      const flushTag = queue[i];
      const more = this.tags.complete(flushTag);
      this.respond(flushTag, { kind: 'Rflush', tag: flushTag });
      if (more !== null) queue.push(...more);
    }
  }

  /**
   * Where every request ends (lib9p's respond), and the one writer of replies. An answer that
   * comes later (a promise) holds its tag until it settles, then comes back here through
   * answered(); an answer now goes to the transport, whichever form the handler gave: a put*'s
   * length in the reply buffer, a memoised Rgetattr, a refusal, a reply message. Nothing runs
   * between a request's admission and this call (no handler hands this session a frame), so the
   * generation read here is the request's.
   */
  private respond(tag: number, r: Maybe<Outcome>): void {
    if (typeof r !== 'number' && isPromise(r)) {
      const gen = this.generation;
      this.tags.hold(tag);
      r.then((x) => this.answered(tag, x, gen), (e) => this.answered(tag, this.bug(e), gen));
      return;
    }
    if (typeof r === 'number') {
      // In the reply buffer, tag and all (a put*): lent to sendPart, or copied for send.
      const b = replyBytes ?? (replyBytes = replyBuffer());
      if (this.o.trace) this.trace(`9p -> ${messageTypeName(b[4])} tag=${tag}`);
      if (this.lends) this.o.sendPart!(b, r);
      else this.o.send(b.slice(0, r));
      return;
    }
    if (r instanceof Uint8Array) {
      // A StatMemo's frame, all but the tag: lent to sendPart with this tag in place (every use
      // writes its own), or copied for send, which may keep what it gets.
      if (this.o.trace) this.trace(`9p -> ${messageTypeName(r[4])} tag=${tag}`);
      const frame = this.lends ? r : r.slice();
      frame[5] = tag & 0xff;
      frame[6] = tag >>> 8;
      if (this.lends) this.o.sendPart!(frame, frame.length);
      else this.o.send(frame);
      return;
    }
    const msg: Reply = r instanceof NineError ? { kind: 'Rlerror', tag, ecode: r.errno } : r;
    if (this.o.trace) {
      if (r instanceof NineError) this.trace(`9p -> Rlerror tag=${tag} ecode=${r.errno} ${r.code}: ${r.message}`);
      else this.trace(`9p -> ${msg.kind} tag=${tag}`);
    }
    this.o.send(this.encode(tag, msg));
  }

  /** A reply's frame; a reply our own code built out of bounds goes out as EIO instead. */
  private encode(tag: number, msg: Reply): Uint8Array {
    try {
      return encodeMessage(msg, this.msizeBytes);
    } catch (e) {
      if (!(e instanceof EncodeError)) throw e;
      return encodeMessage({ kind: 'Rlerror', tag, ecode: this.bug(e).errno });
    }
  }

  private closeOpen(e: FidEntry<N>): void {
    try {
      e.open?.file.close?.();
    } catch (err) {
      this.bug(err);
    }
  }

  /** Ttl check for every request after attach; revocation is the spec's answer (§8.5). */
  private expired(): NineError | null {
    if (this.expiresAtMs !== null && this.o.nowMs() >= this.expiresAtMs) {
      this.revoke('ticket ttl expired');
      return this.closed();
    }
    return null;
  }

  /**
   * Walk, open, read and write each cost one op; asking with none left revokes (spec §8.5).
   * Callers skip the call when there is no budget (opsLeft null, a queen's session).
   */
  private charge(): NineError | null {
    if (this.opsLeft === null) return null;
    if (this.opsLeft <= 0) {
      this.revoke('operation budget exhausted');
      return this.closed();
    }
    this.opsLeft--;
    return null;
  }

  /** The requests whose handlers take the decoded message (serve() has checked them as every request). */
  private dispatch(m: Request): Maybe<Outcome> {
    switch (m.kind) {
      case 'Twrite': return this.write(m);
      case 'Tattach': return this.attach(m);
      case 'Treaddir': return this.readdir(m);
      case 'Tstatfs': return this.statfs(m);
      case 'Trefused': return this.refuse(m);
      default: return refusal(Eunexpected, m.kind);
    }
  }

  // ---- the messages ----

  private version(m: Tversion): Outcome {
    if (m.msize < MSIZE_MIN_BYTES) return refusal(Emsizesmall, m.msize, MSIZE_MIN_BYTES);
    // A new Tversion aborts everything in progress and starts the session over (9P semantics).
    this.generation++;
    this.tags.clear();
    for (const e of this.fids.clear()) this.closeOpen(e);
    this.msizeBytes = Math.min(m.msize, MSIZE_MAX_BYTES);
    this.versioned = versionAccepted(m.version);
    return { kind: 'Rversion', tag: m.tag, msize: this.msizeBytes, version: this.versioned ? VERSION_9P2000L : VERSION_UNKNOWN };
  }

  private attach(m: Tattach): Maybe<Outcome> {
    if (m.afid !== NOFID) return refusal(Eafid);
    const held = this.fids.reserve(m.fid);
    if (held !== null) return held;
    const who = resolvePrincipal(m.uname, m.aname, this.o.attach, this.o.nowMs());
    if (who instanceof NineError) {
      this.fids.release(m.fid);
      this.o.refused?.('attach', null, m.uname, m.aname, who.message);
      return who;
    }
    return chain(this.call(() => this.o.fs.attach(who, m.aname)), (g: AttachGrant<N> | NineError): Outcome => {
      if (g instanceof NineError) {
        this.fids.release(m.fid);
        this.o.refused?.('attach', who, m.uname, m.aname, g.message);
        return g;
      }
      const qid = this.o.fs.qid(g.root);
      this.fids.bind(m.fid, { node: g.root, qid, who, open: null, stat: null });
      this.principal ??= who;
      this.limitBudget(who, g);
      return { kind: 'Rattach', tag: m.tag, qid };
    });
  }

  /** Session budget = minimum of what it had, the ticket's and the record's (spec §8.5); never raised. */
  private limitBudget(who: Principal, g: AttachGrant<N>): void {
    const caps: number[] = [];
    if (who.claims?.ops != null) caps.push(Number(who.claims.ops));
    if (g.opsMax != null) caps.push(g.opsMax);
    for (const c of caps) this.opsLeft = this.opsLeft === null ? c : Math.min(this.opsLeft, c);
    const ends: number[] = [];
    const c = who.claims;
    if (c !== null && c.ttlS !== null) ends.push(Number(c.issuedAtMs + c.ttlS * 1000n));
    if (g.expiresAtMs != null) ends.push(g.expiresAtMs);
    for (const e of ends) this.expiresAtMs = this.expiresAtMs === null ? e : Math.min(this.expiresAtMs, e);
  }

  /** Runs a handler, turning a throw into EIO so a provider bug never kills the session. */
  private call<T>(f: () => Answer<T>): Maybe<T | NineError> {
    try {
      const a = f();
      return isPromise(a) ? a.catch((e: unknown) => this.bug(e)) : a;
    } catch (e) {
      return this.bug(e);
    }
  }

  // The small handlers take the request's fields as values: the fast decoder reads them without a message.

  private walk(tag: number, fid: number, newfid: number, names: readonly string[]): Maybe<Outcome> {
    const spent = this.opsLeft === null ? null : this.charge();
    if (spent !== null) return spent;
    const from = this.fids.find(fid);
    if (from === undefined) return this.fids.missing(fid);
    const inPlace = newfid === fid;
    // Walking from an open directory to a new fid is what `diodls -l` does (stat each entry from
    // the listing fid); the new fid starts unopened. In place it would drop the open state: refused.
    if (from.open !== null && inPlace) return refusal(Ewalkopen, fid);
    if (!inPlace) {
      const held = this.fids.reserve(newfid);
      if (held !== null) return held;
    }
    return this.walkOn(tag, fid, newfid, names, from.who, from.node, from.qid, []);
  }

  /**
   * Walks names from qids.length on: a loop while the provider answers at once, continued from
   * its promise when it answers later (no closures per step on the common, synchronous path).
   */
  private walkOn(
    tag: number, fid: number, newfid: number, names: readonly string[], who: Principal, node: N, qid: Qid, qids: Qid[],
  ): Maybe<Outcome> {
    for (let i = qids.length; i < names.length; i++) {
      if ((qid.type & QID_DIR) === 0) {
        const why = refusal(Ewalknodir, names[i - 1] ?? 'start');
        return this.walkFailed(tag, fid, newfid, qids, why);
      }
      if (names[i] === WALK_STAY_NAME) {
        // diod's harmless form (names.ts): the step stays in this directory, with its qid.
        qids.push(qid);
        continue;
      }
      let next: Answer<N>;
      try {
        next = this.o.fs.walk(node, names[i], who);
      } catch (e) {
        next = this.bug(e);
      }
      if (isPromise(next)) {
        return next.then(
          (n) => (n instanceof NineError
            ? this.walkFailed(tag, fid, newfid, qids, n)
            : kept(this.walkOn(tag, fid, newfid, names, who, n, this.stepped(n, qids), qids))),
          (e: unknown) => this.walkFailed(tag, fid, newfid, qids, this.bug(e)),
        );
      }
      if (next instanceof NineError) return this.walkFailed(tag, fid, newfid, qids, next);
      node = next;
      qid = this.o.fs.qid(next);
      qids.push(qid);
    }
    const entry: FidEntry<N> = { node, qid, who, open: null, stat: null };
    if (newfid === fid) this.fids.replace(fid, entry);
    else this.fids.bind(newfid, entry);
    const n = putRwalk(tag, qids, this.msizeBytes);
    return n >= 0 ? n : { kind: 'Rwalk', tag, qids };
  }

  /** One step taken: its qid joins the reply. */
  private stepped(node: N, qids: Qid[]): Qid {
    const q = this.o.fs.qid(node);
    qids.push(q);
    return q;
  }

  private walkFailed(tag: number, fid: number, newfid: number, qids: Qid[], err: NineError): Outcome {
    if (newfid !== fid) this.fids.release(newfid);
    // 9P: a walk failing after its first step answers with the qids it got; newfid stays unbound.
    if (qids.length > 0 && err.code === 'NotFound') return { kind: 'Rwalk', tag, qids };
    return err;
  }

  private open(tag: number, fid: number, flags: number): Maybe<Outcome> {
    const spent = this.opsLeft === null ? null : this.charge();
    if (spent !== null) return spent;
    const e = this.fids.find(fid);
    if (e === undefined) return this.fids.missing(fid);
    if (e.open !== null) return refusal(Ealreadyopen, fid);
    const mode = flags & OpenFlag.ACCMODE;
    const access: Access = mode === OpenFlag.WRONLY ? 'write' : mode === OpenFlag.RDWR ? 'read-write' : 'read';
    const dir = isDir(e.qid);
    if (access !== 'read') {
      if (dir) return refusal(Edirwrite);
      if ((e.qid.type & QidType.APPEND) === 0) return refusal(Enotappend);
    }
    let file: Answer<OpenFile>;
    try {
      file = this.o.fs.open(e.node, access, e.who);
    } catch (err) {
      file = this.bug(err);
    }
    if (isPromise(file)) return file.then((f) => kept(this.opened(tag, e, access, f)), (err: unknown) => this.bug(err));
    return this.opened(tag, e, access, file);
  }

  /** The provider opened (or refused); a directory also takes its listing snapshot now. */
  private opened(tag: number, e: FidEntry<N>, access: Access, file: OpenFile | NineError): Maybe<Outcome> {
    if (file instanceof NineError) return file;
    if (!isDir(e.qid)) return this.openDone(tag, e, access, file, null);
    return chain(this.call(() => this.o.fs.list(e.node, e.who)), (l: DirEntry[] | NineError) => {
      if (l instanceof NineError) {
        file.close?.();
        return l;
      }
      return this.openDone(tag, e, access, file, l);
    });
  }

  private openDone(tag: number, e: FidEntry<N>, access: Access, file: OpenFile, listing: DirEntry[] | null): Outcome {
    e.open = { access, file, listing };
    const iounit = this.msizeBytes - IO_HEADER_BYTES;
    const n = putRlopen(tag, e.qid, iounit, this.msizeBytes);
    return n >= 0 ? n : { kind: 'Rlopen', tag, qid: e.qid, iounit };
  }

  private read(tag: number, fid: number, offset: bigint, countAsked: number): Maybe<Outcome> {
    const spent = this.opsLeft === null ? null : this.charge();
    if (spent !== null) return spent;
    const e = this.fids.find(fid);
    if (e === undefined) return this.fids.missing(fid);
    if (e.open === null) return refusal(Enotopen, fid);
    if (e.open.access === 'write') return refusal(Enotopenread, fid);
    const room = this.msizeBytes - RREAD_HEADER_BYTES;
    const count = countAsked < room ? countAsked : room;
    const open = e.open;
    if (open.listing !== null) {
      // Spec §5.3: a directory read gives child names, newline-separated, with a trailing newline.
      const text = open.listing.map((d) => d.name + '\n').join('');
      const all = utf8Encode(text);
      const start = offset > BigInt(all.length) ? all.length : Number(offset);
      return { kind: 'Rread', tag, data: all.subarray(start, start + count) };
    }
    if (open.file.read === undefined) return refusal(Eunreadable);
    let data: Answer<Uint8Array>;
    try {
      data = open.file.read(offset, count);
    } catch (err) {
      data = this.bug(err);
    }
    if (isPromise(data)) return data.then((d) => kept(this.readDone(tag, count, d)), (err: unknown) => this.bug(err));
    return this.readDone(tag, count, data);
  }

  private readDone(tag: number, count: number, data: Uint8Array | NineError): Outcome {
    if (data instanceof NineError) return data;
    const d = data.length > count ? data.subarray(0, count) : data;
    const n = putRread(tag, d, this.msizeBytes);
    return n >= 0 ? n : { kind: 'Rread', tag, data: d };
  }

  private write(m: Twrite): Maybe<Outcome> {
    const spent = this.opsLeft === null ? null : this.charge();
    if (spent !== null) return spent;
    const e = this.fids.get(m.fid);
    if (e instanceof NineError) return e;
    if (e.open === null) return refusal(Enotopen, m.fid);
    if (e.open.access === 'read') {
      if ((e.qid.type & QidType.APPEND) === 0) return refusal(Ereadonly);
      return refusal(Enotopenwrite, m.fid);
    }
    const open = e.open;
    const writer = open.file.write;
    if (writer === undefined) return refusal(Ereadonly);
    return chain(this.call(() => writer.call(open.file, m.offset, m.data)), (n: number | NineError): Outcome => {
      if (n instanceof NineError) return n;
      return { kind: 'Rwrite', tag: m.tag, count: Math.min(n, m.data.length) };
    });
  }

  private clunk(tag: number, fid: number): Outcome {
    const e = this.fids.clunk(fid);
    if (e === undefined) return this.fids.missing(fid);
    this.closeOpen(e);
    const n = putRclunk(tag);
    return n >= 0 ? n : { kind: 'Rclunk', tag };
  }

  private getattr(tag: number, fid: number): Maybe<Outcome> {
    const e = this.fids.find(fid);
    if (e === undefined) return this.fids.missing(fid);
    let a: Answer<NodeAttr>;
    try {
      a = this.o.fs.getattr(e.node, e.who);
    } catch (err) {
      return this.bug(err);
    }
    if (isPromise(a)) return a.then((x) => this.stat(tag, e, x), (err: unknown) => this.bug(err));
    return this.stat(tag, e, a);
  }

  /** The fid's memoised frame while the attributes match it; else a new Rgetattr, encoded and memoised. */
  private stat(tag: number, e: FidEntry<N>, a: NodeAttr | NineError): Outcome {
    if (a instanceof NineError) return a;
    const ms = a.mtimeMs ?? 0;
    const version = a.dataVersion ?? 0n;
    const memo = e.stat;
    if (memo !== null && memo.perm === a.perm && memo.size === a.size && memo.mtimeMs === ms && memo.dataVersion === version) {
      return memo.frame;
    }
    const dir = isDir(e.qid);
    const sec = BigInt(Math.floor(ms / 1000));
    const nsec = BigInt((ms % 1000) * 1_000_000);
    const r: Rgetattr = {
      kind: 'Rgetattr', tag, valid: GETATTR_BASIC, qid: e.qid, mode: (dir ? S_IFDIR : S_IFREG) | (a.perm & 0o7777),
      uid: 0, gid: 0, nlink: dir ? 2n : 1n, rdev: 0n, size: a.size, blksize: BigInt(BLOCK_BYTES), blocks: (a.size + 511n) / 512n,
      atimeSec: sec, atimeNsec: nsec, mtimeSec: sec, mtimeNsec: nsec, ctimeSec: sec, ctimeNsec: nsec, btimeSec: 0n, btimeNsec: 0n,
      gen: 0n, dataVersion: version,
    };
    let frame: Uint8Array;
    try {
      frame = encodeMessage(r, this.msizeBytes);
    } catch (err) {
      // Out of range (a provider's size past 2^64): the ordinary reply path answers it as before.
      if (err instanceof EncodeError) return r;
      throw err;
    }
    e.stat = { perm: a.perm, size: a.size, mtimeMs: ms, dataVersion: version, frame };
    return frame;
  }

  private readdir(m: Treaddir): Outcome {
    const spent = this.opsLeft === null ? null : this.charge();
    if (spent !== null) return spent;
    const e = this.fids.get(m.fid);
    if (e instanceof NineError) return e;
    if (e.open === null || e.open.listing === null) return refusal(Enotopendir, m.fid);
    const listing = e.open.listing;
    const room = Math.min(m.count, this.msizeBytes - RREAD_HEADER_BYTES);
    const entries: Dirent[] = [];
    let used = 0;
    // The offset is an entry index: each dirent carries the index of the one after it.
    for (let i = m.offset > BigInt(listing.length) ? listing.length : Number(m.offset); i < listing.length; i++) {
      const d = listing[i];
      const n = direntBytes(utf8Length(d.name));
      if (used + n > room) break;
      used += n;
      entries.push({ qid: d.qid, offset: BigInt(i + 1), type: isDir(d.qid) ? DirentType.DIR : DirentType.REG, name: d.name });
    }
    return { kind: 'Rreaddir', tag: m.tag, entries };
  }

  private statfs(m: Tstatfs): Outcome {
    const e = this.fids.get(m.fid);
    if (e instanceof NineError) return e;
    return {
      kind: 'Rstatfs', tag: m.tag, type: V9FS_MAGIC, bsize: BLOCK_BYTES, blocks: 0n, bfree: 0n, bavail: 0n, files: 0n, ffree: 0n,
      fsid: 0n, namelen: NAME_BYTES_MAX,
    };
  }

  private refuse(m: Trefused): Outcome {
    // Every refused request of 9P2000.L starts with a fid (fid, dfid or olddirfid): a request on a
    // fid this session does not hold is EBADF before anything else, as for the requests we serve.
    if (m.body.length >= 4) {
      const fid = u32At(m.body, 0);
      if (this.fids.find(fid) === undefined) return this.fids.missing(fid);
    }
    return refusal(REFUSAL[m.name], m.name);
  }

  // ---- hot reload ----

  /**
   * What the next code of the server needs to go on serving this client (handoff.ts): msize,
   * budgets, principals and fids, each fid's node as `nodeOut` writes it. Null while requests are
   * in flight (their answers belong to the old code) or when a principal cannot be carried.
   */
  exportState(nodeOut: (n: N) => unknown): SessionState | null {
    if (this.tags.size() > 0) return null;
    const who: Principal[] = [];
    const index = (p: Principal): number => {
      const i = who.indexOf(p);
      return i >= 0 ? i : who.push(p) - 1;
    };
    const fids = this.fids.liveFids().map((fid) => {
      const e = this.fids.get(fid) as FidEntry<N>;
      return { fid, who: index(e.who), node: nodeOut(e.node), open: e.open === null ? null : e.open.access };
    });
    const principal = this.principal === null ? null : index(this.principal);
    const principals = who.map(principalOut);
    if (principals.some((p) => p === null)) return null;
    return {
      msize: this.msizeBytes, versioned: this.versioned, opsLeft: this.opsLeft, expiresAtMs: this.expiresAtMs,
      revoked: this.revoked, principal, principals: principals as NonNullable<(typeof principals)[number]>[], fids,
    };
  }

  /**
   * Takes over exportState() of an earlier code on this fresh session. A fid whose node is gone
   * (`nodeIn` gives null) or cannot be opened again synchronously is left out: the client's next
   * use of it is EBADF, as for any unknown fid. Returns the fids restored, or null if the state is
   * not one this code understands.
   */
  importState(v: unknown, nodeIn: (x: unknown, who: Principal) => N | null): number | null {
    const s = checkSessionState(v);
    if (s === null) return null;
    const who = s.principals.map(principalIn);
    if (who.some((p) => p === null)) return null;
    this.msizeBytes = Math.min(Math.max(s.msize, MSIZE_MIN_BYTES), MSIZE_MAX_BYTES);
    this.versioned = s.versioned;
    this.opsLeft = s.opsLeft;
    this.expiresAtMs = s.expiresAtMs;
    this.revoked = s.revoked;
    this.principal = s.principal === null ? null : (who[s.principal] ?? null);
    let restored = 0;
    for (const f of s.fids) {
      const p = who[f.who] as Principal;
      const node = nodeIn(f.node, p);
      if (node === null || this.fids.reserve(f.fid) !== null) continue;
      const qid = this.o.fs.qid(node);
      let open: OpenState | null = null;
      if (f.open !== null) {
        const file = this.call(() => this.o.fs.open(node, f.open!, p));
        const listing = isDir(qid) && !isPromise(file) && !(file instanceof NineError) ? this.call(() => this.o.fs.list(node, p)) : null;
        if (isPromise(file) || file instanceof NineError || isPromise(listing) || listing instanceof NineError) {
          this.fids.release(f.fid);
          continue;
        }
        open = { access: f.open, file, listing };
      }
      this.fids.bind(f.fid, { node, qid, who: p, open, stat: null });
      restored++;
    }
    return restored;
  }
}
