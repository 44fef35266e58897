// A Secure9P session as a hot reload carries it: JSON-safe state, principals with their claims as base64, and the checks on the way in.
import { base64Decode, base64Encode } from '../bytes/base64.js';
import { decodeClaims, encodeClaims, parseRole } from '../tickets/claims.js';
import { TicketError } from '../tickets/errors.js';
import type { Access, Principal } from './fileserver.js';

/** One fid: who attached it (an index into `principals`), its node as the file server wrote it, and its open mode. */
export interface FidState {
  fid: number;
  who: number;
  node: unknown;
  open: Access | null;
}

export interface PrincipalState {
  role: string;
  identity: string | null;
  /** The verified claims, encoded as on the wire (base64); null for a ticketless queen. */
  claims: string | null;
}

export interface SessionState {
  msize: number;
  versioned: boolean;
  opsLeft: number | null;
  expiresAtMs: number | null;
  revoked: string | null;
  principal: number | null;
  principals: PrincipalState[];
  fids: FidState[];
}

export function principalOut(p: Principal): PrincipalState | null {
  if (p.claims === null) return { role: p.role, identity: p.identity, claims: null };
  const b = encodeClaims(p.claims);
  return b instanceof TicketError ? null : { role: p.role, identity: p.identity, claims: base64Encode(b) };
}

export function principalIn(s: PrincipalState): Principal | null {
  const role = typeof s.role === 'string' ? parseRole(s.role) : null;
  if (role === null || (s.identity !== null && typeof s.identity !== 'string')) return null;
  if (s.claims === null) return { role, identity: s.identity, claims: null };
  const b = typeof s.claims === 'string' ? base64Decode(s.claims) : null;
  const claims = b === null ? null : decodeClaims(b);
  return claims === null || claims instanceof TicketError ? null : { role, identity: s.identity, claims };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const ACCESS: ReadonlySet<unknown> = new Set(['read', 'write', 'read-write']);

/** Shape check of a SessionState from JSON; null when anything is off (the session is then not carried). */
export function checkSessionState(v: unknown): SessionState | null {
  const s = v as SessionState;
  if (typeof v !== 'object' || v === null || !isCount(s.msize) || typeof s.versioned !== 'boolean') return null;
  if (!(s.opsLeft === null || isCount(s.opsLeft)) || !(s.expiresAtMs === null || isCount(s.expiresAtMs))) return null;
  if (!(s.revoked === null || typeof s.revoked === 'string') || !(s.principal === null || isCount(s.principal))) return null;
  if (!Array.isArray(s.principals) || !Array.isArray(s.fids)) return null;
  if (s.principal !== null && s.principal >= s.principals.length) return null;
  if (!s.principals.every((p) => typeof p === 'object' && p !== null)) return null;
  for (const f of s.fids) {
    if (typeof f !== 'object' || f === null || !isCount(f.fid) || !isCount(f.who) || f.who >= s.principals.length) return null;
    if (!(f.open === null || ACCESS.has(f.open))) return null;
  }
  return s;
}
