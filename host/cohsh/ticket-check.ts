// The worker-ticket checks of spec §4.3 before ATTACH; its own file because token parsing pulls in BLAKE3, which start-up does not need.
import { decodeClaims, type TicketRole } from '../../js/tickets/claims.js';
import { TicketError } from '../../js/tickets/errors.js';
import { TOKEN_CHARS_MAX } from '../../js/tickets/limits.js';
import { parseToken } from '../../js/tickets/token.js';
import { checkError, type CohshError } from './errors.js';

/**
 * Worker tickets must be present, ≤ 224 characters, decodable, for the same role and carry a
 * subject (§4.3). The MAC is the hive's to check: cohsh does not hold the secret.
 */
export function checkAttachTicket(role: TicketRole, ticket: string | null): CohshError | null {
  if (ticket === null) return role === 'queen' ? null : checkError(`attach ${role} requires a ticket (mint one with --mint-ticket)`);
  if (ticket.length > TOKEN_CHARS_MAX) return checkError(`ticket longer than ${TOKEN_CHARS_MAX} characters`);
  const t = parseToken(ticket);
  if (t instanceof TicketError) return checkError(t.message);
  const claims = decodeClaims(t.payload);
  if (claims instanceof TicketError) return checkError(claims.message);
  if (claims.role !== role) return checkError(`ticket role mismatch: ticket is for ${claims.role}, not ${role}`);
  if (role !== 'queen' && (claims.subject === null || claims.subject === '')) return checkError('ticket has no subject; worker tickets need --ticket-subject');
  return null;
}

