// Per-session bind/mount (spec §6, §7) through /queen/ctl and the SessionView API: rewriting, listing, refusals, the new-work gate.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { Errno } from '../secure9p/errors.js';
import { hive, refused, ticket, wrote } from './door.support.js';
import { MountTable } from './binds.js';

test('ninedoor bind: a queen bind aliases a path for that session only, logs the bound line, and shows in listings', () => {
  const h = hive();
  const q = h.client();
  const other = h.client();
  wrote(q.append('/queen/ctl', '{"bind":{"from":"/proc/lifecycle","to":"/queen/lc"}}'), 52);
  equal(h.sink.at(-1), 'bound /proc/lifecycle -> /queen/lc');
  equal(q.cat('/queen/lc/state'), 'state=ONLINE\n');
  deepEqual(q.ls('/queen'), ['ctl', 'lc', 'lifecycle', 'telemetry']);
  refused(other.walk('/queen/lc'), Errno.ENOENT, 'another session does not see it');
  const a = q.getattr('/queen/lc/state');
  const b = q.getattr('/proc/lifecycle/state');
  ok(a.kind === 'Rgetattr' && b.kind === 'Rgetattr' && a.qid.path === b.qid.path, 'same node, same qid');
});

test('ninedoor bind: a bind over a path just walked takes effect at once (walk steps are remembered per mount table)', () => {
  const h = hive();
  const q = h.client();
  h.door.log('hello');
  equal(q.cat('/proc/boot'), 'Cohesix boot: root-task online\n');
  // Through SessionView, so no walk in between replaces the step remembered for /proc.
  equal(q.ns.bind('/log', '/proc'), null);
  refused(q.walk('/proc/boot'), Errno.ENOENT, '/proc now shows /log');
  equal(q.cat('/proc/queen.log'), q.cat('/log/queen.log'));
});

test('ninedoor mount: `logs` mounts /log; the longest prefix wins', () => {
  const h = hive();
  const q = h.client();
  h.door.log('hello');
  wrote(q.append('/queen/ctl', '{"mount":{"service":"logs","at":"/queen/logs"}}'), 47);
  equal(h.sink.at(-1), 'mounted logs at /queen/logs');
  equal(q.cat('/queen/logs/queen.log'), 'hello\nmounted logs at /queen/logs\n');
  wrote(q.append('/queen/ctl', '{"bind":{"from":"/proc","to":"/queen/logs/p"}}'), 46);
  equal(q.cat('/queen/logs/p/boot'), 'Cohesix boot: root-task online\n', 'the deeper mount wins over /queen/logs');
});

test('ninedoor bind: missing source and unknown service are ENOENT; relative, dot-dot and / targets are EINVAL', () => {
  const q = hive().client();
  refused(q.append('/queen/ctl', '{"bind":{"from":"/nope","to":"/queen/x"}}'), Errno.ENOENT, 'missing source');
  refused(q.append('/queen/ctl', '{"mount":{"service":"nope","at":"/queen/x"}}'), Errno.ENOENT, 'unknown service');
  refused(q.append('/queen/ctl', '{"bind":{"from":"proc","to":"/queen/x"}}'), Errno.EINVAL, 'relative');
  refused(q.append('/queen/ctl', '{"bind":{"from":"/proc/../log","to":"/queen/x"}}'), Errno.EINVAL, 'dot-dot');
  refused(q.append('/queen/ctl', '{"bind":{"from":"/proc","to":"/"}}'), Errno.EINVAL, 'over /');
  refused(q.append('/queen/ctl', '{"bind":{"from":"/proc","to":"/nope/x"}}'), Errno.ENOENT, 'target parent absent');
});

test('ninedoor bind: with new-work closed, bind and mount are EPERM with the gate line, and nothing is bound', () => {
  const h = hive();
  const q = h.client();
  h.door.state.setLifecycle({ state: 'DRAINING', reason: 'cordon', sinceMs: 0 });
  refused(q.append('/queen/ctl', '{"bind":{"from":"/proc","to":"/queen/p"}}'), Errno.EPERM);
  equal(h.sink.at(-1), 'lifecycle denied action=new-work state=DRAINING reason=gate-denied');
  refused(q.append('/queen/ctl', '{"mount":{"service":"logs","at":"/queen/l"}}'), Errno.EPERM);
  refused(q.walk('/queen/p'), Errno.ENOENT);
});

test('ninedoor bind: a worker view is checked on the rewritten path, so a ticket mount cannot widen it', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1', mountService: 'logs', mountAt: '/worker/worker-1/logs' }));
  equal(w.attachReply.kind, 'Rattach');
  deepEqual(w.ls('/worker/worker-1'), ['logs', 'telemetry']);
  equal(w.cat('/worker/worker-1/logs/queen.log'), '', 'the ticket mount maps to /log, which the view may read');
  equal(h.door.registerService('ctl', '/queen'), null);
  const w2 = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1', mountService: 'ctl', mountAt: '/worker/worker-1/q' }));
  refused(w2.walk('/worker/worker-1/q/ctl'), Errno.EPERM, 'rewritten to /queen/ctl, outside the view');
});

test('binds: the mount table rewrites by longest prefix, then the /worker alias; bounded', () => {
  const t = new MountTable();
  equal(t.add(['a'], ['proc']), null);
  equal(t.add(['a', 'b'], ['worker', 'worker-1']), null);
  deepEqual(t.rewrite(['a', 'boot']), ['proc', 'boot']);
  deepEqual(t.rewrite(['a', 'b', 'telemetry']), ['shard', '13', 'worker', 'worker-1', 'telemetry']);
  deepEqual(t.rewrite(['ab']), ['ab']);
  equal(t.add([], ['proc'])?.code, 'Invalid');
  for (let i = 2; i < 16; i++) equal(t.add([`m${i}`], ['proc']), null);
  equal(t.add(['m99'], ['proc'])?.code, 'TooBig');
  equal(t.add(['a'], ['log']), null, 'replacing an existing mount point is not a new entry');
});
