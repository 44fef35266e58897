// Turns a Tattach's uname and aname into a Principal (spec §0, §5.3, §8.4): our convention and standard clients.
import { checkAttachTicket, type TicketSecrets } from '../tickets/attach.js';
import { parseRole, type TicketRole } from '../tickets/claims.js';
import { TicketError } from '../tickets/errors.js';
import type { TicketLimits } from '../tickets/limits.js';
import { peekTicketRole } from '../tickets/token.js';
import { Eattachdenied, Eemptyidentity, Eneedsidentity, Eunknownrole, refusal, type NineError } from './errors.js';
import type { Principal } from './fileserver.js';

export interface AttachPolicy {
  secrets: TicketSecrets;
  /** Dev images: a queen may attach without a ticket (uname `queen`, or empty uname with aname `queen`). */
  allowTicketlessQueen: boolean;
  limits?: TicketLimits;
}

/** The aname standard clients send to mean "the queen, no ticket" (e.g. `diodls -a queen`). */
const TICKETLESS_QUEEN_ANAME = 'queen';

/** Ticket and role refusals are EACCES on the wire (spec §0), Permission in our vocabulary. */
function denied(message: string): NineError {
  return refusal(Eattachdenied, message);
}

/**
 * Accepted unames: `queen`, `<role>`, `<role>:<identity>`, or anything else (empty, `nobody`,
 * a Unix user name) meaning "no role given": then the ticket in aname names the role, or aname
 * `queen` asks for the ticketless queen (dev images). The ticketless queen is reached only by
 * naming it: uname `queen` (our own clients) or aname `queen` (standard clients).
 */
export function resolvePrincipal(uname: string, aname: string, policy: AttachPolicy, nowMs: number): Principal | NineError {
  let role: TicketRole | null = null;
  let identity: string | null = null;
  const colon = uname.indexOf(':');
  if (colon >= 0) {
    role = parseRole(uname.slice(0, colon));
    if (role === null) return refusal(Eunknownrole, uname.slice(0, colon));
    identity = uname.slice(colon + 1);
    if (identity === '') return refusal(Eemptyidentity);
  } else {
    role = parseRole(uname);
  }
  const ticketless = aname === '' || aname === TICKETLESS_QUEEN_ANAME;
  if (role === null) {
    // No role in uname: only aname `queen` asks for the ticketless queen. An empty aname asks for
    // nothing (a Linux v9fs mount's default, any Unix user name): refused, never taken as queen.
    if (aname === TICKETLESS_QUEEN_ANAME) role = 'queen';
    else if (aname === '') return denied('ticket required: aname is empty and uname names no role');
    else {
      const peeked = peekTicketRole(aname);
      if (peeked instanceof TicketError) return denied(peeked.message);
      role = peeked;
    }
  }
  if (ticketless) {
    if (role !== 'queen') return denied('ticket required for worker attach');
    if (!policy.allowTicketlessQueen) return denied('ticket required for queen attach');
    return { role, identity, claims: null };
  }
  const grant = checkAttachTicket({ token: aname, role, identity, secrets: policy.secrets, nowMs, limits: policy.limits });
  if (grant instanceof TicketError) return denied(grant.message);
  if (role !== 'queen' && grant.identity === null) return refusal(Eneedsidentity, role);
  return { role, identity: grant.identity, claims: grant.claims };
}
