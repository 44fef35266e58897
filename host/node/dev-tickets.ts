// The spec §8.3 reference dev ticket secrets, and minting with them, for host tools and tests (never for release images).
import { SCOPE_VERBS, baseClaims, parseRole, type TicketScope } from '../../js/tickets/claims.js';
import { TicketError } from '../../js/tickets/errors.js';
import { DEV_TICKET_SECRETS } from '../../js/tickets/dev-secrets.js';
import { mintTicket } from '../../js/tickets/token.js';

export { DEV_TICKET_SECRETS };

export interface DevTicketRequest {
  role: string;
  subject?: string | null;
  ttlS?: bigint | null;
  ops?: bigint | null;
  issuedAtMs: bigint;
  /** Sign with this secret instead of the role's dev secret (to make a forged ticket). */
  secret?: string;
  /** Spec §8.6 scopes; absent or empty: none. */
  scopes?: TicketScope[];
}

/** `PATH:VERB:RATE` (verb read|write|read-write, rate per second, 0 = none) as a scope, or why not. */
export function parseScopeArg(arg: string): TicketScope | TicketError {
  const m = /^(\/[^:]*):([a-z-]+):([0-9]{1,9})$/.exec(arg);
  const verb = m === null ? null : SCOPE_VERBS.find((v) => v === m[2]);
  if (m === null || verb === undefined || verb === null) return new TicketError('invalid', `scope ${arg} is not PATH:read|write|read-write:RATE`);
  return { path: m[1], verb, ratePerS: Number(m[3]) };
}

export function mintDevTicket(r: DevTicketRequest): string | TicketError {
  const role = parseRole(r.role);
  if (role === null) return new TicketError('invalid', `unknown role ${r.role}`);
  const scopes = r.scopes !== undefined && r.scopes.length > 0 ? r.scopes : null;
  const claims = { ...baseClaims(role, r.issuedAtMs), subject: r.subject ?? null, ttlS: r.ttlS ?? null, ops: r.ops ?? null, scopes };
  return mintTicket(claims, r.secret ?? DEV_TICKET_SECRETS[role]);
}
