// The operator transcript of issue 4, in memory: a TCP console session, HiveControl, a real NineDoor, worker tasks attached over 9P.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { ConsoleSessionTable } from '../../console/sessions.js';
import { frame, RecordingTransport } from '../../console/session.support.js';
import { wrote } from '../../ninedoor/door.support.js';
import { policyHive, type PolicyHive } from './policy.support.js';

function operator(h: PolicyHive, peer = '127.0.0.1:40000') {
  const table = new ConsoleSessionTable({ authToken: 'changeme', makeBackend: (p) => h.backends.make(p) });
  const t = new RecordingTransport();
  const s = table.accept(1, peer, t, h.clock.mono);
  ok(s !== null);
  const say = (line: string): string[] => {
    const n = t.lines.length;
    s.receive(frame(line), h.clock.mono);
    return t.lines.slice(n);
  };
  return { s, t, say, table };
}

const SHORT = '{"spawn":"heartbeat","ticks":100,"budget":{"ttl_s":5}}';
const LONG = '{"spawn":"heartbeat","ticks":100,"budget":{"ttl_s":60}}';

test('transcript: attach queen, two heartbeat workers, tail, ttl revocation, kill, empty /worker, cordon refuses spawn, resume', () => {
  const h = policyHive();
  const op = operator(h);
  const q = h.client();
  deepEqual(op.say('AUTH changeme'), ['OK AUTH']);
  deepEqual(op.say('attach queen'), ['OK ATTACH role=queen']);
  equal(q.cat('/proc/root/reachable'), 'reachable=yes\n');

  deepEqual(op.say(`spawn ${SHORT}`), [`OK SPAWN payload=${SHORT}`]);
  deepEqual(op.say(`spawn ${LONG}`), [`OK SPAWN payload=${LONG}`]);
  deepEqual(op.say('ls /worker'), ['OK LS path=/worker entries=2', 'worker-1', 'worker-2', 'END']);

  // The worker tasks attach with the tickets root-task minted and beat.
  const w1 = h.client('', h.tasks.byLabel('worker-1').args.ticket);
  const w2 = h.client('', h.tasks.byLabel('worker-2').args.ticket);
  for (const [w, id] of [[w1, 'worker-1'], [w2, 'worker-2']] as const) {
    for (let tick = 1; tick <= 2; tick++) {
      const rec = `{"tick":${tick},"ts_ms":${h.clock.wall}}`;
      wrote(w.append(`/worker/${id}/telemetry`, rec), rec.length);
    }
  }
  deepEqual(op.say('tail /worker/worker-1/telemetry'), [
    'OK TAIL path=/worker/worker-1/telemetry', `{"tick":1,"ts_ms":${h.clock.wall}}`, `{"tick":2,"ts_ms":${h.clock.wall}}`, 'END',
  ]);

  // Five seconds on, the short-ttl worker is revoked with its line.
  h.clock.advance(5000);
  h.hive.tick(h.clock.mono);
  const log = op.say('log');
  equal(log[0], 'OK LOG');
  equal(log.at(-1), 'END');
  ok(log.includes('revoked worker-1: ticket ttl expired'), JSON.stringify(log));
  deepEqual(op.say('ls /worker'), ['OK LS path=/worker entries=1', 'worker-2', 'END']);
  // One reply per outcome (issue 13 bug 4): the refusal alone, no OK TAIL before it.
  deepEqual(op.say('tail /worker/worker-1/telemetry'), [
    'ERR TAIL reason=policy detail=invalid-path path=/worker/worker-1/telemetry error=invalid path',
  ]);

  deepEqual(op.say('kill worker-2'), ['OK KILL id=worker-2']);
  deepEqual(h.door.logLines().slice(-2), ['killed worker-2', 'revoked worker-2: killed by queen']);
  deepEqual(op.say('ls /worker'), ['OK LS path=/worker entries=0', 'END']);
  deepEqual(h.tasks.live(), [], 'both worker tasks are gone');

  equal(q.cat('/proc/pressure/policy'), 'policy=1\n', 'the TAIL refusal counted');
  deepEqual(op.say('echo /queen/lifecycle/ctl cordon'), ['OK ECHO path=/queen/lifecycle/ctl bytes=6']);
  equal(h.door.logLines().at(-1), 'lifecycle transition old=ONLINE new=DRAINING reason=cordon');
  deepEqual(op.say(`spawn ${LONG}`), [`OK SPAWN payload=${LONG}`, 'ERR SPAWN reason=policy detail=denied error=EPERM']);
  equal(h.door.logLines().at(-1), 'lifecycle denied action=new-work state=DRAINING reason=gate-denied');
  equal(q.cat('/proc/pressure/policy'), 'policy=2\n', 'and the SPAWN refusal');

  deepEqual(op.say('echo /queen/lifecycle/ctl resume'), ['OK ECHO path=/queen/lifecycle/ctl bytes=6']);
  deepEqual(op.say(`spawn ${LONG}`), [`OK SPAWN payload=${LONG}`]);
  deepEqual(op.say('ls /worker'), ['OK LS path=/worker entries=1', 'worker-3', 'END'], 'ids are never reused');

  deepEqual(op.say('quit'), ['OK QUIT']);
  equal(q.cat('/proc/root/reachable'), 'reachable=no\n');
  equal(q.cat('/proc/root/cut_reason'), 'cut_reason=none\n', 'a clean quit records no cut');
});

test('transcript: a queen console lost without QUIT cuts the root (network_unreachable); a new queen attach restores it', () => {
  const h = policyHive();
  const q = h.client();
  const a = operator(h);
  a.say('AUTH changeme');
  a.say('attach queen');
  h.clock.advance(1234);
  a.say('ls /');
  equal(q.cat('/proc/root/last_seen_ms'), `last_seen_ms=${h.clock.wall}\n`);
  a.s.peerClosed();
  equal(q.cat('/proc/root/reachable'), 'reachable=no\n');
  equal(q.cat('/proc/root/cut_reason'), 'cut_reason=network_unreachable\n');
  const b = operator(h);
  b.say('AUTH changeme');
  deepEqual(b.say('attach queen'), ['OK ATTACH role=queen']);
  equal(q.cat('/proc/root/reachable'), 'reachable=yes\n');
  equal(q.cat('/proc/root/cut_reason'), 'cut_reason=none\n');
  b.s.tick(h.clock.mono + 300_001);
  equal(q.cat('/proc/root/cut_reason'), 'cut_reason=network_unreachable\n', 'idle timeout is a lost console too');
});
