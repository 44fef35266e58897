// Worker rings through 9P writes (spec §10.1): offsets, wrap and stale cursors, the /worker alias and listing, gates and the tick budget.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Decode } from '../bytes/utf8.js';
import { Errno } from '../secure9p/errors.js';
import { OpenFlag } from '../secure9p/opcodes.js';
import { hive, refused, ticket, wrote } from './door.support.js';

test('ninedoor workers: addWorker creates the shard node and alias; /worker lists current ids; removeWorker takes them away', () => {
  const h = hive();
  const q = h.client();
  deepEqual(q.ls('/worker'), []);
  h.door.addWorker('worker-1', 'heartbeat');
  h.door.addWorker('worker-2', 'heartbeat');
  deepEqual(q.ls('/worker'), ['worker-1', 'worker-2']);
  deepEqual(q.ls('/shard/13/worker'), ['worker-1']);
  deepEqual(q.ls('/shard/1c/worker'), ['worker-2']);
  deepEqual(q.ls('/worker/worker-1'), ['telemetry']);
  refused({ kind: 'Rlerror', tag: 0, ecode: h.door.addWorker('worker-1', 'gpu')?.errno ?? 0 }, Errno.EBUSY, 'id taken');
  equal(h.door.removeWorker('worker-1'), null);
  deepEqual(q.ls('/worker'), ['worker-2']);
  refused(q.walk('/worker/worker-1'), Errno.ENOENT, 'gone by alias');
  refused(q.walk('/shard/13/worker/worker-1'), Errno.ENOENT, 'gone by shard');
  equal(h.door.removeWorker('worker-1')?.code, 'NotFound');
});

test('ninedoor ring: appends at next or u64 max; any other offset is EINVAL and nothing is stored', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  const fid = w.open('/worker/worker-1/telemetry', OpenFlag.WRONLY | OpenFlag.APPEND);
  ok(typeof fid === 'number');
  wrote(w.write(fid, '{"tick":1}', 0xffffffffffffffffn), 10);
  wrote(w.write(fid, '{"tick":2}\n', 11n), 11, 'at next');
  refused(w.write(fid, '{"tick":3}', 0n), Errno.EINVAL, 'offset 0 is not next');
  refused(w.write(fid, new Uint8Array([0xff])), Errno.EINVAL, 'not UTF-8');
  equal(h.client().cat('/worker/worker-1/telemetry'), '{"tick":1}\n{"tick":2}\n');
});

test('ninedoor ring: a record over 1024 bytes is EMSGSIZE with the quota line; overflow wraps with the wrap line; stale reads are EINVAL', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const q = h.client();
  refused(q.append('/worker/worker-1/telemetry', 'a'.repeat(1024)), Errno.EMSGSIZE, 'record + newline = 1025');
  equal(h.sink.at(-1), '[audit] telemetry quota reject bytes=1025 quota=1024');
  wrote(q.append('/worker/worker-1/telemetry', 'a'.repeat(999)), 999);
  wrote(q.append('/worker/worker-1/telemetry', 'b'.repeat(49)), 49);
  equal(h.sink.at(-1), '[audit] telemetry ring wrap dropped_bytes=1000 new_base=1000 worker=worker-1 wraps=1');
  const size = q.getattr('/worker/worker-1/telemetry');
  ok(size.kind === 'Rgetattr' && size.size === 50n, 'size = retained bytes: the whole first record went');
  const fid = q.open('/worker/worker-1/telemetry');
  ok(typeof fid === 'number');
  refused(q.read(fid, 10n, 10), Errno.EINVAL, 'below base');
  const tail = q.read(fid, 1000n, 100);
  ok(tail.kind === 'Rread');
  equal(utf8Decode(tail.data), 'b'.repeat(49) + '\n');
  ok(h.door.logLines().includes('[audit] telemetry ring wrap dropped_bytes=1000 new_base=1000 worker=worker-1 wraps=1'), 'audit lines land in /log/queen.log');
});

test('ninedoor ring: a closed worker-telemetry gate refuses appends with EPERM and the gate line', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const q = h.client();
  h.door.state.setLifecycle({ state: 'QUIESCED', reason: 'quiesce', sinceMs: 1 });
  refused(q.append('/worker/worker-1/telemetry', 'x'), Errno.EPERM, 'gate');
  equal(h.sink.at(-1), 'lifecycle denied action=worker-telemetry state=QUIESCED reason=gate-denied');
  equal(h.door.workerRing('worker-1')?.next(), 0, 'nothing stored');
});

test('ninedoor ring: the tick budget (min of record and ticket) revokes on the append after the last tick', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat', { ticks: 5 });
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1', ticks: 2n }));
  const fid = w.open('/worker/worker-1/telemetry', OpenFlag.WRONLY);
  ok(typeof fid === 'number');
  wrote(w.write(fid, 't1', 0xffffffffffffffffn), 2);
  wrote(w.write(fid, 't2', 0xffffffffffffffffn), 2);
  refused(w.write(fid, 't3', 0xffffffffffffffffn), Errno.EBADF, 'third tick');
  equal(h.sink.at(-1), 'revoked worker-1: tick budget exhausted');
  equal(w.ns.session.revokedReason(), 'tick budget exhausted');
  deepEqual(h.policy.revoked.map((r) => [r.who?.identity, r.reason]), [['worker-1', 'tick budget exhausted']]);
});
