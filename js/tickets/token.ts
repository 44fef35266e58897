// Ticket tokens (spec §8.1, §8.3): `cohesix-ticket-<payload_hex>.<mac_hex>`, MAC = BLAKE3-keyed(BLAKE3(secret), payload).
import { blake3 } from '@noble/hashes/blake3.js';
import { fromHex, toHex, utf8Encode } from '../bytes/utf8.js';
import { decodeClaims, encodeClaims, TICKET_ROLES, type TicketClaims, type TicketRole } from './claims.js';
import { TicketError, ticketInvalid, ticketRejected } from './errors.js';
import { MAC_BYTES, TOKEN_CHARS_MAX } from './limits.js';

export const TOKEN_PREFIX = 'cohesix-ticket-';

/** key = BLAKE3(UTF-8 secret): a plain 32-byte hash, so any secret length works. */
export function ticketKey(secret: string): Uint8Array {
  return blake3(utf8Encode(secret));
}

export function ticketMac(secret: string, payload: Uint8Array): Uint8Array {
  return blake3(payload, { key: ticketKey(secret) });
}

/** Encodes and signs claims; a TicketError when the claims break the format or the token is too long. */
export function mintTicket(claims: TicketClaims, secret: string): string | TicketError {
  const payload = encodeClaims(claims);
  if (payload instanceof TicketError) return payload;
  const token = `${TOKEN_PREFIX}${toHex(payload)}.${toHex(ticketMac(secret, payload))}`;
  if (token.length > TOKEN_CHARS_MAX) return ticketInvalid(`token longer than ${TOKEN_CHARS_MAX} characters`);
  return token;
}

export interface ParsedToken {
  payload: Uint8Array;
  mac: Uint8Array;
}

/** Splits a token into payload and MAC without trusting either. */
export function parseToken(token: string): ParsedToken | TicketError {
  if (token.length > TOKEN_CHARS_MAX) return ticketInvalid(`token longer than ${TOKEN_CHARS_MAX} characters`);
  if (!token.startsWith(TOKEN_PREFIX)) return ticketInvalid('missing cohesix-ticket- prefix');
  const body = token.slice(TOKEN_PREFIX.length);
  const dot = body.indexOf('.');
  if (dot < 0 || body.indexOf('.', dot + 1) >= 0) return ticketInvalid('expected <payload>.<mac>');
  const payload = fromHex(body.slice(0, dot));
  const mac = fromHex(body.slice(dot + 1));
  if (payload === null || payload.length === 0) return ticketInvalid('payload is not hex');
  if (mac === null || mac.length !== MAC_BYTES) return ticketInvalid(`mac is not ${MAC_BYTES} bytes of hex`);
  return { payload, mac };
}

/**
 * The role a token claims, read before verification so a ticket-only attach (empty uname) can
 * pick the secret to verify with. Never trust it before verifyTicket succeeds.
 */
export function peekTicketRole(token: string): TicketRole | TicketError {
  const t = parseToken(token);
  if (t instanceof TicketError) return t;
  const role = t.payload.length >= 2 ? TICKET_ROLES[t.payload[1]] : undefined;
  return role ?? ticketInvalid('unknown role');
}

/** Compares MACs in time independent of where they differ. */
function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/** Checks the MAC with `secret`, then decodes the claims. Expiry and role are the caller's (attach.ts). */
export function verifyTicket(token: string, secret: string): TicketClaims | TicketError {
  const t = parseToken(token);
  if (t instanceof TicketError) return t;
  if (!sameMac(ticketMac(secret, t.payload), t.mac)) return ticketRejected();
  return decodeClaims(t.payload);
}
