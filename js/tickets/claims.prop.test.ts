// Property tests: any bytes decode to claims or a TicketError; any encodable claims round-trip.
import fc from 'fast-check';
import { test, ok, deepEqual } from '../testkit/index.js';
import { decodeClaims, encodeClaims, TICKET_ROLES, SCOPE_VERBS, type TicketClaims } from './claims.js';
import { TicketError } from './errors.js';

const PROPERTY_RUNS = 1000;

test('claims property: random payloads never throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
    const r = decodeClaims(b);
    ok(r instanceof TicketError || typeof r.role === 'string');
  }), { numRuns: PROPERTY_RUNS });
});

const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const str = fc.string({ maxLength: 40 });
const claimsArb: fc.Arbitrary<TicketClaims> = fc.record({
  role: fc.constantFrom(...TICKET_ROLES),
  ticks: fc.option(u64),
  ops: fc.option(u64),
  ttlS: fc.option(u64),
  subject: fc.option(str),
  issuedAtMs: u64,
  mountService: str,
  mountAt: str,
  scopes: fc.option(fc.array(fc.record({ path: str, verb: fc.constantFrom(...SCOPE_VERBS), ratePerS: fc.nat() }), { maxLength: 16 })),
  quotas: fc.option(fc.record({ bandwidthBytes: u64, cursorResumes: fc.nat(), cursorAdvances: fc.nat() })),
});

test('claims property: encode then decode is the identity', () => {
  fc.assert(fc.property(claimsArb, (c) => {
    const b = encodeClaims(c);
    if (b instanceof TicketError) return; // e.g. a lone surrogate in a string
    deepEqual(decodeClaims(b), c);
  }), { numRuns: PROPERTY_RUNS });
});
