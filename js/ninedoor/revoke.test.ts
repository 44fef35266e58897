// Revocation the namespace owns (spec §8.5): removeWorker revokes its sessions; a budget revocation takes the worker's other sessions along.
import { test, equal, deepEqual } from '../testkit/index.js';
import { Errno } from '../secure9p/errors.js';
import { hive, refused, ticket } from './door.support.js';

test('ninedoor revoke: removeWorker with a reason logs once and every session of that worker gets EBADF with the reason', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  h.door.addWorker('worker-2', 'heartbeat');
  const t = ticket({ role: 'worker-heartbeat', subject: 'worker-1' });
  const a = h.client('', t);
  const b = h.client('worker-heartbeat:worker-1', t);
  const other = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-2' }));
  const q = h.client();
  h.door.log('killed worker-1');
  equal(h.door.removeWorker('worker-1', 'killed by queen'), null);
  deepEqual(h.sink.slice(-2), ['killed worker-1', 'revoked worker-1: killed by queen']);
  refused(a.walk('/proc/boot'), Errno.EBADF, 'first session');
  refused(b.walk('/proc/boot'), Errno.EBADF, 'second session');
  equal(a.ns.session.revokedReason(), 'killed by queen');
  equal(typeof other.walk('/proc/boot'), 'number', 'another worker is untouched');
  equal(typeof q.walk('/proc/boot'), 'number', 'the queen is untouched');
  equal(h.policy.revoked.length, 0, 'a revocation NineDoor made is not reported back as new');
  equal(q.cat('/proc/9p/session/active'), 'active=2 draining=0\n');
});

test('ninedoor revoke: an ops budget revocation logs once, revokes the siblings and tells root-task, which removes the worker', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat', { opsMax: 3 });
  h.policy.onRevoked = (r) => {
    if (r.who?.identity) h.door.removeWorker(r.who.identity);
  };
  const t = ticket({ role: 'worker-heartbeat', subject: 'worker-1' });
  const a = h.client('', t);
  const b = h.client('', t);
  for (let i = 0; i < 3; i++) equal(typeof a.walk('/proc'), 'number');
  refused(a.walk('/proc'), Errno.EBADF, 'fourth op');
  deepEqual(h.sink.filter((l) => l.startsWith('revoked')), ['revoked worker-1: operation budget exhausted']);
  refused(b.walk('/proc'), Errno.EBADF, 'sibling revoked too');
  equal(b.ns.session.revokedReason(), 'operation budget exhausted');
  deepEqual(h.door.workerIds(), [], 'root-task removed the record');
});

test('ninedoor revoke: the record ttl revokes with ticket ttl expired', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat', { expiresAtMs: h.clock.now + 1000 });
  const a = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  equal(typeof a.walk('/proc'), 'number');
  h.clock.now += 1000;
  refused(a.walk('/proc'), Errno.EBADF);
  equal(h.sink.at(-1), 'revoked worker-1: ticket ttl expired');
});

test('ninedoor revoke: a closed worker-attach gate refuses worker attach with EPERM and the gate line; the queen still attaches', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  h.door.state.setLifecycle({ state: 'BOOTING', reason: 'reset', sinceMs: 0 });
  refused(h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' })).attachReply, Errno.EPERM);
  equal(h.sink.at(-1), 'lifecycle denied action=worker-attach state=BOOTING reason=gate-denied');
  equal(h.client().attachReply.kind, 'Rattach');
});
