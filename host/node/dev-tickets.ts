// The spec §8.3 reference dev ticket secrets, and minting with them, for host tools and tests (never for release images).
import { baseClaims, parseRole, type TicketRole } from '../../js/tickets/claims.js';
import { TicketError } from '../../js/tickets/errors.js';
import { mintTicket } from '../../js/tickets/token.js';

/** Spec §8.3 reference dev secrets, one per role. */
export const DEV_TICKET_SECRETS: Readonly<Record<TicketRole, string>> = {
  queen: 'bootstrap',
  'worker-heartbeat': 'worker',
  'worker-gpu': 'worker-gpu',
  'worker-bus': 'worker-bus',
  'worker-lora': 'worker-lora',
};

export interface DevTicketRequest {
  role: string;
  subject?: string | null;
  ttlS?: bigint | null;
  ops?: bigint | null;
  issuedAtMs: bigint;
  /** Sign with this secret instead of the role's dev secret (to make a forged ticket). */
  secret?: string;
}

export function mintDevTicket(r: DevTicketRequest): string | TicketError {
  const role = parseRole(r.role);
  if (role === null) return new TicketError('invalid', `unknown role ${r.role}`);
  const claims = { ...baseClaims(role, r.issuedAtMs), subject: r.subject ?? null, ttlS: r.ttlS ?? null, ops: r.ops ?? null };
  return mintTicket(claims, r.secret ?? DEV_TICKET_SECRETS[role]);
}
