// cohsh errors as values: a stable code, the message the operator sees, and the exit status it maps to.

/** Exit statuses (spec §4.1): 0 success, 1 runtime failure, 2 usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export type CohshErrorCode =
  | 'usage' // bad flags or arguments on the command line
  | 'connect-refused' // nothing listens at host:port
  | 'connect-failed' // other connect failure (DNS, unreachable, timeout)
  | 'auth-failed' // the console refused AUTH
  | 'connection-lost' // the console went away mid-command
  | 'timeout' // no answer within the reply deadline
  | 'not-attached' // a command that needs an attached session
  | 'attach-refused' // the console refused ATTACH
  | 'check' // a client-side check (path, JSON value, ticket, syntax) refused the command
  | 'refused' // the console answered ERR
  | 'lock-busy' // another cohsh holds the console lock
  | 'script-syntax' // a .coh file does not parse
  | 'script-failed' // a command or EXPECT failed in a script
  | 'io' // a local file could not be read or written
  | 'ticket' // minting failed (no secret, bad config)
  | 'unavailable'; // a feature this build does not have (qemu transport, traces)

export class CohshError {
  constructor(
    readonly code: CohshErrorCode,
    readonly message: string,
  ) {}

  exitCode(): number {
    return this.code === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
  }

  toString(): string {
    return this.message;
  }
}

export function isCohshError(v: unknown): v is CohshError {
  return v instanceof CohshError;
}

export const usageError = (message: string): CohshError => new CohshError('usage', message);
export const checkError = (message: string): CohshError => new CohshError('check', message);
