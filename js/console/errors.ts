// Console error values: provider refusals (spec §3.6) with stable codes, shared by backends and reply builders.

/**
 * Why a provider (NineDoor, root-task policy) refused a console file verb. Each code has one
 * refusal class, detail tag and error text (reply.ts); backends return these, never throw.
 */
export type ProviderErrorCode =
  | 'unsupported' // policy / unsupported / `unsupported command: <cmd>`
  | 'attach-timeout' // busy / attach-timeout / `attach handshake timed out`
  | 'invalid-path' // policy / invalid-path / `invalid path` (unknown, absent or disabled path)
  | 'denied' // policy / denied / `EPERM` (permission, gate, role)
  | 'buffer-full' // quota / buffer-full / `buffer full`
  | 'invalid-payload' // policy / invalid-payload / `invalid payload` (bad JSON, transition)
  | 'busy' // busy / busy / `EBUSY` (spec §5.5 Busy → busy; the §3.6 table has no row for it)
  | 'root-unreachable' // cut / root-unreachable (no error text: spec §3.3)
  | 'scope-denied' // ticket scope miss: `reason=policy path=<p> error=EPERM`, no detail
  | 'scope-quota' // ticket rate/bandwidth/cursor quota: `reason=quota path=<p> error=ELIMIT`, no detail
  | 'internal'; // the backend threw or rejected (a bug): busy / internal / `internal error`; the session goes on

export class ProviderError {
  constructor(
    readonly code: ProviderErrorCode,
    /** For logs only; never put on the wire (the wire text is fixed per code). */
    readonly message: string = code,
    /** `unsupported` names the command in its error text. */
    readonly command: string = '',
  ) {}
  toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isProviderError(v: unknown): v is ProviderError {
  return v instanceof ProviderError;
}

/** Secure9P error names (spec §5.5) as console provider codes; Closed means a revoked session. */
export function providerCodeOfNineError(name: 'Permission' | 'NotFound' | 'Busy' | 'Invalid' | 'TooBig' | 'Closed'): ProviderErrorCode {
  switch (name) {
    case 'Permission':
      return 'denied';
    case 'NotFound':
      return 'invalid-path';
    case 'Busy':
      return 'busy';
    case 'Invalid':
      return 'invalid-payload';
    case 'TooBig':
      return 'buffer-full';
    case 'Closed':
      return 'root-unreachable';
  }
}
