// /proc/tests (spec §4.6, §6): three scripts, queen only, read-only; the full script names the id the next spawn gets; job lines from the lease holder only.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { Errno } from '../secure9p/errors.js';
import { OpenFlag } from '../secure9p/opcodes.js';
import { hive, jobLine, refused, ticket, wrote } from './door.support.js';
import { SELFTEST_NAMES } from './selftests.js';

test('ninedoor /proc/tests: the queen lists and reads the three scripts; they are read-only', () => {
  const q = hive().client();
  deepEqual(q.ls('/proc/tests'), [...SELFTEST_NAMES]);
  for (const name of SELFTEST_NAMES) {
    const t = q.cat(`/proc/tests/${name}`);
    ok(typeof t === 'string' && t.includes('EXPECT'), `${name} is a script`);
    refused(q.open(`/proc/tests/${name}`, OpenFlag.WRONLY), Errno.EPERM, `${name} write`);
  }
  const quick = q.cat('/proc/tests/selftest_quick.coh') as string;
  ok(!/^(spawn|kill) /m.test(quick), 'quick changes nothing');
  ok((q.cat('/proc/tests/selftest_negative.coh') as string).split('\n').filter((l) => l.startsWith('EXPECT ERR')).length >= 4);
});

test('ninedoor /proc/tests: selftest_full names the next worker id; ids are never reused', () => {
  const h = hive();
  const q = h.client();
  ok((q.cat('/proc/tests/selftest_full.coh') as string).includes('kill worker-1\n'));
  equal(h.door.addWorker('worker-1', 'heartbeat'), null);
  equal(h.door.addWorker('worker-7', 'heartbeat'), null);
  equal(h.door.removeWorker('worker-7'), null);
  const full = q.cat('/proc/tests/selftest_full.coh') as string;
  ok(full.includes('spawn heartbeat ticks=5\n') && full.includes('tail /worker/worker-8/telemetry\n') && full.includes('kill worker-8\n'), full);
});

test('ninedoor /proc/tests: workers may not walk or read it', () => {
  const h = hive();
  equal(h.door.addWorker('worker-1', 'heartbeat'), null);
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  equal(w.attachReply.kind, 'Rattach');
  refused(w.walk('/proc/tests/selftest_quick.coh'), Errno.EPERM, 'worker');
  deepEqual(w.ls('/proc'), ['boot'], 'not in the worker listing either');
});

test('ninedoor /gpu/<id>/job: only the lease holder appends; the queen and a released holder get EPERM and nothing is kept', () => {
  const h = hive();
  equal(h.door.addWorker('worker-3', 'gpu'), null);
  const q = h.client();
  refused(q.append('/gpu/GPU-0/job', `${jobLine('q1')}\n`), Errno.EPERM, 'queen, no lease');
  equal(h.door.setLease('GPU-0', 'worker-3'), null);
  refused(q.append('/gpu/GPU-0/job', `${jobLine('q2')}\n`), Errno.EPERM, 'queen, leased to worker-3');
  const g = h.client('', ticket({ role: 'worker-gpu', subject: 'worker-3' }));
  const j1 = `${jobLine('j1')}\n`;
  wrote(g.append('/gpu/GPU-0/job', j1), j1.length);
  equal(h.door.setLease('GPU-0', null), null);
  refused(g.append('/gpu/GPU-0/job', `${jobLine('j2')}\n`), Errno.EPERM, 'lease cleared');
  equal(q.cat('/gpu/GPU-0/job'), j1);
});
