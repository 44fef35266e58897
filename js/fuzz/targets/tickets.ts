// Fuzz target: tickets: the token text, the claims encoding under a valid MAC, and the attach check.
import { latin1, toHex } from '../../bytes/utf8.js';
import { checkAttachTicket } from '../../tickets/attach.js';
import { baseClaims, decodeClaims, encodeClaims, TICKET_ROLES, type TicketClaims } from '../../tickets/claims.js';
import { TicketError } from '../../tickets/errors.js';
import { mintTicket, parseToken, peekTicketRole, ticketMac, TOKEN_PREFIX } from '../../tickets/token.js';
import type { FuzzTarget } from '../target.js';
import { broken, NOW_MS, SECRETS } from './common.js';

function sampleClaims(): TicketClaims[] {
  const t = BigInt(NOW_MS);
  return [
    baseClaims('queen', t),
    { ...baseClaims('worker-heartbeat', t), subject: 'worker-1', ticks: 10n, ops: 100n, ttlS: 60n },
    { ...baseClaims('worker-gpu', t), subject: 'g1', mountService: 'gpu', mountAt: '/gpu', scopes: [{ path: '/log', verb: 'read', ratePerS: 5 }] },
    { ...baseClaims('queen', t), quotas: { bandwidthBytes: 1024n, cursorResumes: 2, cursorAdvances: 3 } },
  ];
}

/** Mode byte, then the rest: 0 = the rest is a token's text; 1 = claims bytes given a valid MAC; 2 = raw claims bytes. */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of sampleClaims()) {
    const b = encodeClaims(c);
    if (b instanceof TicketError) continue;
    out.push(Uint8Array.of(1, ...b), Uint8Array.of(2, ...b));
    const tok = mintTicket(c, SECRETS[c.role as keyof typeof SECRETS] ?? 'x');
    if (typeof tok === 'string') out.push(Uint8Array.of(0, ...Array.from(tok, (ch) => ch.charCodeAt(0))));
  }
  return out;
}

function attach(token: string): string {
  const role = peekTicketRole(token);
  const r = checkAttachTicket({ token, role: role instanceof TicketError ? 'queen' : role, identity: null, secrets: SECRETS, nowMs: NOW_MS });
  return r instanceof TicketError ? `attach:${r.code}` : 'attach:ok';
}

export const tickets: FuzzTarget = {
  name: 'tickets',
  maxInputBytes: 512,
  dictionary: [TOKEN_PREFIX, '.', '00', 'ff', '\x00', '\x01', '\xff\xff\xff\xff', '/log', '/proc', 'worker-1', ...TICKET_ROLES],
  seeds,
  run(input) {
    const mode = input.length > 0 ? input[0] % 3 : 0;
    const body = input.subarray(1);
    if (mode === 0) {
      const token = latin1(body);
      const p = parseToken(token);
      if (p instanceof TicketError) return `token:${p.code}`;
      return attach(token);
    }
    const claims = decodeClaims(body);
    if (!(claims instanceof TicketError)) {
      // What decodes encodes again to claims that decode (the ticket minter and checker agree).
      const again = encodeClaims(claims);
      if (!(again instanceof TicketError) && decodeClaims(again) instanceof TicketError) broken('claims do not survive a re-encode');
    }
    if (mode === 2) return claims instanceof TicketError ? `claims:${claims.code}` : 'claims:ok';
    if (body.length === 0) return 'empty';
    const role = TICKET_ROLES[body.length >= 2 ? body[1] : 0] ?? 'queen';
    const secret = SECRETS[role as keyof typeof SECRETS] ?? 'other';
    return attach(`${TOKEN_PREFIX}${toHex(body)}.${toHex(ticketMac(secret, body))}`);
  },
};
