// ATTACH rules with an injected clock: throttle doubling, the 3-in-60 s cooldown, roles, the gate and every ticket detail.
import { test, equal, ok } from '../testkit/index.js';
import { baseClaims, type TicketClaims } from '../tickets/claims.js';
import { mintTicket } from '../tickets/token.js';
import { AttachGuard, AttachGuardTable, decideAttach, type AttachContext, type AttachDecision, type LifecycleState } from './attach-guard.js';
import { DEV_SECRETS } from './session.support.js';

const WALL_MS = 1_000_000;

function ticket(c: TicketClaims, secret: string): string {
  const t = mintTicket(c, secret);
  if (typeof t !== 'string') throw new Error(t.message);
  return t;
}
function workerTicket(over: Partial<TicketClaims> = {}, secret = 'worker'): string {
  return ticket({ ...baseClaims('worker-heartbeat', BigInt(WALL_MS)), subject: 'worker-1', ...over }, secret);
}

function ctx(guard: AttachGuard, nowMs: number, lifecycle: LifecycleState = 'ONLINE'): AttachContext {
  return { guard, nowMs, wallMs: WALL_MS, lifecycle, secrets: DEV_SECRETS, allowTicketlessQueen: true };
}
function line(d: AttachDecision): string {
  return d.kind === 'refused' ? d.line : `granted ${d.role}`;
}
const BAD = 'cohesix-ticket-00.' + '00'.repeat(32);

test('attach: queen without a ticket passes; role label is case-insensitive', () => {
  const d = decideAttach('QUEEN', null, ctx(new AttachGuard(), 0));
  equal(line(d), 'granted queen');
});

test('attach: `worker` means worker-heartbeat', () => {
  equal(line(decideAttach('Worker', workerTicket(), ctx(new AttachGuard(), 0))), 'granted worker-heartbeat');
});

test('attach: unknown role is policy/invalid-role', () => {
  equal(line(decideAttach('observer', null, ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=policy detail=invalid-role');
});

test('attach: non-queen while worker-attach is closed is lifecycle-denied with the state and a gate log line', () => {
  for (const s of ['BOOTING', 'QUIESCED', 'OFFLINE'] as const) {
    const d = decideAttach('worker', workerTicket(), ctx(new AttachGuard(), 0, s));
    equal(line(d), `ERR ATTACH reason=policy detail=lifecycle-denied state=${s}`);
    equal(d.kind === 'refused' && d.log, `lifecycle denied action=worker-attach state=${s} reason=gate-denied`);
  }
  equal(line(decideAttach('worker', workerTicket(), ctx(new AttachGuard(), 0, 'DRAINING'))), 'granted worker-heartbeat');
  equal(line(decideAttach('queen', null, ctx(new AttachGuard(), 0, 'BOOTING'))), 'granted queen', 'the gate is for non-queens');
});

test('attach: worker without a ticket, wrong MAC, garbage token, role mismatch are policy/denied', () => {
  equal(line(decideAttach('worker', null, ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=policy detail=denied');
  equal(line(decideAttach('worker', workerTicket({}, 'not-the-secret'), ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=policy detail=denied');
  equal(line(decideAttach('worker', 'letmein', ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=policy detail=denied');
  // A worker ticket used as queen: checked with the queen secret, so the MAC fails.
  equal(line(decideAttach('queen', workerTicket(), ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=policy detail=denied');
});

test('attach: a worker ticket without a subject is denied', () => {
  equal(line(decideAttach('worker', workerTicket({ subject: null }), ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=policy detail=denied');
});

test('attach: claims that verify but do not decode are policy/invalid-claims', () => {
  // Spec §8.3 vector payload with a trailing byte, re-MACed with the right secret.
  const t = mintTicket(baseClaims('worker-heartbeat', 0n), 'worker') as string;
  const payloadHex = t.slice('cohesix-ticket-'.length, t.indexOf('.')) + '00';
  const bytes = new Uint8Array(payloadHex.length / 2).map((_, i) => parseInt(payloadHex.substr(i * 2, 2), 16));
  return import('../tickets/token.js').then(({ ticketMac }) => {
    const mac = Array.from(ticketMac('worker', bytes), (b) => b.toString(16).padStart(2, '0')).join('');
    const bad = `cohesix-ticket-${payloadHex}.${mac}`;
    equal(line(decideAttach('worker', bad, ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=policy detail=invalid-claims');
  });
});

test('attach: expired ticket (now ≥ issued + ttl) is quota/expired', () => {
  const t = workerTicket({ issuedAtMs: BigInt(WALL_MS - 10_000), ttlS: 10n });
  equal(line(decideAttach('worker', t, ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=quota detail=expired');
  const live = workerTicket({ issuedAtMs: BigInt(WALL_MS - 9_999), ttlS: 10n });
  equal(line(decideAttach('worker', live, ctx(new AttachGuard(), 0))), 'granted worker-heartbeat');
});

test('attach: spec §8.3 always-expired queen vector is quota/expired', () => {
  const v = 'cohesix-ticket-0100040000000000000000000000000000000000000000.e9b8bc4e26e2f06725347bdd8983fb3efc170658fc6af53cabb746bef58deddb';
  equal(line(decideAttach('queen', v, ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=quota detail=expired');
});

test('attach: quotas over manifest limits are quota/invalid-claims', () => {
  const t = ticket({ ...baseClaims('queen', 0n), quotas: { bandwidthBytes: 1n << 40n, cursorResumes: 0, cursorAdvances: 0 } }, 'bootstrap');
  equal(line(decideAttach('queen', t, ctx(new AttachGuard(), 0))), 'ERR ATTACH reason=quota detail=invalid-claims');
});

test('attach throttle: 250 ms after the first failure, then 500 ms after the second', () => {
  const g = new AttachGuard();
  equal(line(decideAttach('worker', BAD, ctx(g, 1000))), 'ERR ATTACH reason=policy detail=denied');
  equal(line(decideAttach('worker', BAD, ctx(g, 1100))), 'ERR ATTACH reason=quota detail=throttled delay_ms=150');
  equal(line(decideAttach('worker', BAD, ctx(g, 1249))), 'ERR ATTACH reason=quota detail=throttled delay_ms=1');
  equal(line(decideAttach('worker', BAD, ctx(g, 1250))), 'ERR ATTACH reason=policy detail=denied', 'throttle over: evaluated');
  equal(line(decideAttach('queen', null, ctx(g, 1700))), 'ERR ATTACH reason=quota detail=throttled delay_ms=50', 'even a good credential waits');
  equal(line(decideAttach('queen', null, ctx(g, 1750))), 'granted queen');
});

test('attach throttle: exponent grows with failures since success and stops at 2^8', () => {
  const g = new AttachGuard();
  let t = 0;
  const delays: number[] = [];
  for (let i = 0; i < 11; i++) {
    g.recordFailure(t);
    const b = g.blocked(t);
    // Failures are 61 s apart so no cooldown starts; record the throttle each one set.
    delays.push(b !== null && b.detail === 'throttled' ? b.delayMs : -1);
    t += 61_000;
  }
  equal(delays.join(','), '250,500,1000,2000,4000,8000,16000,32000,64000,64000,64000');
});

test('attach cooldown: the 3rd failure within 60 s answers rate-limited 90000 and blocks for 90 s', () => {
  const g = new AttachGuard();
  decideAttach('worker', BAD, ctx(g, 0));
  decideAttach('worker', BAD, ctx(g, 1_000));
  equal(line(decideAttach('worker', BAD, ctx(g, 3_000))), 'ERR ATTACH reason=quota detail=rate-limited delay_ms=90000');
  equal(line(decideAttach('queen', null, ctx(g, 50_000))), 'ERR ATTACH reason=quota detail=rate-limited delay_ms=43000');
  equal(line(decideAttach('queen', null, ctx(g, 92_999))), 'ERR ATTACH reason=quota detail=rate-limited delay_ms=1');
  equal(line(decideAttach('queen', null, ctx(g, 93_000))), 'granted queen');
});

test('attach cooldown: 3 failures spread over more than 60 s do not start one', () => {
  const g = new AttachGuard();
  decideAttach('worker', BAD, ctx(g, 0));
  decideAttach('worker', BAD, ctx(g, 30_000));
  const d = decideAttach('worker', BAD, ctx(g, 61_000));
  equal(line(d), 'ERR ATTACH reason=policy detail=denied');
});

test('attach: success resets the counters', () => {
  const g = new AttachGuard();
  decideAttach('worker', BAD, ctx(g, 0));
  decideAttach('worker', BAD, ctx(g, 1_000));
  equal(line(decideAttach('queen', null, ctx(g, 2_000))), 'granted queen');
  equal(line(decideAttach('worker', BAD, ctx(g, 3_000))), 'ERR ATTACH reason=policy detail=denied', 'no cooldown: counting restarted');
  equal(g.blocked(3_000)?.delayMs, 250, 'throttle back to the base');
});

test('attach: throttled and gate refusals do not count as failures', () => {
  const g = new AttachGuard();
  for (let i = 0; i < 5; i++) decideAttach('worker', workerTicket(), ctx(g, i, 'BOOTING'));
  equal(g.blocked(10), null);
  equal(line(decideAttach('worker', BAD, ctx(g, 10))), 'ERR ATTACH reason=policy detail=denied');
  for (let i = 0; i < 5; i++) equal(line(decideAttach('worker', BAD, ctx(g, 11 + i))).split(' delay_ms=')[0], 'ERR ATTACH reason=quota detail=throttled');
  equal(g.blocked(260), null, 'throttled attempts did not escalate it');
});

test('attach: expired ticket answers expired twice, neither throttled nor cooled down', () => {
  // Bug: a genuine but expired ticket counted as a failure, so the second attempt was
  // `throttled delay_ms=...` (the reference's telemetry_ring.coh expects `expired` both times).
  const g = new AttachGuard();
  const v = 'cohesix-ticket-0100040000000000000000000000000000000000000000.e9b8bc4e26e2f06725347bdd8983fb3efc170658fc6af53cabb746bef58deddb';
  const expiredWorker = workerTicket({ issuedAtMs: 0n, ttlS: 1n });
  for (let i = 0; i < 5; i++) {
    equal(line(decideAttach('queen', v, ctx(g, 1000 + i))), 'ERR ATTACH reason=quota detail=expired', `queen attempt ${i}`);
    equal(line(decideAttach('worker', expiredWorker, ctx(g, 1000 + i))), 'ERR ATTACH reason=quota detail=expired', `worker attempt ${i}`);
  }
  equal(g.blocked(1010), null);
  equal(line(decideAttach('queen', null, ctx(g, 1010))), 'granted queen');
});

test('attach: unknown roles and bad MACs are throttled, and three start the cooldown', () => {
  const g = new AttachGuard();
  equal(line(decideAttach('observer', null, ctx(g, 0))), 'ERR ATTACH reason=policy detail=invalid-role');
  equal(line(decideAttach('observer', null, ctx(g, 100))), 'ERR ATTACH reason=quota detail=throttled delay_ms=150');
  equal(line(decideAttach('worker', BAD, ctx(g, 250))), 'ERR ATTACH reason=policy detail=denied');
  equal(line(decideAttach('nobody', null, ctx(g, 750))), 'ERR ATTACH reason=quota detail=rate-limited delay_ms=90000');
  equal(g.blocked(751)?.detail, 'rate-limited');
});

test('attach guard table: one guard per source, bounded, idle guards evicted first', () => {
  const t = new AttachGuardTable(2);
  const a = t.get('10.0.0.1', 0);
  ok(t.get('10.0.0.1', 0) === a, 'same source, same guard');
  a.recordFailure(0);
  t.get('10.0.0.2', 0);
  t.get('10.0.0.3', 0); // evicts the idle .2, not the throttled .1
  equal(t.size(), 2);
  ok(t.get('10.0.0.1', 1) === a, 'the throttled source kept its counters');
});

test('attach: delay_ms is whole milliseconds, rounded up, when the clock is fractional (firmware nowMs)', () => {
  const g = new AttachGuard();
  equal(line(decideAttach('worker', BAD, ctx(g, 1000.25))), 'ERR ATTACH reason=policy detail=denied');
  equal(line(decideAttach('queen', null, ctx(g, 1000.9))), 'ERR ATTACH reason=quota detail=throttled delay_ms=250');
  equal(line(decideAttach('queen', null, ctx(g, 1250.2))), 'ERR ATTACH reason=quota detail=throttled delay_ms=1');
  equal(line(decideAttach('queen', null, ctx(g, 1250.25))), 'granted queen');
});
