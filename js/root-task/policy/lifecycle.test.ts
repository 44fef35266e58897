// Lifecycle (spec §9): every command in every state, the outstanding-worker rule, audit lines, gates, and what NineDoor shows.
import { test, equal, ok, deepEqual } from '../../testkit/index.js';
import { Errno, NineError } from '../../secure9p/errors.js';
import { refused, wrote } from '../../ninedoor/door.support.js';
import type { LifecycleState } from '../../ninedoor/gates.js';
import { decideLifecycle, LIFECYCLE_COMMANDS } from './lifecycle.js';
import { ctl, lifecycle, policyHive, type PolicyHive } from './policy.support.js';

const STATES: readonly LifecycleState[] = ['BOOTING', 'DEGRADED', 'ONLINE', 'DRAINING', 'QUIESCED', 'OFFLINE'];
/** Spec §9's table written out: target state, `*` = needs 0 outstanding workers, `-` = invalid transition. */
const EXPECT: Record<string, Record<LifecycleState, string>> = {
  cordon: { BOOTING: '-', DEGRADED: 'DRAINING', ONLINE: 'DRAINING', DRAINING: '-', QUIESCED: '-', OFFLINE: '-' },
  drain: { BOOTING: '-', DEGRADED: '-', ONLINE: '-', DRAINING: 'QUIESCED*', QUIESCED: '-', OFFLINE: '-' },
  quiesce: { BOOTING: '-', DEGRADED: 'QUIESCED*', ONLINE: 'QUIESCED*', DRAINING: 'QUIESCED*', QUIESCED: '-', OFFLINE: '-' },
  resume: { BOOTING: 'ONLINE', DEGRADED: 'ONLINE', ONLINE: '-', DRAINING: 'ONLINE', QUIESCED: 'ONLINE', OFFLINE: 'ONLINE' },
  reset: { BOOTING: '-', DEGRADED: 'BOOTING*', ONLINE: 'BOOTING*', DRAINING: 'BOOTING*', QUIESCED: 'BOOTING*', OFFLINE: 'BOOTING*' },
};

test('lifecycle matrix (pure): every command × state × outstanding 0/2 gives the §9 row, the exact line and error kind', () => {
  let cases = 0;
  for (const cmd of LIFECYCLE_COMMANDS) {
    for (const s of STATES) {
      for (const outstanding of [0, 2]) {
        const want = EXPECT[cmd][s];
        const d = decideLifecycle(cmd, s, outstanding);
        const what = `${cmd} in ${s} with ${outstanding}`;
        cases++;
        if (want === '-') {
          ok(d.kind === 'denied', what);
          equal(d.line, `lifecycle denied action=${cmd} state=${s} reason=invalid-transition`, what);
          equal(d.error.code, 'Invalid', what);
        } else if (want.endsWith('*') && outstanding > 0) {
          ok(d.kind === 'denied', what);
          equal(d.line, `lifecycle denied action=${cmd} state=${s} reason=outstanding-leases leases=2`, what);
          equal(d.error.code, 'Busy', what);
        } else {
          ok(d.kind === 'transition', what);
          equal(d.to, want.replace('*', ''), what);
          equal(d.line, `lifecycle transition old=${s} new=${d.to} reason=${cmd}`, what);
        }
      }
    }
  }
  equal(cases, 60);
});

test('lifecycle: words match in any case with surrounding whitespace; anything else is invalid-command', () => {
  ok(decideLifecycle('  CoRdOn\n', 'ONLINE', 0).kind === 'transition');
  for (const [text, action] of [['explode', 'explode'], ['cordon now', 'cordon_now'], ['', '-'], ['degrade', 'degrade'], ['offline', 'offline']]) {
    const d = decideLifecycle(text, 'ONLINE', 0);
    ok(d.kind === 'denied' && d.error.code === 'Invalid', text);
    equal(d.line, `lifecycle denied action=${action} state=ONLINE reason=invalid-command`);
  }
});

/** Puts a fresh hive in a state through the paths root-task really takes. */
function inState(s: LifecycleState, workers = 0): PolicyHive {
  const h = policyHive({ boot: s !== 'BOOTING' });
  for (let i = 0; i < workers; i++) wrote(ctl(h, '{"spawn":"heartbeat","ticks":10}'), 32);
  if (s === 'DEGRADED' || s === 'OFFLINE') h.hive.setCondition(s, 'test');
  if (s === 'DRAINING') wrote(lifecycle(h, 'cordon'), 6);
  if (s === 'QUIESCED') wrote(lifecycle(h, 'quiesce'), 7);
  equal(h.hive.lifecycleState(), s, 'setup');
  return h;
}

test('lifecycle matrix (HiveControl over 9P): each command in each state → Rwrite or EINVAL/EBUSY, the log line, /proc/lifecycle', () => {
  for (const cmd of LIFECYCLE_COMMANDS) {
    for (const s of STATES) {
      const h = inState(s);
      const want = EXPECT[cmd][s];
      const r = lifecycle(h, `${cmd}\n`);
      const q = h.client();
      const what = `${cmd} in ${s}`;
      if (want === '-') {
        refused(r, Errno.EINVAL, what);
        equal(h.door.logLines().at(-1), `lifecycle denied action=${cmd} state=${s} reason=invalid-transition`, what);
        equal(q.cat('/proc/lifecycle/state'), `state=${s}\n`, `${what}: unchanged`);
      } else {
        const to = want.replace('*', '');
        wrote(r, cmd.length + 1, what);
        equal(h.door.logLines().at(-1), `lifecycle transition old=${s} new=${to} reason=${cmd}`, what);
        equal(q.cat('/proc/lifecycle/state'), `state=${to}\n`, what);
        equal(q.cat('/proc/lifecycle/reason'), `reason=${cmd}\n`, what);
        equal(q.cat('/proc/lifecycle/since'), `since_ms=${h.clock.wall}\n`, what);
      }
    }
  }
});

test('lifecycle: outstanding workers refuse drain/quiesce/reset with EBUSY and the outstanding-leases line; state unchanged', () => {
  for (const s of ['ONLINE', 'DEGRADED', 'DRAINING', 'OFFLINE'] as const) {
    for (const cmd of LIFECYCLE_COMMANDS) {
      if (!EXPECT[cmd][s].endsWith('*')) continue;
      const h = inState(s, 2);
      refused(lifecycle(h, cmd), Errno.EBUSY, `${cmd} in ${s}`);
      equal(h.door.logLines().at(-1), `lifecycle denied action=${cmd} state=${s} reason=outstanding-leases leases=2`);
      equal(h.hive.lifecycleState(), s);
    }
  }
});

test('lifecycle: operator kills the workers and the refused quiesce then passes (spec §15)', () => {
  const h = inState('ONLINE', 1);
  refused(lifecycle(h, 'quiesce'), Errno.EBUSY);
  wrote(ctl(h, '{"kill":"worker-1"}'), 19);
  wrote(lifecycle(h, 'quiesce'), 7);
  equal(h.hive.lifecycleState(), 'QUIESCED');
});

test('lifecycle: boot-complete is the automatic BOOTING → ONLINE, once', () => {
  const h = policyHive({ boot: false });
  equal(h.client().cat('/proc/lifecycle/state'), 'state=BOOTING\n');
  h.hive.bootComplete();
  h.hive.bootComplete();
  deepEqual(h.logged('lifecycle'), ['lifecycle transition old=BOOTING new=ONLINE reason=boot-complete']);
  equal(h.client().cat('/proc/lifecycle/reason'), 'reason=boot-complete\n');
});

test('lifecycle: a worker writing /queen/lifecycle/ctl is refused EPERM by NineDoor; HiveControl refuses a non-queen itself too', () => {
  const h = policyHive();
  wrote(ctl(h, '{"spawn":"heartbeat","ticks":10}'), 32);
  const w = h.client('', h.tasks.byLabel('worker-1').args.ticket);
  equal(w.attachReply.kind, 'Rattach');
  refused(lifecycle(h, 'cordon', w), Errno.EPERM);
  const r = h.hive.lifecycleCtl('cordon', { who: { role: 'worker-heartbeat', identity: 'worker-1', claims: null }, session: w.ns });
  ok(r instanceof NineError && r.code === 'Permission');
  equal(h.hive.lifecycleState(), 'ONLINE');
});

test('lifecycle gates: spawn, bind and mount are refused EPERM with the gate line outside ONLINE/DEGRADED; kill and budget are not gated', () => {
  for (const s of STATES) {
    const h = inState(s, s === 'ONLINE' || s === 'DEGRADED' || s === 'DRAINING' || s === 'OFFLINE' ? 1 : 0);
    const open = s === 'ONLINE' || s === 'DEGRADED';
    const gateLine = `lifecycle denied action=new-work state=${s} reason=gate-denied`;
    for (const line of ['{"spawn":"heartbeat","ticks":1}', '{"bind":{"from":"/log","to":"/proc/l"}}', '{"mount":{"service":"logs","at":"/proc/m"}}']) {
      const r = ctl(h, line);
      if (open) equal(r.kind, 'Rwrite', `${line} in ${s}`);
      else {
        refused(r, Errno.EPERM, `${line} in ${s}`);
        equal(h.door.logLines().at(-1), gateLine, `${line} in ${s}`);
      }
    }
    wrote(ctl(h, '{"budget":{"ops":5}}'), 20, `budget in ${s}`);
    if (h.hive.workerList().length > 0) wrote(ctl(h, '{"kill":"worker-1"}'), 19, `kill in ${s}`);
  }
});
