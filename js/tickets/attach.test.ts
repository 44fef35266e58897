// Attach-time ticket checks (spec §8.4) with the exact messages, expiry arithmetic and manifest limits (§8.6).
import { test, equal, ok } from '../testkit/index.js';
import { baseClaims, type TicketClaims, type TicketRole } from './claims.js';
import { TicketError } from './errors.js';
import { checkAttachTicket, checkTicketLimits, isTicketExpired, type TicketSecrets } from './attach.js';
import { mintTicket } from './token.js';

const SECRETS: TicketSecrets = { queen: 'bootstrap', 'worker-heartbeat': 'worker', 'worker-gpu': 'worker-gpu' };
const NOW = 1_700_000_000_000;

function mint(c: TicketClaims, secret: string): string {
  const t = mintTicket(c, secret);
  if (typeof t !== 'string') throw new Error(t.message);
  return t;
}
const hb = (over: Partial<TicketClaims> = {}) =>
  mint({ ...baseClaims('worker-heartbeat', BigInt(NOW)), subject: 'worker-1', ttlS: 300n, ...over }, 'worker');

function refusal(token: string, role: TicketRole, identity: string | null, message: string, nowMs = NOW): void {
  const r = checkAttachTicket({ token, role, identity, secrets: SECRETS, nowMs });
  ok(r instanceof TicketError, `expected "${message}"`);
  equal(r.message, message);
}

test('attach ticket: a valid heartbeat ticket grants its subject as identity', () => {
  const r = checkAttachTicket({ token: hb(), role: 'worker-heartbeat', identity: null, secrets: SECRETS, nowMs: NOW });
  ok(!(r instanceof TicketError));
  equal(r.identity, 'worker-1');
  equal(r.claims?.ops, null);
});
test('attach ticket: ticket required for worker attach', () => refusal('', 'worker-heartbeat', 'worker-1', 'ticket required for worker attach'));
test('attach ticket: queen may come without a ticket', () => {
  const r = checkAttachTicket({ token: '', role: 'queen', identity: null, secrets: SECRETS, nowMs: NOW });
  ok(!(r instanceof TicketError) && r.claims === null);
});
test('attach ticket: a role without a secret is rejected', () => {
  refusal(mint(baseClaims('worker-lora', 0n), 'worker-lora'), 'worker-lora', 'x', 'ticket rejected');
});
test('attach ticket: forged MAC is rejected', () => refusal(hb().slice(0, -1) + '0', 'worker-heartbeat', null, 'ticket rejected'));
test('attach ticket: ticket role mismatch (gpu ticket minted with heartbeat secret)', () => {
  refusal(mint({ ...baseClaims('worker-gpu', BigInt(NOW)), subject: 'worker-1' }, 'worker'), 'worker-heartbeat', null, 'ticket role mismatch');
});
test('attach ticket: ticket subject mismatch', () => refusal(hb(), 'worker-heartbeat', 'worker-2', 'ticket subject mismatch'));
test('attach ticket: ticket expired exactly at issued_at + ttl', () => {
  refusal(hb(), 'worker-heartbeat', null, 'ticket expired', NOW + 300_000);
  ok(!(checkAttachTicket({ token: hb(), role: 'worker-heartbeat', identity: null, secrets: SECRETS, nowMs: NOW + 299_999 }) instanceof TicketError));
});
test('attach ticket: the §8.3 queen ttl-0 vector is always expired', () => {
  refusal('cohesix-ticket-0100040000000000000000000000000000000000000000.e9b8bc4e26e2f06725347bdd8983fb3efc170658fc6af53cabb746bef58deddb',
    'queen', null, 'ticket expired', 0);
});
test('attach ticket: undecodable claims give ticket invalid', () => {
  refusal('cohesix-ticket-zz.' + '0'.repeat(64), 'worker-heartbeat', null, 'ticket invalid: payload is not hex');
});
test('attach ticket: scopes over the manifest limit (a 9-scope token cannot fit 224 chars, so check claims)', () => {
  const scopes = Array.from({ length: 9 }, (_, i) => ({ path: `/s${i}`, verb: 'read' as const, ratePerS: 0 }));
  equal(checkTicketLimits({ ...baseClaims('queen', 0n), scopes })?.message, 'ticket invalid: more than 8 scopes');
  const t = mint({ ...baseClaims('queen', BigInt(NOW)), scopes: [{ path: '/log', verb: 'read', ratePerS: 65 }] }, 'bootstrap');
  refusal(t, 'queen', null, 'ticket invalid: scope rate over 64/s');
});
test('ticket limits: scope path, rate and quotas', () => {
  const c = baseClaims('queen', 0n);
  equal(checkTicketLimits({ ...c, scopes: [{ path: '/' + 'a'.repeat(128), verb: 'read', ratePerS: 0 }] })?.message, 'ticket invalid: scope path longer than 128 bytes');
  equal(checkTicketLimits({ ...c, scopes: [{ path: 'log', verb: 'read', ratePerS: 0 }] })?.message, 'ticket invalid: scope path log is not absolute');
  equal(checkTicketLimits({ ...c, scopes: [{ path: '/log', verb: 'read', ratePerS: 65 }] })?.message, 'ticket invalid: scope rate over 64/s');
  equal(checkTicketLimits({ ...c, scopes: [{ path: '/log', verb: 'read', ratePerS: 64 }] }), null);
  equal(checkTicketLimits({ ...c, quotas: { bandwidthBytes: 131073n, cursorResumes: 0, cursorAdvances: 0 } })?.code, 'over-limits');
  equal(checkTicketLimits({ ...c, quotas: { bandwidthBytes: 0n, cursorResumes: 17, cursorAdvances: 0 } })?.message, 'ticket invalid: cursor resumes over 16');
  equal(checkTicketLimits({ ...c, quotas: { bandwidthBytes: 0n, cursorResumes: 0, cursorAdvances: 257 } })?.message, 'ticket invalid: cursor advances over 256');
});
test('ticket expiry: no ttl never expires', () => {
  equal(isTicketExpired(baseClaims('queen', 0n), Number.MAX_SAFE_INTEGER), false);
});
