// RefusalAudit and WrapNotices (issue 13, bugs 9-10): one line per refusal up to the bounds, floods summarised, wraps aggregated per worker.
import { test, equal, ok } from '../testkit/index.js';
import { RefusalAudit, WrapNotices, auditField, reasonCode, refusalLine, type Refusal } from './audit.js';
import {
  AUDIT_FIELD_CHARS_MAX, AUDIT_INTERVAL_MS, AUDIT_KEYS_MAX, AUDIT_LINES_PER_INTERVAL_MAX, AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX,
  RING_WRAP_NOTICE_INTERVAL_MS,
} from './limits.js';

const T0 = 1_700_000_000_000;
const walk = (reason = 'permission', subject = 'worker-1'): Refusal => ({
  src: '9p', op: 'walk', role: 'worker-heartbeat', subject, path: '/queen/ctl', reason,
});

test('audit: a refusal line names source, op, role, subject, path and reason', () => {
  equal(refusalLine(walk()), '[audit] refused src=9p op=walk role=worker-heartbeat subject=worker-1 path=/queen/ctl reason=permission');
  equal(refusalLine({ src: 'console', op: 'auth', role: null, subject: 'tcp:1.2.3.4:5#1', path: null, reason: 'auth-failed' }),
    '[audit] refused src=console op=auth role=- subject=tcp:1.2.3.4:5#1 path=- reason=auth-failed');
});

test('audit: fields are one bounded token whatever a client sends', () => {
  equal(auditField('a b\nc\td'), 'a_b_c_d');
  equal(auditField(''), '-');
  const long = auditField('x'.repeat(AUDIT_FIELD_CHARS_MAX * 3));
  equal(long.length, AUDIT_FIELD_CHARS_MAX);
  equal(reasonCode('ticket expired'), 'ticket-expired');
  equal(reasonCode("ticket invalid: bad claims (x)"), 'ticket-invalid-bad-claims-x');
});

test('audit: every refusal gets its line up to the per-key bound, then they are counted and summarised once the interval ends', () => {
  const a = new RefusalAudit();
  const flood = AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX + 40;
  let lines: string[] = [];
  for (let i = 0; i < flood; i++) lines = lines.concat(a.refusal(walk('permission', `worker-${i}`), T0 + i));
  equal(lines.length, AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX, 'full lines up to the key bound');
  equal(a.pending(), flood - AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX);
  equal(a.refusal(walk(), T0 + AUDIT_INTERVAL_MS - 1).length, 0, 'still inside the interval');
  const next = a.refusal(walk(), T0 + AUDIT_INTERVAL_MS);
  equal(next[0], `[audit] refusals suppressed count=${flood - AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX + 1} src=9p op=walk reason=permission interval_ms=${AUDIT_INTERVAL_MS}`);
  ok(next[1].startsWith('[audit] refused '), 'then the new interval writes the refusal itself');
  equal(a.pending(), 0);
});

test('audit: all keys together write at most the per-interval bound; each key with losses gets its own summary', () => {
  const a = new RefusalAudit();
  let lines: string[] = [];
  const reasons = AUDIT_KEYS_MAX + 8; // more keys than tracked: the rest share the overflow key
  for (let r = 0; r < reasons; r++) {
    for (let i = 0; i < AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX + 1; i++) lines = lines.concat(a.refusal(walk(`reason-${r}`), T0));
  }
  equal(lines.length, AUDIT_LINES_PER_INTERVAL_MAX);
  const summaries = a.flush(T0 + AUDIT_INTERVAL_MS);
  equal(summaries.length, AUDIT_KEYS_MAX, 'one per tracked key, overflow included');
  ok(summaries.some((l) => l.includes('src=* op=* reason=*')), 'the overflow key');
  const counted = summaries.reduce((n, l) => n + Number(/count=(\d+)/.exec(l)?.[1]), 0);
  equal(counted + lines.length, reasons * (AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX + 1), 'nothing lost: written + summarised = refused');
});

test('audit: ring wraps give one line per worker per interval, naming the worker, with the count and bytes of all wraps', () => {
  const w = new WrapNotices();
  equal(w.wrapped('worker-1', 40, 1040, T0), '[audit] telemetry ring wrap dropped_bytes=40 new_base=1040 worker=worker-1 wraps=1');
  equal(w.wrapped('worker-2', 40, 1040, T0), '[audit] telemetry ring wrap dropped_bytes=40 new_base=1040 worker=worker-2 wraps=1');
  for (let i = 1; i <= 100; i++) equal(w.wrapped('worker-1', 40, 1040 + 40 * i, T0 + i), null);
  equal(w.wrapped('worker-1', 40, 5080, T0 + RING_WRAP_NOTICE_INTERVAL_MS),
    '[audit] telemetry ring wrap dropped_bytes=4040 new_base=5080 worker=worker-1 wraps=101');
  w.forget('worker-2');
  ok(w.wrapped('worker-2', 40, 2000, T0 + 1)?.endsWith('wraps=1'), 'a forgotten worker starts over');
});
