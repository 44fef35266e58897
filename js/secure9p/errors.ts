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
