// Claims layout refusals (spec §8.2): trailing bytes, unknown version/role/verb/flags, long strings, too many scopes.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { fromHex } from '../bytes/utf8.js';
import { baseClaims, decodeClaims, encodeClaims, parseRole, type TicketClaims } from './claims.js';
import { TicketError } from './errors.js';

const HEARTBEAT = '0101080800776f726b65722d31000000000000000000000000';

function refused(hex: string, message: string): void {
  const r = decodeClaims(fromHex(hex) as Uint8Array);
  ok(r instanceof TicketError, `expected refusal: ${message}`);
  equal(r.message, message);
}

test('claims: the heartbeat vector payload decodes', () => {
  deepEqual(decodeClaims(fromHex(HEARTBEAT) as Uint8Array), { ...baseClaims('worker-heartbeat', 0n), subject: 'worker-1' });
});
test('claims: trailing bytes invalidate', () => refused(HEARTBEAT + '00', 'ticket invalid: 1 trailing bytes'));
test('claims: truncation invalidates', () => refused(HEARTBEAT.slice(0, -2), 'ticket invalid: truncated mount_at length'));
test('claims: unknown version invalidates', () => refused('02' + HEARTBEAT.slice(2), 'ticket invalid: unknown version 2'));
test('claims: unknown role invalidates', () => refused('0105' + HEARTBEAT.slice(4), 'ticket invalid: unknown role 5'));
test('claims: unknown flag bits invalidate', () => refused('010040' + '0000000000000000' + '0000' + '0000', 'ticket invalid: unknown flags 0x40'));
test('claims: unknown scope verb invalidates', () => {
  refused('010010' + '0000000000000000' + '0000' + '0000' + '01' + '0100' + '2f' + '03' + '00000000', 'ticket invalid: unknown scope verb 3');
});
test('claims: 17 scopes invalidate whatever the manifest says', () => {
  refused('010010' + '0000000000000000' + '0000' + '0000' + '11', 'ticket invalid: more than 16 scopes');
});
test('claims: a string over 255 bytes invalidates', () => {
  refused('010008' + '0001' + '61'.repeat(256) + '0000000000000000' + '0000' + '0000', 'ticket invalid: subject longer than 255 bytes');
});
test('claims: bad UTF-8 in a string invalidates', () => {
  refused('010008' + '0100' + 'ff' + '0000000000000000' + '0000' + '0000', 'ticket invalid: subject is not valid UTF-8');
});

test('claims: full round trip with every optional field', () => {
  const c: TicketClaims = {
    role: 'worker-gpu', ticks: 1000n, ops: 64n, ttlS: 120n, subject: 'worker-7', issuedAtMs: 1_700_000_000_000n,
    mountService: 'logs', mountAt: '/log', scopes: [{ path: '/gpu/GPU-0', verb: 'read-write', ratePerS: 64 }],
    quotas: { bandwidthBytes: 131072n, cursorResumes: 16, cursorAdvances: 256 },
  };
  const b = encodeClaims(c);
  ok(b instanceof Uint8Array);
  deepEqual(decodeClaims(b), c);
});

test('claims: encoder refuses what the decoder would refuse', () => {
  const r = encodeClaims({ ...baseClaims('queen', 0n), subject: 'x'.repeat(256) });
  ok(r instanceof TicketError);
  equal(r.message, 'ticket invalid: subject longer than 255 bytes');
  const s = encodeClaims({ ...baseClaims('queen', 0n), scopes: Array.from({ length: 17 }, () => ({ path: '/', verb: 'read' as const, ratePerS: 0 })) });
  ok(s instanceof TicketError);
});

test('claims: role labels parse case-insensitively', () => {
  equal(parseRole('Worker-GPU'), 'worker-gpu');
  equal(parseRole('worker'), null); // console-only alias, not a ticket role
});
