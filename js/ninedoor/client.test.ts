// NineClient against NineDoor over an in-memory transport: the queen's tree, a worker's view and telemetry appends, ticket refusals, a ring read while it wraps.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Decode } from '../bytes/utf8.js';
import { NineClient, READ_ALL_STALE_RETRIES_MAX } from '../secure9p/client.js';
import { decodeFrame } from '../secure9p/codec.js';
import { Errno, NineError } from '../secure9p/errors.js';
import { hive, ticket, type Hive } from './door.support.js';
import { RING_BYTES_PER_WORKER } from './limits.js';
import type { NamespaceSession } from './nssession.js';

/** A client whose frames go to a fresh NineDoor session and whose replies come straight back. */
function connectTo(h: Hive, before: (kind: string) => void = () => {}): { c: NineClient; ns: NamespaceSession } {
  let c: NineClient | null = null;
  const ns = h.door.openSession({ send: (f) => c?.receive(f) });
  if (ns instanceof NineError) throw new Error(ns.message);
  c = new NineClient({
    send: (f) => {
      const d = decodeFrame(f);
      before(d.ok ? d.message.kind : 'undecodable');
      ns.session.handleFrame(f);
    },
    nowMs: () => h.clock.now,
  });
  return { c, ns };
}

function isErr(v: unknown, errno: number, what = ''): void {
  ok(v instanceof NineError, `${what}: expected NineError errno ${errno}, got ${String(v)}`);
  equal((v as NineError).errno, errno, what);
}

test('client on ninedoor: a ticketless queen (diod style) lists the root and reads /proc and the log', async () => {
  const h = hive();
  const { c } = connectTo(h);
  equal(await c.connect('', 'queen', 1000), 0);
  deepEqual(await c.list('/'), ['gpu', 'kmesg', 'log', 'proc', 'queen', 'shard', 'trace', 'worker']);
  deepEqual(await c.list('/log'), ['queen.log']);
  equal(await c.readText('/proc/lifecycle/state'), 'state=ONLINE\n');
  equal(await c.append('/log/queen.log', 'from the client\n'), 16);
  equal(await c.readText('/log/queen.log'), 'from the client\n');
  ok(h.sink.includes('from the client'), 'the append reached the firmware log sink');
});

test('client on ninedoor: a worker with its ticket appends telemetry and sees only its view', async () => {
  const h = hive();
  equal(h.door.addWorker('worker-1', 'heartbeat'), null);
  const { c } = connectTo(h);
  equal(await c.connect('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' })), 0);
  equal(await c.append('/worker/worker-1/telemetry', '{"tick":1}\n'), 11);
  equal(await c.append('/worker/worker-1/telemetry', '{"tick":2}\n'), 11);
  equal(await c.readText('/shard/13/worker/worker-1/telemetry'), '{"tick":1}\n{"tick":2}\n');
  deepEqual(await c.list('/proc'), ['boot']);
  isErr(await c.list('/'), Errno.EPERM, 'a worker may walk / but not list it');
  isErr(await c.readAll('/queen/ctl'), Errno.EPERM, 'queen ctl');
  isErr(await c.append('/log/queen.log', 'x\n'), Errno.EPERM, 'log append');
  deepEqual(c.openFids(), [0], 'refused helpers still clunk');
});

test('client on ninedoor: forged, expired and wrong-role tickets are refused EACCES', async () => {
  const h = hive();
  equal(h.door.addWorker('worker-1', 'heartbeat'), null);
  const good = ticket({ role: 'worker-heartbeat', subject: 'worker-1', ttlS: 5n });
  isErr(await connectTo(h).c.connect('', good.slice(0, -2) + '00'), Errno.EACCES, 'forged');
  isErr(await connectTo(h).c.connect('worker-gpu:worker-1', good), Errno.EACCES, 'wrong role');
  h.clock.now += 5000;
  isErr(await connectTo(h).c.connect('', good), Errno.EACCES, 'expired');
});

test('client on ninedoor: endSession closes the server side; the client then gets EBADF', async () => {
  const h = hive();
  const { c, ns } = connectTo(h);
  await c.connect('', 'queen');
  h.door.endSession(ns);
  isErr(await c.readAll('/proc/boot'), Errno.EBADF, 'after end');
});

/** worker-1's heartbeat records, each RECORD_BYTES long with its newline; `next` appends the next tick through the worker's own session. */
const RECORD_BYTES = 100;
function heartbeat(h: Hive): { next(): void; sent: string[] } {
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  const sent: string[] = [];
  return {
    sent,
    next() {
      const head = `{"tick":${sent.length + 1},"pad":"`;
      const rec = `${head}${'x'.repeat(RECORD_BYTES - head.length - 3)}"}\n`;
      const r = w.append('/worker/worker-1/telemetry', rec);
      ok(r.kind === 'Rwrite', `append ${JSON.stringify(r)}`);
      sent.push(rec);
    },
  };
}

test('client on ninedoor: a ring that wraps between the base getattr and the read is read again from its new base (TAIL said stale)', async () => {
  const h = hive();
  equal(h.door.addWorker('worker-1', 'heartbeat'), null);
  const beat = heartbeat(h);
  const fits = Math.floor(RING_BYTES_PER_WORKER / RECORD_BYTES);
  for (let i = 0; i < fits; i++) beat.next();
  // The heartbeat lands after readAll took the base (0) and before its first read: the oldest records go.
  let wrapOnce = true;
  const { c } = connectTo(h, (kind) => {
    if (kind !== 'Tread' || !wrapOnce) return;
    wrapOnce = false;
    for (let i = 0; i < 3; i++) beat.next();
  });
  equal(await c.connect('', 'queen'), 0);
  const got = await c.readAll('/worker/worker-1/telemetry', RING_BYTES_PER_WORKER, true);
  ok(!(got instanceof NineError), `readAll: ${String(got)}`);
  equal(utf8Decode(got), beat.sent.slice(beat.sent.length - fits).join(''), 'what the ring retains now, from a whole record');
  deepEqual(c.openFids(), [0]);
});

test('client on ninedoor: a ring that wraps before every read is an error after READ_ALL_STALE_RETRIES_MAX tries, not a loop', async () => {
  const h = hive();
  equal(h.door.addWorker('worker-1', 'heartbeat'), null);
  const beat = heartbeat(h);
  for (let i = 0; i < RING_BYTES_PER_WORKER / RECORD_BYTES; i++) beat.next();
  const sent: string[] = [];
  const { c } = connectTo(h, (kind) => {
    sent.push(kind);
    if (kind === 'Tread') for (let i = 0; i < 3; i++) beat.next();
  });
  equal(await c.connect('', 'queen'), 0);
  isErr(await c.readAll('/worker/worker-1/telemetry', RING_BYTES_PER_WORKER, true), Errno.EINVAL, 'stale every time');
  equal(sent.filter((k) => k === 'Tread').length, 1 + READ_ALL_STALE_RETRIES_MAX);
  equal(sent.filter((k) => k === 'Tgetattr').length, 1 + READ_ALL_STALE_RETRIES_MAX, 'the base, then one look per stale read retried');
  deepEqual(c.openFids(), [0], 'clunked');
});
