// The four verified vectors of spec §8.3, byte-exact both ways, plus token parsing refusals.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { baseClaims, decodeClaims, type TicketClaims } from './claims.js';
import { TicketError } from './errors.js';
import { mintTicket, parseToken, peekTicketRole, verifyTicket } from './token.js';

interface Vector { name: string; secret: string; claims: TicketClaims; token: string }

const VECTORS: Vector[] = [
  {
    name: 'heartbeat worker-1',
    secret: 'worker',
    claims: { ...baseClaims('worker-heartbeat', 0n), subject: 'worker-1' },
    token: 'cohesix-ticket-0101080800776f726b65722d31000000000000000000000000.ea7bee86230e67031e6e758fa01c00eaa9c1f0bfff4b41548424a3df0356cff9',
  },
  {
    name: 'queen ttl 0',
    secret: 'bootstrap',
    claims: { ...baseClaims('queen', 0n), ttlS: 0n },
    token: 'cohesix-ticket-0100040000000000000000000000000000000000000000.e9b8bc4e26e2f06725347bdd8983fb3efc170658fc6af53cabb746bef58deddb',
  },
  {
    name: 'queen scopes and quotas',
    secret: 'bootstrap',
    claims: {
      ...baseClaims('queen', 0n),
      scopes: [
        { path: '/log', verb: 'read', ratePerS: 1 },
        { path: '/queen', verb: 'write', ratePerS: 0 },
        { path: '/shard', verb: 'write', ratePerS: 0 },
      ],
      quotas: { bandwidthBytes: 0n, cursorResumes: 0, cursorAdvances: 1 },
    },
    token: 'cohesix-ticket-0100300000000000000000000000000304002f6c6f67000100000006002f717565656e010000000006002f7368617264010000000000000000000000000000000001000000.0c714a86a89a2abc049395e486dbd2a8ce6ba7076ce508a02431a22319629672',
  },
  {
    name: 'worker-bus modbus-main',
    secret: 'worker-bus',
    claims: { ...baseClaims('worker-bus', 0n), subject: 'modbus-main' },
    token: 'cohesix-ticket-0103080b006d6f646275732d6d61696e000000000000000000000000.e9f653dd264c440296e25118f72ed5a10cd8b2141288c45139bbcef8316d98c8',
  },
];

for (const v of VECTORS) {
  test(`ticket vector §8.3 (${v.name}): minting gives the exact token`, () => {
    equal(mintTicket(v.claims, v.secret), v.token);
  });
  test(`ticket vector §8.3 (${v.name}): verification gives the claims back`, () => {
    deepEqual(verifyTicket(v.token, v.secret), v.claims);
  });
  test(`ticket vector §8.3 (${v.name}): another role's secret is rejected`, () => {
    const r = verifyTicket(v.token, v.secret + 'x');
    ok(r instanceof TicketError);
    equal(r.message, 'ticket rejected');
  });
}

test('ticket: a flipped payload bit is rejected by the MAC', () => {
  const t = VECTORS[0].token;
  const forged = t.replace('776f726b65722d31', '776f726b65722d32'); // worker-1 -> worker-2
  const r = verifyTicket(forged, 'worker');
  ok(r instanceof TicketError);
  equal(r.code, 'rejected');
});

test('ticket: peekTicketRole reads the claimed role before verification', () => {
  equal(peekTicketRole(VECTORS[0].token), 'worker-heartbeat');
  equal(peekTicketRole(VECTORS[3].token), 'worker-bus');
});

function invalid(token: string, detail: string): void {
  const r = parseToken(token);
  ok(r instanceof TicketError, `expected a refusal for ${token}`);
  equal(r.message, `ticket invalid: ${detail}`);
}

test('ticket: token shape refusals', () => {
  invalid('cohesix-tickt-00.00', 'missing cohesix-ticket- prefix');
  invalid('cohesix-ticket-0100', 'expected <payload>.<mac>');
  invalid('cohesix-ticket-01.00.00', 'expected <payload>.<mac>');
  invalid('cohesix-ticket-zz.' + '00'.repeat(32), 'payload is not hex');
  invalid('cohesix-ticket-01.' + '00'.repeat(31), 'mac is not 32 bytes of hex');
  invalid('cohesix-ticket-' + '0'.repeat(210), 'token longer than 224 characters');
});

test('ticket: minting refuses a token over 224 characters', () => {
  const r = mintTicket({ ...baseClaims('worker-gpu', 0n), subject: 'w'.repeat(60) }, 's');
  ok(r instanceof TicketError);
  equal(r.message, 'ticket invalid: token longer than 224 characters');
});

test('ticket: the longest vector fits the 224-character bound', () => {
  ok(VECTORS.every((v) => v.token.length <= 224));
  void decodeClaims;
});
