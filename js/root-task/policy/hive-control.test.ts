// HiveControl behind a real NineDoor: spawn, budgets, kill, ids, /queen/ctl refusals, GPU leases, ttl, faults, revocation, root facts.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { Errno, NineError } from '../../secure9p/errors.js';
import { refused, wrote } from '../../ninedoor/door.support.js';
import { verifyTicket } from '../../tickets/token.js';
import { ctl, policyHive, SECRETS, WALL0_MS, type PolicyHive } from './policy.support.js';
import { TaskSpawnError } from './ports.js';
import { utf8Length } from '../../bytes/utf8.js';

const HB = (ticks: number, budget = '') => `{"spawn":"heartbeat","ticks":${ticks}${budget === '' ? '' : `,"budget":${budget}`}}`;
const GPU = (gpu: string, extra = '') => `{"spawn":"gpu","lease":{"gpu_id":"${gpu}","mem_mb":4096,"streams":2,"ttl_s":60${extra}}}`;
const len = (s: string) => utf8Length(s);

function spawnOk(h: PolicyHive, line: string): void {
  wrote(ctl(h, line), len(line), line);
}

/** Calls queenCtl as the queen without 9P, to see the refusal value itself. */
function direct(h: PolicyHive, text: string): NineError | undefined {
  const q = h.client();
  const r = h.hive.queenCtl(text, { who: { role: 'queen', identity: null, claims: null }, session: q.ns });
  ok(!(r instanceof Promise), 'answered at once');
  return r as NineError | undefined;
}

test('hive spawn heartbeat: record, ring, task with a signed ticket carrying the budget, exact log line', () => {
  const h = policyHive();
  spawnOk(h, HB(5));
  deepEqual(h.logged('spawned'), ['spawned worker-1 ticks=5 ttl=300 ops=10000']);
  deepEqual(h.client().ls('/worker'), ['worker-1']);
  deepEqual(h.client().ls('/shard/13/worker'), ['worker-1'], 'spec §6: worker-1 → shard 13');
  const t = h.tasks.byLabel('worker-1');
  equal(t.kind, 'heartbeat');
  equal(t.args.worker_id, 'worker-1');
  equal(t.args.ticks, 5);
  const c = verifyTicket(t.args.ticket, SECRETS['worker-heartbeat']);
  ok(!('code' in c), 'ticket verifies with the worker-heartbeat secret');
  equal(c.role, 'worker-heartbeat');
  equal(c.subject, 'worker-1');
  equal(c.ticks, 5n);
  equal(c.ops, 10000n);
  equal(c.ttlS, 300n);
  equal(c.issuedAtMs, BigInt(WALL0_MS));
  const v = h.hive.workerList()[0];
  deepEqual(v.budget, { ticks: 5, ops: 10000, ttlS: 300 });
  equal(v.deadlineMs, h.clock.mono + 300_000);
});

test('hive spawn: the worker attaches to NineDoor with its ticket and appends heartbeats until its tick budget is spent', () => {
  const h = policyHive();
  spawnOk(h, HB(2));
  const w = h.client('', h.tasks.byLabel('worker-1').args.ticket);
  equal(w.attachReply.kind, 'Rattach');
  wrote(w.append('/worker/worker-1/telemetry', '{"tick":1,"ts_ms":1}'), 20);
  wrote(w.append('/worker/worker-1/telemetry', '{"tick":2,"ts_ms":2}'), 20);
  refused(w.append('/worker/worker-1/telemetry', '{"tick":3,"ts_ms":3}'), Errno.EBADF, 'third tick');
  deepEqual(h.logged('revoked'), ['revoked worker-1: tick budget exhausted'], 'one line, logged by NineDoor');
  deepEqual(h.client().ls('/worker'), [], 'root-task removed the record');
  deepEqual(h.tasks.killed, [h.tasks.byLabel('worker-1').id], 'and killed the task');
  deepEqual(h.hive.workerList(), []);
});

test('hive budgets: defaults 1000/10000/300; the budget command sets later defaults; a spawn budget replaces both, omitted = ∞', () => {
  const h = policyHive();
  deepEqual(h.hive.defaultBudget(), { ticks: 1000, ops: 10000, ttlS: 300 });
  spawnOk(h, '{"budget":{"ttl_s":30,"ops":7}}');
  equal(h.door.logLines().at(-1), 'updated default budget ttl=30 ops=7 ticks=1000');
  spawnOk(h, HB(1));
  spawnOk(h, HB(1, '{"ops":3}'));
  spawnOk(h, HB(1, '{}'));
  spawnOk(h, '{"budget":{"ttl_s":9}}');
  equal(h.door.logLines().at(-1), 'updated default budget ttl=9 ops=∞ ticks=1000');
  spawnOk(h, HB(1));
  deepEqual(h.logged('spawned'), [
    'spawned worker-1 ticks=1 ttl=30 ops=7',
    'spawned worker-2 ticks=1 ttl=∞ ops=3',
    'spawned worker-3 ticks=1 ttl=∞ ops=∞',
    'spawned worker-4 ticks=1 ttl=9 ops=∞',
  ]);
  const c = verifyTicket(h.tasks.byLabel('worker-3').args.ticket, SECRETS['worker-heartbeat']);
  ok(!('code' in c));
  equal(c.ops, null, 'unbounded ops: no ops claim');
  equal(c.ttlS, null, 'unbounded ttl: no ttl claim');
  equal(h.hive.workerList().find((w) => w.id === 'worker-3')?.deadlineMs, null);
});

test('hive ops budget: the worker session is revoked after its ops, the worker removed and its task killed', () => {
  const h = policyHive();
  spawnOk(h, HB(100, '{"ops":3}'));
  const w = h.client('', h.tasks.byLabel('worker-1').args.ticket);
  for (let i = 0; i < 3; i++) equal(typeof w.walk('/proc'), 'number');
  refused(w.walk('/proc'), Errno.EBADF);
  deepEqual(h.logged('revoked'), ['revoked worker-1: operation budget exhausted']);
  deepEqual(h.client().ls('/worker'), []);
  equal(h.tasks.killed.length, 1);
});

test('hive kill: `killed` then `revoked ...: killed by queen`, sessions revoked, task killed, ls /worker empty; unknown → ENOENT', () => {
  const h = policyHive();
  spawnOk(h, HB(10));
  const w = h.client('', h.tasks.byLabel('worker-1').args.ticket);
  wrote(ctl(h, '{"kill":"worker-1"}'), 19);
  deepEqual(h.logged('killed', 'revoked'), ['killed worker-1', 'revoked worker-1: killed by queen']);
  refused(w.walk('/proc'), Errno.EBADF, 'its session is revoked');
  deepEqual(h.tasks.killed, [h.tasks.byLabel('worker-1').id]);
  deepEqual(h.client().ls('/worker'), []);
  refused(ctl(h, '{"kill":"worker-1"}'), Errno.ENOENT, 'again');
  const e = direct(h, '{"kill":"worker-9"}');
  ok(e instanceof NineError);
  equal(e.code, 'NotFound');
  equal(e.message, 'unknown worker worker-9');
});

test('hive ids: worker-<n> from 1, never reused after kill, not burnt by a refused line, burnt by a failed task spawn (§17.14)', () => {
  const h = policyHive();
  spawnOk(h, HB(1));
  wrote(ctl(h, '{"kill":"worker-1"}'), 19);
  refused(ctl(h, '{"spawn":"heartbeat"}'), Errno.EINVAL);
  refused(ctl(h, GPU('GPU-9')), Errno.ENOENT);
  spawnOk(h, HB(1));
  h.tasks.failNext = new TaskSpawnError('Quota', 'no arena for worker-heartbeat');
  refused(ctl(h, HB(1)), Errno.EBUSY, 'task spawn failed');
  equal(h.door.logLines().at(-1), 'spawn failed worker-3: Quota no arena for worker-heartbeat');
  deepEqual(h.client().ls('/worker'), ['worker-2'], 'the failed worker left no record');
  h.tasks.failNext = new Error('task table full');
  refused(ctl(h, HB(1)), Errno.EBUSY, 'a throwing TaskCap too');
  spawnOk(h, HB(1));
  deepEqual(h.logged('spawned').map((l) => l.split(' ')[1]), ['worker-1', 'worker-2', 'worker-5']);
});

test('hive /queen/ctl refusals over 9P: Invalid → EINVAL, NotFound → ENOENT, Busy → EBUSY, gate → EPERM, worker → EPERM; nothing applied', () => {
  const h = policyHive({ liveWorkersMax: 2 });
  const before = h.door.logLines().length;
  for (const bad of [
    '{"spawn":"heartbeat",', '{"spawn":"heartbeat","ticks":1,"x":1}', '{"spawn":"heartbeat"}', '{"spawn":"gpu"}',
    GPU('GPU-0', ',"streams":0').replace('"streams":2,', ''), '{"bind":{"from":"log","to":"/x"}}', '{"bind":{"from":"/log/..","to":"/x"}}',
    '{"mount":{"service":"logs","at":"/"}}', '\xff',
  ]) refused(ctl(h, bad), Errno.EINVAL, bad);
  refused(ctl(h, '{"kill":"worker-1"}'), Errno.ENOENT, 'unknown worker');
  refused(ctl(h, GPU('GPU-7')), Errno.ENOENT, 'unknown GPU');
  refused(ctl(h, '{"bind":{"from":"/nope","to":"/x"}}'), Errno.ENOENT, 'missing bind source');
  refused(ctl(h, '{"mount":{"service":"nope","at":"/x"}}'), Errno.ENOENT, 'unknown service');
  equal(h.door.logLines().length, before, 'no log line for any of these');
  spawnOk(h, GPU('GPU-0'));
  refused(ctl(h, GPU('GPU-0')), Errno.EBUSY, 'GPU already leased');
  spawnOk(h, HB(1));
  refused(ctl(h, HB(1)), Errno.EBUSY, 'worker table full');
  const w = h.client('', h.tasks.byLabel('worker-2').args.ticket);
  refused(ctl(h, HB(1), w), Errno.EPERM, 'a worker may not write /queen/ctl');
  deepEqual(h.hive.workerList().map((x) => x.id), ['worker-1', 'worker-2']);
});

test('hive /queen/ctl refusals as values: the code and message each case gets', () => {
  const h = policyHive({ liveWorkersMax: 2 });
  const cases: Array<[string, string, string]> = [
    ['{"spawn":"heartbeat"}', 'Invalid', 'invalid payload: missing ticks'],
    ['{"kill":"worker-4"}', 'NotFound', 'unknown worker worker-4'],
    [GPU('GPU-5'), 'NotFound', 'unknown GPU GPU-5'],
    ['{"bind":{"from":"/nope","to":"/x"}}', 'NotFound', 'bind source /nope does not exist'],
    ['{"mount":{"service":"nope","at":"/x"}}', 'NotFound', 'unknown service nope'],
  ];
  for (const [line, code, message] of cases) {
    const e = direct(h, line);
    ok(e instanceof NineError, line);
    equal(`${e.code}: ${e.message}`, `${code}: ${message}`, line);
  }
  equal(direct(h, GPU('GPU-1')), undefined);
  const busy = direct(h, GPU('GPU-1'));
  equal(`${busy?.code}: ${busy?.message}`, 'Busy: GPU GPU-1 already leased to worker-1');
  equal(direct(h, HB(1)), undefined);
  const full = direct(h, HB(1));
  equal(`${full?.code}: ${full?.message}`, 'Busy: worker table full (2 live workers)');
  h.hive.setCondition('OFFLINE', 'test');
  const gate = direct(h, HB(1));
  equal(`${gate?.code}: ${gate?.message}`, 'Permission: lifecycle denied action=new-work state=OFFLINE reason=gate-denied');
  const r = h.hive.queenCtl(HB(1), { who: { role: 'worker-gpu', identity: 'worker-1', claims: null }, session: h.client().ns });
  ok(r instanceof NineError && r.code === 'Permission');
});

test('hive multi-line /queen/ctl: lines apply in order, the first failure stops the rest, earlier lines stay applied', () => {
  const h = policyHive();
  const text = `${HB(1)}\n\n${HB(2)}\n{"spawn":"heartbeat"}\n${HB(3)}\n`;
  refused(ctl(h, text), Errno.EINVAL);
  deepEqual(h.logged('spawned'), ['spawned worker-1 ticks=1 ttl=300 ops=10000', 'spawned worker-2 ticks=2 ttl=300 ops=10000']);
  deepEqual(h.client().ls('/worker'), ['worker-1', 'worker-2']);
  const ok2 = `{"budget":{"ops":1}}\n${HB(4)}\n{"kill":"worker-1"}`;
  wrote(ctl(h, ok2), len(ok2), 'a good multi-line write returns the full byte count');
  deepEqual(h.client().ls('/worker'), ['worker-2', 'worker-3']);
});

test('hive bind and mount go to the writing session: `bound`/`mounted` lines, and the alias works for that session only', () => {
  const h = policyHive();
  const q = h.client();
  const bind = '{"bind":{"from":"/log","to":"/proc/l"}}';
  const mount = '{"mount":{"service":"logs","at":"/proc/m"}}';
  wrote(ctl(h, bind, q), len(bind));
  wrote(ctl(h, mount, q), len(mount));
  deepEqual(h.door.logLines().slice(-2), ['bound /log -> /proc/l', 'mounted logs at /proc/m']);
  deepEqual(q.ls('/proc/l'), ['queen.log']);
  deepEqual(q.ls('/proc/m'), ['queen.log']);
  refused(h.client().walk('/proc/l'), Errno.ENOENT, 'another session does not see it');
});

test('hive GPU lease: grant lines, busy, unknown, release on kill with RELEASE/RELEASED/LEASE-ENDED; the GPU can be leased again', () => {
  const h = policyHive();
  spawnOk(h, GPU('GPU-0', ',"priority":3'));
  equal(h.door.logLines().at(-1), 'spawned worker-1 gpu=GPU-0 ttl=60 streams=2');
  const q = h.client();
  equal(q.cat('/gpu/GPU-0/ctl'), 'LEASE GPU-0\nLEASE worker-1 mem=4096 streams=2 priority=3\n');
  const active = '{"schema":"gpu-lease/v1","state":"ACTIVE","gpu_id":"GPU-0","worker_id":"worker-1","mem_mb":4096,"streams":2,"ttl_s":60,"priority":3}';
  equal(q.cat('/gpu/GPU-0/lease'), `${active}\n`);
  equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-1');
  const t = h.tasks.byLabel('worker-1');
  equal(t.kind, 'gpu');
  deepEqual(t.args.lease, { gpu_id: 'GPU-0', mem_mb: 4096, streams: 2, ttl_s: 60, priority: 3 });
  const c = verifyTicket(t.args.ticket, SECRETS['worker-gpu']);
  ok(!('code' in c));
  equal(c.role, 'worker-gpu');
  equal(c.ttlS, 60n, 'budget ttl = lease ttl_s');
  equal(c.ops, 16n, 'budget ops = streams × 8');
  // The holder sees its GPU.
  const w = h.client('', t.args.ticket);
  equal(typeof w.cat('/gpu/GPU-0/info'), 'string');
  refused(ctl(h, GPU('GPU-0')), Errno.EBUSY);
  refused(ctl(h, GPU('GPU-3')), Errno.ENOENT);
  wrote(ctl(h, '{"kill":"worker-1"}'), 19);
  equal(q.cat('/gpu/GPU-0/ctl'), 'LEASE GPU-0\nLEASE worker-1 mem=4096 streams=2 priority=3\nRELEASE worker-1 killed by queen\n');
  equal(q.cat('/gpu/GPU-0/lease'), `${active}\n${active.replace('ACTIVE', 'RELEASED')}\n`);
  equal(q.cat('/gpu/GPU-0/status'), '{"job":"worker-1","state":"LEASE-ENDED","detail":"killed by queen"}\n');
  equal(h.door.gpu.leaseHolder('GPU-0'), null);
  spawnOk(h, GPU('GPU-0'));
  equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-2');
});

test('hive GPU budget members override the lease-derived values', () => {
  const h = policyHive();
  spawnOk(h, GPU('GPU-1').replace('}}', '},"budget":{"ttl_s":10}}'));
  equal(h.door.logLines().at(-1), 'spawned worker-1 gpu=GPU-1 ttl=10 streams=2');
  deepEqual(h.hive.workerList()[0].budget, { ticks: null, ttlS: 10, ops: 16 });
});

test('hive GPU: a failed task spawn releases the lease it had granted', () => {
  const h = policyHive();
  h.tasks.failNext = new TaskSpawnError('Busy', 'task table full');
  refused(ctl(h, GPU('GPU-0')), Errno.EBUSY);
  equal(h.door.gpu.leaseHolder('GPU-0'), null);
  ok(String(h.client().cat('/gpu/GPU-0/status')).includes('"detail":"spawn failed"'));
  spawnOk(h, GPU('GPU-0'));
});

test('hive ttl: tick revokes the expired worker with `ticket ttl expired`, kills its task and releases its lease; nextDeadlineMs says when', () => {
  const h = policyHive();
  spawnOk(h, HB(10, '{"ttl_s":5}'));
  spawnOk(h, GPU('GPU-1'));
  equal(h.hive.nextDeadlineMs(), h.clock.mono + 5000);
  h.clock.advance(4999);
  h.hive.tick(h.clock.mono);
  deepEqual(h.logged('revoked'), []);
  h.clock.advance(1);
  h.hive.tick(h.clock.mono);
  deepEqual(h.logged('revoked'), ['revoked worker-1: ticket ttl expired']);
  deepEqual(h.client().ls('/worker'), ['worker-2']);
  deepEqual(h.tasks.killed, [h.tasks.byLabel('worker-1').id]);
  h.clock.advance(55_000);
  h.hive.tick(h.clock.mono);
  equal(h.door.logLines().at(-1), 'revoked worker-2: ticket ttl expired');
  equal(h.door.gpu.leaseHolder('GPU-1'), null);
  ok(String(h.client().cat('/gpu/GPU-1/ctl')).endsWith('RELEASE worker-2 ticket ttl expired\n'));
  equal(h.hive.nextDeadlineMs(), null);
});

test('hive ttl: when NineDoor revokes first (an op after expiry), root-task removes the worker without a second line', () => {
  const h = policyHive();
  spawnOk(h, HB(10, '{"ttl_s":5}'));
  const w = h.client('', h.tasks.byLabel('worker-1').args.ticket);
  h.clock.advance(5000);
  refused(w.walk('/proc'), Errno.EBADF);
  h.hive.tick(h.clock.mono);
  deepEqual(h.logged('revoked'), ['revoked worker-1: ticket ttl expired']);
  deepEqual(h.hive.workerList(), []);
  equal(h.tasks.killed.length, 1);
});

test('hive worker fault: quota/cpu faults revoke with a reason, kill the task, release the lease; other tasks are not ours', () => {
  const h = policyHive();
  spawnOk(h, HB(10));
  spawnOk(h, GPU('GPU-0'));
  const a = h.tasks.byLabel('worker-1').id;
  const b = h.tasks.byLabel('worker-2').id;
  equal(h.hive.workerFaulted(a, 'quota', 'arena 262144 bytes exhausted'), true);
  equal(h.hive.workerFaulted(b, 'cpu', 'slice 20 ms overrun'), true);
  deepEqual(h.logged('revoked'), ['revoked worker-1: memory quota exceeded', 'revoked worker-2: cpu budget exceeded']);
  deepEqual(h.tasks.killed, [a, b]);
  deepEqual(h.client().ls('/worker'), []);
  equal(h.door.gpu.leaseHolder('GPU-0'), null);
  equal(h.hive.workerFaulted(a, 'quota', 'again'), false, 'already gone');
  equal(h.hive.workerFaulted(3, 'stack', 'console task'), false, 'not a worker');
});

test('hive sessionRevoked for a queen sets cut_reason=session_revoked', () => {
  const h = policyHive();
  h.hive.sessionRevoked({ sessionId: 1, who: { role: 'queen', identity: null, claims: null }, reason: 'operation budget exhausted' });
  equal(h.client().cat('/proc/root/cut_reason'), 'cut_reason=session_revoked\n');
});

test('hive NineDoor state mirrors root-task: BOOTING before boot-complete, gates closed there', () => {
  const h = policyHive({ boot: false });
  equal(h.client().cat('/proc/lifecycle/state'), 'state=BOOTING\n');
  refused(ctl(h, HB(1)), Errno.EPERM);
  equal(h.door.logLines().at(-1), 'lifecycle denied action=new-work state=BOOTING reason=gate-denied');
  equal(h.client().cat('/proc/root/reachable'), 'reachable=no\n');
  equal(h.client().cat('/proc/pressure/busy'), 'busy=0\n');
});
