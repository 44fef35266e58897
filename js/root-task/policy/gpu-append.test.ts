// HiveControl.gpuAppend behind a real NineDoor (spec §11.2, §11.4): a queen RELEASE clears the holder, jobs from the holder only, lease ttl_s ends a lease whose worker lives on.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { Errno, NineError } from '../../secure9p/errors.js';
import { jobLine, refused, wrote } from '../../ninedoor/door.support.js';
import { ctl, policyHive, type PolicyHive } from './policy.support.js';
import { LEASE_TTL } from './hive-control.js';

const GPU = (gpu: string, ttl = 60, extra = '') => `{"spawn":"gpu","lease":{"gpu_id":"${gpu}","mem_mb":4096,"streams":2,"ttl_s":${ttl}}${extra}}`;
// A whole §11.4 descriptor: NineDoor checks job lines on write (issue 13 bug 11).
const JOB = `${jobLine('j1')}\n`;

function spawnGpu(h: PolicyHive, line: string) {
  const r = ctl(h, line);
  equal(r.kind, 'Rwrite', line);
  const t = h.tasks.spawned.at(-1)!;
  return h.client('', t.args.ticket);
}

test('hive gpuAppend: the holder\'s job lines are accepted; another worker, the queen, or no lease → EPERM', () => {
  const h = policyHive();
  const w = spawnGpu(h, GPU('GPU-0'));
  wrote(w.append('/gpu/GPU-0/job', JOB), JOB.length);
  const q = h.client();
  refused(q.append('/gpu/GPU-0/job', JOB), Errno.EPERM, 'queen');
  const queen = { role: 'queen' as const, identity: null, claims: null };
  ok(h.hive.gpuAppend('GPU-0', 'job', JOB, queen) instanceof NineError, 'the policy refuses it too');
  ok(h.hive.gpuAppend('GPU-1', 'job', JOB, { role: 'worker-gpu', identity: 'worker-1', claims: null }) instanceof NineError, 'not its GPU');
  equal(h.hive.gpuAppend('GPU-0', 'job', JOB, { role: 'worker-gpu', identity: 'worker-1', claims: null }), undefined);
});

test('hive gpuAppend: a queen `RELEASE <holder> <reason>` clears the holder (job writes EPERM), logs, and frees the GPU; the worker lives on', () => {
  const h = policyHive();
  const w = spawnGpu(h, GPU('GPU-0'));
  const q = h.client();
  wrote(q.append('/gpu/GPU-0/ctl', 'RELEASE worker-9 ttl-expired\n'), 29);
  equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-1', 'a RELEASE for another worker does nothing');
  wrote(q.append('/gpu/GPU-0/ctl', 'RELEASE worker-1 ttl-expired\n'), 29);
  equal(h.door.gpu.leaseHolder('GPU-0'), null);
  equal(h.door.logLines().at(-1), 'released GPU-0 from worker-1: ttl-expired');
  refused(w.append('/gpu/GPU-0/job', JOB), Errno.EPERM, 'released holder');
  deepEqual(h.client().ls('/worker'), ['worker-1'], 'the worker stays until killed or its ttl');
  // The GPU can be leased again; a later kill of worker-1 writes no second release.
  spawnGpu(h, GPU('GPU-0'));
  equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-2');
  wrote(ctl(h, '{"kill":"worker-1"}'), 19);
  ok(!String(q.cat('/gpu/GPU-0/ctl')).includes('RELEASE worker-1 killed'), 'no release lines for a lease already ended');
  equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-2');
});

test('hive gpuAppend: ctl lines from a worker are refused; other queen ctl lines are kept and not acted on', () => {
  const h = policyHive();
  spawnGpu(h, GPU('GPU-0'));
  ok(h.hive.gpuAppend('GPU-0', 'ctl', 'RELEASE worker-1 x', { role: 'worker-gpu', identity: 'worker-1', claims: null }) instanceof NineError);
  wrote(h.client().append('/gpu/GPU-0/ctl', 'NOTE hello\n'), 11);
  equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-1');
});

test('hive lease ttl: a budget ttl past the lease ttl_s ends the lease at ttl_s with RELEASE/RELEASED/LEASE-ENDED; the worker stays', () => {
  const h = policyHive();
  spawnGpu(h, GPU('GPU-1', 5, ',"budget":{"ttl_s":100}'));
  equal(h.hive.nextDeadlineMs(), h.clock.mono + 5000);
  h.clock.advance(5000);
  h.hive.tick(h.clock.mono);
  equal(h.door.gpu.leaseHolder('GPU-1'), null);
  const q = h.client();
  ok(String(q.cat('/gpu/GPU-1/ctl')).endsWith(`RELEASE worker-1 ${LEASE_TTL}\n`));
  ok(String(q.cat('/gpu/GPU-1/lease')).includes('"state":"RELEASED"'));
  ok(String(q.cat('/gpu/GPU-1/status')).includes(`"detail":"${LEASE_TTL}"`));
  deepEqual(q.ls('/worker'), ['worker-1']);
  equal(h.hive.nextDeadlineMs(), h.clock.mono + 95_000, 'next is the budget ttl');
});
