// Ticket checks at attach (spec §8.4): secret, MAC, role, subject, expiry and manifest limits, in that order.
import { type TicketClaims, type TicketRole } from './claims.js';
import {
  TicketError, ticketExpired, ticketOverLimits, ticketRejected, ticketRequired, ticketRoleMismatch, ticketSubjectMismatch,
} from './errors.js';
import { DEFAULT_TICKET_LIMITS, type TicketLimits } from './limits.js';
import { verifyTicket } from './token.js';
import { utf8Length } from '../bytes/utf8.js';

/** Per-role secrets from the manifest's [[tickets]]; a role without one cannot present a ticket. */
export type TicketSecrets = Partial<Record<TicketRole, string>>;

/** Expired when now ≥ issued_at + ttl (spec §3.4 rule 6); a ticket without ttl never expires. */
export function ticketExpiresAtMs(c: TicketClaims): bigint | null {
  return c.ttlS === null ? null : c.issuedAtMs + c.ttlS * 1000n;
}

export function isTicketExpired(c: TicketClaims, nowMs: number): boolean {
  const at = ticketExpiresAtMs(c);
  return at !== null && BigInt(Math.floor(nowMs)) >= at;
}

/** Scopes and quotas against the manifest's limits (spec §8.6). */
export function checkTicketLimits(c: TicketClaims, limits: TicketLimits = DEFAULT_TICKET_LIMITS): TicketError | null {
  if (c.scopes !== null) {
    if (c.scopes.length > limits.scopesMax) return ticketOverLimits(`more than ${limits.scopesMax} scopes`);
    for (const s of c.scopes) {
      if (!s.path.startsWith('/')) return ticketOverLimits(`scope path ${s.path} is not absolute`);
      if (utf8Length(s.path) > limits.scopePathBytesMax) return ticketOverLimits(`scope path longer than ${limits.scopePathBytesMax} bytes`);
      if (s.ratePerS > limits.ratePerSMax) return ticketOverLimits(`scope rate over ${limits.ratePerSMax}/s`);
    }
  }
  if (c.quotas !== null) {
    if (c.quotas.bandwidthBytes > limits.bandwidthBytesMax) return ticketOverLimits(`bandwidth over ${limits.bandwidthBytesMax} bytes`);
    if (c.quotas.cursorResumes > limits.cursorResumesMax) return ticketOverLimits(`cursor resumes over ${limits.cursorResumesMax}`);
    if (c.quotas.cursorAdvances > limits.cursorAdvancesMax) return ticketOverLimits(`cursor advances over ${limits.cursorAdvancesMax}`);
  }
  return null;
}

export interface AttachTicketRequest {
  /** The token, or '' when none was presented. */
  token: string;
  role: TicketRole;
  /** Identity named by the attach (uname `<role>:<identity>`); null when the ticket must supply it. */
  identity: string | null;
  secrets: TicketSecrets;
  /** Caller's wall clock (Unix ms): js/ logic never reads a clock itself. */
  nowMs: number;
  limits?: TicketLimits;
}

export interface AttachTicketGrant {
  claims: TicketClaims | null;
  /** The identity after the subject filled it in (null for a ticketless or subjectless queen). */
  identity: string | null;
}

/** Validates a ticket for an attach; queen may come without one (the caller decides if that is allowed). */
export function checkAttachTicket(req: AttachTicketRequest): AttachTicketGrant | TicketError {
  if (req.token === '') {
    if (req.role !== 'queen') return ticketRequired();
    return { claims: null, identity: req.identity };
  }
  const secret = req.secrets[req.role];
  if (secret === undefined) return ticketRejected();
  const claims = verifyTicket(req.token, secret);
  if (claims instanceof TicketError) return claims;
  if (claims.role !== req.role) return ticketRoleMismatch();
  let identity = req.identity;
  if (claims.subject !== null) {
    if (identity !== null && identity !== claims.subject) return ticketSubjectMismatch();
    identity = claims.subject;
  }
  if (isTicketExpired(claims, req.nowMs)) return ticketExpired();
  const over = checkTicketLimits(claims, req.limits);
  if (over !== null) return over;
  return { claims, identity };
}
