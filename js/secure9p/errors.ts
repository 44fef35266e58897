// Secure9P error values: the project's error names, their Linux errno on the wire (spec §0), and the codec's decode error.

/** Error names used in logs, console replies and tests (spec §5.5). */
export type ErrorName = 'Permission' | 'NotFound' | 'Busy' | 'Invalid' | 'TooBig' | 'Closed';

/** Linux errno values (asm-generic/errno-base.h, errno.h); 9P2000.L Rlerror carries these. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  ENOTDIR: 20,
  EINVAL: 22,
  EROFS: 30,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
} as const;

/** Default wire errno per error name (spec §0); a few refusals override it (EACCES, EAGAIN). */
export const ERRNO_OF_ERROR: Readonly<Record<ErrorName, number>> = {
  Permission: Errno.EPERM,
  NotFound: Errno.ENOENT,
  Busy: Errno.EBUSY,
  Invalid: Errno.EINVAL,
  TooBig: Errno.EMSGSIZE,
  Closed: Errno.EBADF,
};

/**
 * A refusal as a value: handlers return it (never throw it) and the session turns it into
 * Rlerror. `errno` defaults from the name; pass one only where spec §0 names an exception.
 */
export class NineError {
  readonly errno: number;
  constructor(
    readonly code: ErrorName,
    readonly message: string,
    errno?: number,
  ) {
    this.errno = errno ?? ERRNO_OF_ERROR[code];
  }
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/**
 * A named refusal, as lib9p names its error strings (`Ewalknodir`): the server's every refusal is
 * one of these, raised by name with `refusal()`. The name is the stable code a test provokes; the
 * error name and errno are what the wire and the logs carry; `text` writes the message, with the
 * detail (a fid, a name) some of them take.
 */
export interface NamedError<A extends unknown[] = []> {
  readonly name: string;
  readonly code: ErrorName;
  readonly errno: number;
  readonly text: (...detail: A) => string;
}

/**
 * Makes a named error. Free of side effects (each use below is marked pure), so a bundle keeps only
 * the errors it raises: a worker's client carries none of the server's. errors.test.ts reads the
 * table off this module's exports.
 */
function named<A extends unknown[] = []>(name: string, code: ErrorName, text: (...detail: A) => string, errno: number = ERRNO_OF_ERROR[code]): NamedError<A> {
  return { name, code, errno, text };
}

/** A named refusal as a value, with its detail in the message. */
export function refusal<A extends unknown[]>(e: NamedError<A>, ...detail: A): NineError {
  return new NineError(e.code, e.text(...detail), e.errno);
}

// ---- the server's refusals (session.ts, fids.ts, tags.ts, principal.ts) ----

/** A request before a Tversion we speak. */
export const Enotversioned = /*#__PURE__*/ named('Enotversioned', 'Invalid', () => 'Tversion required first');
/** Tauth: tickets travel in aname, so there is no auth fid to make (spec §0). */
export const Enoauth = /*#__PURE__*/ named('Enoauth', 'NotFound', () => 'no auth fid: tickets travel in aname');
/** Tattach naming an auth fid: there are none (see Enoauth). */
export const Eafid = /*#__PURE__*/ named('Eafid', 'Invalid', () => 'no auth fid: tickets travel in aname');
/** Tversion offering an msize too small for our replies. */
export const Emsizesmall = /*#__PURE__*/ named<[number, number]>('Emsizesmall', 'Invalid', (msize, min) => `msize ${msize} below ${min}`);
/** A decoded request no handler takes (none reaches here: the decoder refuses what it does not know). */
export const Eunexpected = /*#__PURE__*/ named<[string]>('Eunexpected', 'Invalid', (kind) => `unexpected ${kind}`);
/** A frame the splitter skipped for being larger than msize (spec §15: the session goes on). */
export const Etoobig = /*#__PURE__*/ named<[number, number]>('Etoobig', 'TooBig', (bytes, msize) => `frame of ${bytes} bytes exceeds msize ${msize}`);
/** Every request of a revoked session: the reason it was revoked. */
export const Eclosed = /*#__PURE__*/ named<[string]>('Eclosed', 'Closed', (reason) => reason);
/** A provider or our own code threw: EIO, and the session goes on. */
export const Einternal = /*#__PURE__*/ named('Einternal', 'Invalid', () => 'internal server error', Errno.EIO);
/** A walk step from something that is not a directory (lib9p's Ewalknodir). */
export const Ewalknodir = /*#__PURE__*/ named<[string]>('Ewalknodir', 'NotFound', (name) => `${name} is not a directory`, Errno.ENOTDIR);
/** A walk in place on an open fid would drop its open state. */
export const Ewalkopen = /*#__PURE__*/ named<[number]>('Ewalkopen', 'Invalid', (fid) => `fid ${fid} is open; walk it to a new fid`);
/** Tlopen on a fid already open. */
export const Ealreadyopen = /*#__PURE__*/ named<[number]>('Ealreadyopen', 'Invalid', (fid) => `fid ${fid} already open`);
/** A write-open of a directory. */
export const Edirwrite = /*#__PURE__*/ named('Edirwrite', 'Permission', () => 'directories are never writable');
/** A write-open of a node that does not append (spec §5.1: only qid 0x40 nodes take writes). */
export const Enotappend = /*#__PURE__*/ named('Enotappend', 'Permission', () => 'write-open needs an append-only node (qid 0x40)');
/** Tread or Twrite on a fid never opened. */
export const Enotopen = /*#__PURE__*/ named<[number]>('Enotopen', 'Invalid', (fid) => `fid ${fid} is not open`);
/** Tread on a fid opened write-only. */
export const Enotopenread = /*#__PURE__*/ named<[number]>('Enotopenread', 'Permission', (fid) => `fid ${fid} is not open for reading`);
/** Tread on an open file whose provider gives no read. */
export const Eunreadable = /*#__PURE__*/ named('Eunreadable', 'Permission', () => 'node is not readable');
/** Twrite on a node that takes no writes. */
export const Ereadonly = /*#__PURE__*/ named('Ereadonly', 'Permission', () => 'read-only node');
/** Twrite on an append-only node opened read-only. */
export const Enotopenwrite = /*#__PURE__*/ named<[number]>('Enotopenwrite', 'Permission', (fid) => `fid ${fid} is not open for writing`);
/** Treaddir on a fid that is not an open directory. */
export const Enotopendir = /*#__PURE__*/ named<[number]>('Enotopendir', 'Invalid', (fid) => `fid ${fid} is not an open directory`);
/** A namespace mutation (Tlcreate, Tremove …): clients cannot change the namespace (spec §0). */
export const Emutate = /*#__PURE__*/ named<[string]>('Emutate', 'Permission', (name) => `${name} refused: the namespace is not mutable by clients`);
/** A 9P2000.L feature we lack (xattrs, locks, readlink, fsync). */
export const Eunsupported = /*#__PURE__*/ named<[string]>('Eunsupported', 'Invalid', (name) => `${name} not supported`, Errno.EOPNOTSUPP);
/** A fid this session has clunked and not bound again. */
export const Eclunked = /*#__PURE__*/ named<[number]>('Eclunked', 'Closed', (fid) => `fid ${fid} already clunked`);
/** A fid this session never bound. */
export const Eunknownfid = /*#__PURE__*/ named<[number]>('Eunknownfid', 'Closed', (fid) => `unknown fid ${fid}`);
/** A new fid whose number is bound or being bound. */
export const Efidinuse = /*#__PURE__*/ named<[number]>('Efidinuse', 'Busy', (fid) => `fid ${fid} in use`);
/** A new fid past the table's bound. */
export const Efidtablefull = /*#__PURE__*/ named<[number]>('Efidtablefull', 'Busy', (max) => `fid table full (${max})`);
/** A request whose tag is still in flight (spec §5.4). */
export const Etaginuse = /*#__PURE__*/ named('Etaginuse', 'Invalid', () => 'tag already in use');
/** A request past the in-flight window: EAGAIN, not EBUSY (spec §0), so the client retries once a reply frees a slot. */
export const Etagwindow = /*#__PURE__*/ named('Etagwindow', 'Busy', () => 'tag window exceeded', Errno.EAGAIN);
/** A ticket or role refusal at attach: EACCES on the wire (spec §0); the text says which. */
export const Eattachdenied = /*#__PURE__*/ named<[string]>('Eattachdenied', 'Permission', (why) => why, Errno.EACCES);
/** A uname `<role>:<id>` naming no role we know. */
export const Eunknownrole = /*#__PURE__*/ named<[string]>('Eunknownrole', 'Invalid', (role) => `unknown role ${role}`);
/** A uname `<role>:` with nothing after the colon. */
export const Eemptyidentity = /*#__PURE__*/ named('Eemptyidentity', 'Invalid', () => 'empty identity in uname');
/** A worker attach that names no identity, in uname or in its ticket. */
export const Eneedsidentity = /*#__PURE__*/ named<[string]>('Eneedsidentity', 'Invalid', (role) => `${role} attach needs an identity (uname <role>:<id> or ticket subject)`);

export function isNineError(v: unknown): v is NineError {
  return v instanceof NineError;
}

/**
 * Why a frame could not be decoded. `tag` is set when the 7-byte header was readable, so the
 * server can answer Rlerror with it; null means the connection cannot be resynchronised.
 */
export class DecodeError {
  constructor(
    readonly code: 'Invalid' | 'TooBig',
    readonly message: string,
    readonly tag: number | null,
    readonly type: number | null,
  ) {}
  get errno(): number {
    return ERRNO_OF_ERROR[this.code];
  }
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** Thrown by the encoder for a message that breaks a bound: always a bug in our own code. */
export class EncodeError extends Error {
  override name = 'EncodeError';
}

/** Linux ETIMEDOUT: a client gave up waiting (never sent by a server). */
export const ETIMEDOUT = 110;

/** The wire errno back to the project's error name (spec §0, read in reverse); clients use it. */
const NAME_OF_ERRNO: ReadonlyMap<number, ErrorName> = new Map<number, ErrorName>([
  [Errno.EPERM, 'Permission'], [Errno.EACCES, 'Permission'], [Errno.EROFS, 'Permission'],
  [Errno.ENOENT, 'NotFound'], [Errno.ENOTDIR, 'NotFound'],
  [Errno.EBUSY, 'Busy'], [Errno.EAGAIN, 'Busy'], [ETIMEDOUT, 'Busy'],
  [Errno.EINVAL, 'Invalid'], [Errno.EIO, 'Invalid'], [Errno.EOPNOTSUPP, 'Invalid'],
  [Errno.EMSGSIZE, 'TooBig'],
  [Errno.EBADF, 'Closed'],
]);

/** Turns an Rlerror into a NineError that keeps the server's exact errno. */
export function errorFromErrno(errno: number, what: string): NineError {
  return new NineError(NAME_OF_ERRNO.get(errno) ?? 'Invalid', `${what}: errno ${errno}`, errno);
}
