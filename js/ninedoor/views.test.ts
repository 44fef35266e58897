// Role views of spec §6 through 9P: worker-heartbeat and worker-gpu with minted tickets, allowed and refused paths with exact errno; ticket scopes.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { Errno } from '../secure9p/errors.js';
import { OpenFlag } from '../secure9p/opcodes.js';
import { hive, jobLine, refused, ticket, wrote, type Hive } from './door.support.js';

function withWorkers(): Hive {
  const h = hive();
  equal(h.door.addWorker('worker-1', 'heartbeat'), null);
  equal(h.door.addWorker('worker-2', 'heartbeat'), null);
  equal(h.door.addWorker('worker-3', 'gpu'), null);
  return h;
}

const heartbeat = (h: Hive, id = 'worker-1') => h.client('', ticket({ role: 'worker-heartbeat', subject: id }));

test('ninedoor view heartbeat: may read /proc/boot, /log/queen.log and its own telemetry, by canonical path and alias', () => {
  const h = withWorkers();
  const w = heartbeat(h);
  equal(w.attachReply.kind, 'Rattach');
  h.door.log('hello');
  equal(w.cat('/proc/boot'), 'Cohesix boot: root-task online\n');
  equal(w.cat('/log/queen.log'), 'hello\n');
  wrote(w.append('/worker/worker-1/telemetry', '{"tick":1,"ts_ms":5}'), 20);
  equal(w.cat('/shard/13/worker/worker-1/telemetry'), '{"tick":1,"ts_ms":5}\n');
  deepEqual(w.ls('/worker/worker-1'), ['telemetry']);
  deepEqual(w.ls('/proc'), ['boot'], 'a listing shows only the view');
  deepEqual(w.ls('/log'), ['queen.log']);
});

test('ninedoor view heartbeat: everything else is EPERM', () => {
  const h = withWorkers();
  const w = heartbeat(h);
  refused(w.walk('/queen'), Errno.EPERM, 'queen');
  refused(w.walk('/queen/ctl'), Errno.EPERM, 'queen ctl');
  refused(w.walk('/proc/lifecycle'), Errno.EPERM, 'lifecycle');
  refused(w.walk('/gpu'), Errno.EPERM, 'gpu');
  refused(w.walk('/worker/worker-2'), Errno.EPERM, 'another worker by alias');
  refused(w.walk('/shard/1c/worker/worker-2/telemetry'), Errno.EPERM, 'another worker by shard');
  refused(w.walk('/shard/00'), Errno.EPERM, 'another shard');
  refused(w.open('/'), Errno.EPERM, 'listing /');
  refused(w.open('/worker'), Errno.EPERM, 'listing /worker');
  refused(w.open('/log/queen.log', OpenFlag.WRONLY), Errno.EPERM, 'append to the log');
});

test('ninedoor view heartbeat: a ticket naming an unknown worker or the wrong kind is refused at attach', () => {
  const h = withWorkers();
  refused(heartbeat(h, 'worker-9').attachReply, Errno.ENOENT, 'unknown worker');
  refused(h.client('', ticket({ role: 'worker-gpu', subject: 'worker-1' })).attachReply, Errno.EINVAL, 'heartbeat id as gpu');
  refused(h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }).slice(0, -2) + '00').attachReply, Errno.EACCES, 'forged');
  refused(h.client('worker-heartbeat:worker-1', '').attachReply, Errno.EACCES, 'no ticket');
});

test('ninedoor view gpu: the lease holder walks /gpu/<leased>, reads info|status|ctl|job, writes only job', () => {
  const h = withWorkers();
  equal(h.door.setLease('GPU-0', 'worker-3'), null);
  const g = h.client('', ticket({ role: 'worker-gpu', subject: 'worker-3' }));
  equal(g.attachReply.kind, 'Rattach');
  ok(typeof g.cat('/gpu/GPU-0/info') === 'string' && (g.cat('/gpu/GPU-0/info') as string).includes('"Mock 4090"'));
  equal(g.cat('/gpu/GPU-0/ctl'), 'LEASE GPU-0\n');
  equal(g.cat('/gpu/GPU-0/status'), '');
  const job = `${jobLine('j1')}\n`;
  wrote(g.append('/gpu/GPU-0/job', job), job.length);
  equal(g.cat('/gpu/GPU-0/job'), job);
  deepEqual(h.policy.gpuLines, [`GPU-0 job ${job}`]);
  refused(g.append('/gpu/GPU-0/job', 'not json'), Errno.EINVAL, 'job lines are JSON objects');
  refused(g.open('/gpu/GPU-0/lease'), Errno.EPERM, 'lease file');
  refused(g.open('/gpu/GPU-0/ctl', OpenFlag.WRONLY), Errno.EPERM, 'ctl write');
  refused(g.open('/gpu/GPU-0/status', OpenFlag.WRONLY), Errno.EPERM, 'status write');
  refused(g.walk('/gpu/GPU-1'), Errno.EPERM, 'a GPU it does not hold');
  refused(g.open('/gpu'), Errno.EPERM, 'listing /gpu');
  refused(g.walk('/gpu/bridge/ctl'), Errno.EPERM, 'bridge');
  wrote(g.append('/worker/worker-3/telemetry', '{"job":"j1","state":"OK","detail":"completed"}'), 46);
});

test('ninedoor view gpu: releasing the lease closes the GPU subtree to the worker', () => {
  const h = withWorkers();
  h.door.setLease('GPU-1', 'worker-3');
  const g = h.client('', ticket({ role: 'worker-gpu', subject: 'worker-3' }));
  equal(typeof g.walk('/gpu/GPU-1/info'), 'number');
  refused({ kind: 'Rlerror', tag: 0, ecode: h.door.setLease('GPU-1', 'worker-1')?.errno ?? 0 }, Errno.EBUSY, 'one lease per GPU');
  h.door.setLease('GPU-1', null);
  refused(g.walk('/gpu/GPU-1/info'), Errno.EPERM, 'after release');
});

test('ninedoor scopes: a scoped queen ticket reaches only its scopes, with the ui-ticket deny line', () => {
  const h = hive();
  const t = ticket({
    role: 'queen',
    scopes: [{ path: '/log', verb: 'read', ratePerS: 2 }, { path: '/queen', verb: 'write', ratePerS: 0 }],
  });
  const q = h.client('', t);
  equal(q.attachReply.kind, 'Rattach');
  equal(q.cat('/log/queen.log'), '');
  refused(q.walk('/proc/boot'), Errno.EPERM, 'out of scope');
  equal(h.sink.at(-1), 'ui-ticket outcome=deny reason=scope role=queen ticket=- path=/proc verb=read');
  refused(q.open('/queen/ctl'), Errno.EPERM, 'write-only scope, read open');
  wrote(q.append('/queen/ctl', '{"mount":{"service":"logs","at":"/queen/l"}}'), 44);
  refused(q.open('/'), Errno.EPERM, 'walks may pass ancestors of a scope, reads may not');
});

test('ninedoor scopes: the rate is a 1 s window per scope; a read-open is one access, its reads none; over it is EMSGSIZE (ELIMIT) with the rate line', () => {
  const h = hive();
  const q = h.client('', ticket({ role: 'queen', scopes: [{ path: '/log', verb: 'read', ratePerS: 2 }] }));
  const fid = q.open('/log/queen.log'); // access 1
  ok(typeof fid === 'number');
  for (let i = 0; i < 4; i++) equal(q.read(fid).kind, 'Rread', 'reads of an open file spend no rate');
  ok(typeof q.open('/log/queen.log') === 'number', 'access 2');
  refused(q.open('/log/queen.log'), Errno.EMSGSIZE, 'third access within the second');
  equal(h.sink.at(-1), 'ui-ticket outcome=deny reason=rate role=queen ticket=- path=/log/queen.log verb=read');
  h.clock.now += 1000;
  ok(typeof q.open('/log/queen.log') === 'number', 'a new window');
});

test('ninedoor scopes: scoped ticket cat reads the first time (open, getattr, reads and the read at EOF are one access)', () => {
  // Bug: a console CAT with the spec §8.3 scope (/log read 1/s) was refused at its first read,
  // as each Tread spent the rate: open, a read per msize of content and the empty read at EOF.
  const h = hive();
  for (let i = 0; i < 40; i++) h.door.log(`line ${i} ${'x'.repeat(40)}`);
  const q = h.client('', ticket({ role: 'queen', scopes: [{ path: '/log', verb: 'read', ratePerS: 1 }] }));
  const fid = q.open('/log/queen.log');
  ok(typeof fid === 'number', 'the open is the access');
  equal(q.one({ kind: 'Tgetattr', tag: 900, fid, requestMask: 0x7ffn }).kind, 'Rgetattr');
  let off = 0n;
  let reads = 0;
  for (;;) {
    const r = q.read(fid, off, 512);
    ok(r.kind === 'Rread', `read ${reads} refused: ${JSON.stringify(r)}`);
    reads++;
    if (r.kind !== 'Rread' || r.data.length === 0) break;
    off += BigInt(r.data.length);
  }
  ok(reads > 2, 'several reads and the one at EOF');
  q.clunk(fid);
  refused(q.open('/log/queen.log'), Errno.EMSGSIZE, 'a second CAT within the second is over the rate');
  h.clock.now += 1000;
  ok(q.cat('/log/queen.log') !== '', 'the next second reads again');
});

test('ninedoor scopes: each write is one access, its write-open none', () => {
  const h = hive();
  const q = h.client('', ticket({ role: 'queen', scopes: [{ path: '/log', verb: 'write', ratePerS: 1 }] }));
  wrote(q.append('/log/queen.log', 'one\n'), 4, 'open for write, then one write: one access');
  refused(q.append('/log/queen.log', 'two\n'), Errno.EMSGSIZE, 'a second write within the second');
  equal(h.sink.at(-1), 'ui-ticket outcome=deny reason=rate role=queen ticket=- path=/log/queen.log verb=write');
});

test('ninedoor scopes: bandwidth drains by bytes moved', () => {
  const h = hive();
  for (let i = 0; i < 20; i++) h.door.log('0123456789');
  const q = h.client('', ticket({ role: 'queen', quotas: { bandwidthBytes: 150n, cursorResumes: 0, cursorAdvances: 0 } }));
  const fid = q.open('/log/queen.log');
  ok(typeof fid === 'number');
  const r = q.read(fid, 0n, 100);
  ok(r.kind === 'Rread' && r.data.length === 100);
  refused(q.read(fid, 100n, 100), Errno.EMSGSIZE, 'only 50 bytes left');
  ok(h.sink.at(-1)?.startsWith('ui-ticket outcome=deny reason=bandwidth'));
});
