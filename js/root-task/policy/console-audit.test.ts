// Console refusals on the record (issue 13, bug 10): a bad AUTH, a refused ATTACH and a worker console's denied paths each leave one audit line.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { ConsoleSessionTable } from '../../console/sessions.js';
import { frame, RecordingTransport } from '../../console/session.support.js';
import { mintTicket } from '../../tickets/token.js';
import { baseClaims } from '../../tickets/claims.js';
import { policyHive, WALL0_MS, type PolicyHive } from './policy.support.js';

function operator(h: PolicyHive, id: number, peer: string) {
  const table = new ConsoleSessionTable({ authToken: 'changeme', makeBackend: (p) => h.backends.make(`tcp:${p}`) });
  const t = new RecordingTransport();
  const s = table.accept(id, peer, t, h.clock.mono);
  ok(s !== null);
  return (line: string): string[] => {
    const n = t.lines.length;
    s.receive(frame(line), h.clock.mono);
    return t.lines.slice(n);
  };
}

const refused = (h: PolicyHive) => h.logged('[audit] refused ');

test('console audit: a bad AUTH token leaves one line naming the source and the §2 row (it left nothing before)', () => {
  const h = policyHive();
  deepEqual(operator(h, 1, '10.0.0.9:4000')('AUTH xxxxxxxx'), ['ERR AUTH reason=invalid-token']);
  deepEqual(refused(h), ['[audit] refused src=console op=auth role=- subject=tcp:10.0.0.9:4000#1 path=- reason=invalid-token']);
  ok(h.sink.includes(refused(h)[0]), 'and in the firmware log');
});

test('console audit: each refused AUTH row is the reason on the record, as the client was told (not just auth-failed)', () => {
  const h = policyHive();
  const rows = [['AUTH changeme!', 'invalid-length'], ['AUTHXchangeme', 'expected-token'], ['AUTH changemE', 'invalid-token']];
  rows.forEach(([line, row], i) => deepEqual(operator(h, i + 1, `10.0.0.9:${4100 + i}`)(line), [`ERR AUTH reason=${row}`], line));
  deepEqual(refused(h), rows.map(([, row], i) => `[audit] refused src=console op=auth role=- subject=tcp:10.0.0.9:${4100 + i}#${i + 1} path=- reason=${row}`));
});

test('console audit: a forged queen ticket on ATTACH leaves one line with the role asked for and the §3.4 detail', () => {
  const h = policyHive();
  const say = operator(h, 1, '10.0.0.9:4001');
  deepEqual(say('AUTH changeme'), ['OK AUTH']);
  const forged = mintTicket(baseClaims('queen', BigInt(WALL0_MS)), 'not-the-secret') as string;
  deepEqual(say(`ATTACH queen ${forged}`), ['ERR ATTACH reason=policy detail=denied']);
  deepEqual(refused(h), ['[audit] refused src=console op=attach role=queen subject=tcp:10.0.0.9:4001#1 path=- reason=denied']);
});

test('console audit: a worker console reaching for /queen/ctl and another worker is refused on the record, once per refusal', () => {
  const h = policyHive();
  const q = operator(h, 1, '10.0.0.9:4002');
  q('AUTH changeme');
  q('attach queen');
  q('spawn {"spawn":"heartbeat","ticks":10}');
  q('spawn {"spawn":"heartbeat","ticks":10}');
  const w = operator(h, 2, '10.0.0.9:4003');
  w('AUTH changeme');
  deepEqual(w(`attach worker ${h.tasks.byLabel('worker-1').args.ticket}`), ['OK ATTACH role=worker-heartbeat']);
  equal(w('echo /queen/ctl {"spawn":"heartbeat","ticks":1}')[0], 'ERR ECHO reason=policy detail=denied');
  equal(w('cat /worker/worker-2/telemetry')[0], 'ERR CAT reason=policy detail=denied path=/worker/worker-2/telemetry error=EPERM');
  equal(w('spawn {"spawn":"heartbeat","ticks":1}')[0], 'ERR SPAWN reason=policy detail=unauthenticated');
  deepEqual(refused(h), [
    '[audit] refused src=console op=echo role=worker-heartbeat subject=worker-1 path=/queen/ctl reason=permission',
    '[audit] refused src=9p op=walk role=worker-heartbeat subject=worker-1 path=/shard/1c reason=permission',
    '[audit] refused src=console op=spawn role=worker-heartbeat subject=worker-1 path=- reason=queen-only',
  ]);
});
