// The ticket claims payload (spec §8.2): exact little-endian layout, strict decode (no trailing bytes, no unknown codes).
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { CLAIM_STRING_BYTES_MAX, SCOPES_HARD_MAX } from './limits.js';
import { TicketError, ticketInvalid } from './errors.js';

export const CLAIMS_VERSION = 1;

/** Role codes in ticket order (spec §1, §8.2). */
export const TICKET_ROLES = ['queen', 'worker-heartbeat', 'worker-gpu', 'worker-bus', 'worker-lora'] as const;
export type TicketRole = (typeof TICKET_ROLES)[number];

export const SCOPE_VERBS = ['read', 'write', 'read-write'] as const;
export type ScopeVerb = (typeof SCOPE_VERBS)[number];

export const ClaimFlag = {
  TICKS: 0x01,
  OPS: 0x02,
  TTL: 0x04,
  SUBJECT: 0x08,
  SCOPES: 0x10,
  QUOTAS: 0x20,
} as const;
const FLAGS_KNOWN = 0x3f;

export interface TicketScope {
  path: string;
  verb: ScopeVerb;
  /** Accesses per second; 0 = no rate limit. */
  ratePerS: number;
}

export interface TicketQuotas {
  /** 0 = unlimited. */
  bandwidthBytes: bigint;
  cursorResumes: number;
  cursorAdvances: number;
}

/** Decoded claims; an absent optional field is null (its flag bit was clear). */
export interface TicketClaims {
  role: TicketRole;
  ticks: bigint | null;
  ops: bigint | null;
  ttlS: bigint | null;
  subject: string | null;
  issuedAtMs: bigint;
  mountService: string;
  mountAt: string;
  scopes: TicketScope[] | null;
  quotas: TicketQuotas | null;
}

/** Claims with every optional field absent: a base for minting. */
export function baseClaims(role: TicketRole, issuedAtMs: bigint): TicketClaims {
  return { role, ticks: null, ops: null, ttlS: null, subject: null, issuedAtMs, mountService: '', mountAt: '', scopes: null, quotas: null };
}

export function roleCode(role: TicketRole): number {
  return TICKET_ROLES.indexOf(role);
}

/** Case-insensitive role label → role (spec §1: labels match case-insensitively). */
export function parseRole(label: string): TicketRole | null {
  const l = label.toLowerCase();
  return (TICKET_ROLES as readonly string[]).includes(l) ? (l as TicketRole) : null;
}

const U64_MAX = 0xffffffffffffffffn;
/** Fixed-size part of the largest possible payload, to size the encoder's buffer once. */
const CLAIMS_BYTES_MAX = 3 + 8 * 4 + 3 * (2 + CLAIM_STRING_BYTES_MAX) + 1 + SCOPES_HARD_MAX * (2 + CLAIM_STRING_BYTES_MAX + 1 + 4) + 16;

/** Encodes claims; returns TicketError (never throws) when a field breaks the format. */
export function encodeClaims(c: TicketClaims): Uint8Array | TicketError {
  const buf = new Uint8Array(CLAIMS_BYTES_MAX);
  const view = new DataView(buf.buffer);
  let p = 0;
  let problem: string | null = null;
  const u8 = (v: number) => { buf[p++] = v; };
  const u32 = (v: number, what: string) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) problem ??= `${what} out of range`;
    view.setUint32(p, v >>> 0, true);
    p += 4;
  };
  const u64 = (v: bigint, what: string) => {
    if (v < 0n || v > U64_MAX) problem ??= `${what} out of range`;
    view.setBigUint64(p, BigInt.asUintN(64, v), true);
    p += 8;
  };
  const str = (s: string, what: string) => {
    const b = utf8Encode(s);
    if (b.length > CLAIM_STRING_BYTES_MAX) {
      problem ??= `${what} longer than ${CLAIM_STRING_BYTES_MAX} bytes`;
      return;
    }
    view.setUint16(p, b.length, true);
    p += 2;
    buf.set(b, p);
    p += b.length;
  };
  const role = roleCode(c.role);
  if (role < 0) return ticketInvalid('unknown role');
  let flags = 0;
  if (c.ticks !== null) flags |= ClaimFlag.TICKS;
  if (c.ops !== null) flags |= ClaimFlag.OPS;
  if (c.ttlS !== null) flags |= ClaimFlag.TTL;
  if (c.subject !== null) flags |= ClaimFlag.SUBJECT;
  if (c.scopes !== null) flags |= ClaimFlag.SCOPES;
  if (c.quotas !== null) flags |= ClaimFlag.QUOTAS;
  u8(CLAIMS_VERSION);
  u8(role);
  u8(flags);
  if (c.ticks !== null) u64(c.ticks, 'ticks');
  if (c.ops !== null) u64(c.ops, 'ops');
  if (c.ttlS !== null) u64(c.ttlS, 'ttl_s');
  if (c.subject !== null) str(c.subject, 'subject');
  u64(c.issuedAtMs, 'issued_at_ms');
  str(c.mountService, 'mount_service');
  str(c.mountAt, 'mount_at');
  if (c.scopes !== null) {
    if (c.scopes.length > SCOPES_HARD_MAX) return ticketInvalid(`more than ${SCOPES_HARD_MAX} scopes`);
    u8(c.scopes.length);
    for (const s of c.scopes) {
      str(s.path, 'scope path');
      const verb = SCOPE_VERBS.indexOf(s.verb);
      if (verb < 0) return ticketInvalid('unknown scope verb');
      u8(verb);
      u32(s.ratePerS, 'rate_per_s');
    }
  }
  if (c.quotas !== null) {
    u64(c.quotas.bandwidthBytes, 'bandwidth_bytes');
    u32(c.quotas.cursorResumes, 'cursor_resumes');
    u32(c.quotas.cursorAdvances, 'cursor_advances');
  }
  if (problem !== null) return ticketInvalid(problem);
  return buf.slice(0, p);
}

class ClaimsFault {
  constructor(readonly detail: string) {}
}

/** Decodes a payload; anything malformed (spec §8.2's list) is a TicketError `invalid`. */
export function decodeClaims(b: Uint8Array): TicketClaims | TicketError {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 0;
  const need = (n: number, what: string) => {
    if (b.length - p < n) throw new ClaimsFault(`truncated ${what}`);
  };
  const u8 = (what: string) => { need(1, what); return b[p++]; };
  const u32 = (what: string) => { need(4, what); const v = view.getUint32(p, true); p += 4; return v; };
  const u64 = (what: string) => { need(8, what); const v = view.getBigUint64(p, true); p += 8; return v; };
  const str = (what: string) => {
    need(2, `${what} length`);
    const n = view.getUint16(p, true);
    p += 2;
    if (n > CLAIM_STRING_BYTES_MAX) throw new ClaimsFault(`${what} longer than ${CLAIM_STRING_BYTES_MAX} bytes`);
    need(n, what);
    const s = utf8Decode(b, p, p + n);
    if (s === null) throw new ClaimsFault(`${what} is not valid UTF-8`);
    p += n;
    return s;
  };
  try {
    const version = u8('version');
    if (version !== CLAIMS_VERSION) throw new ClaimsFault(`unknown version ${version}`);
    const roleByte = u8('role');
    const role = TICKET_ROLES[roleByte];
    if (role === undefined) throw new ClaimsFault(`unknown role ${roleByte}`);
    const flags = u8('flags');
    if ((flags & ~FLAGS_KNOWN) !== 0) throw new ClaimsFault(`unknown flags 0x${flags.toString(16)}`);
    const c = baseClaims(role, 0n);
    if (flags & ClaimFlag.TICKS) c.ticks = u64('ticks');
    if (flags & ClaimFlag.OPS) c.ops = u64('ops');
    if (flags & ClaimFlag.TTL) c.ttlS = u64('ttl_s');
    if (flags & ClaimFlag.SUBJECT) c.subject = str('subject');
    c.issuedAtMs = u64('issued_at_ms');
    c.mountService = str('mount_service');
    c.mountAt = str('mount_at');
    if (flags & ClaimFlag.SCOPES) {
      const n = u8('scope count');
      if (n > SCOPES_HARD_MAX) throw new ClaimsFault(`more than ${SCOPES_HARD_MAX} scopes`);
      c.scopes = [];
      for (let i = 0; i < n; i++) {
        const path = str('scope path');
        const verbByte = u8('scope verb');
        const verb = SCOPE_VERBS[verbByte];
        if (verb === undefined) throw new ClaimsFault(`unknown scope verb ${verbByte}`);
        c.scopes.push({ path, verb, ratePerS: u32('rate_per_s') });
      }
    }
    if (flags & ClaimFlag.QUOTAS) {
      c.quotas = { bandwidthBytes: u64('bandwidth_bytes'), cursorResumes: u32('cursor_resumes'), cursorAdvances: u32('cursor_advances') };
    }
    if (p !== b.length) throw new ClaimsFault(`${b.length - p} trailing bytes`);
    return c;
  } catch (e) {
    if (e instanceof ClaimsFault) return ticketInvalid(e.detail);
    throw e;
  }
}
