// Tests for the workers' minimal appender against a real NineDoor: attach with a ticket, append to the ring, refusals.
import { test, equal, ok } from '../testkit/index.js';
import { NineError } from '../secure9p/errors.js';
import { hive, ticket } from '../ninedoor/door.support.js';
import { Appender } from './appender.js';

function connect(h: ReturnType<typeof hive>): Appender {
  let app: Appender | null = null;
  const ns = h.door.openSession({ send: (f) => app!.receive(f) });
  if (!('session' in ns)) throw new Error('no session');
  app = new Appender((f) => ns.session.handleFrame(f), () => h.clock.now);
  return app;
}

test('appender: a worker attaches with its ticket and appends records NineDoor keeps in its ring', async () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const app = connect(h);
  const t = ticket({ role: 'worker-heartbeat', subject: 'worker-1' });
  equal(await app.open(t, ['worker', 'worker-1', 'telemetry']), undefined);
  equal(await app.append('{"tick":1}\n'), undefined);
  equal(await app.append('{"tick":2}\n'), undefined);
  const text = h.client().cat('/worker/worker-1/telemetry');
  equal(text, '{"tick":1}\n{"tick":2}\n');
});

test('appender: another worker\'s ring and a forged ticket are refused with the errno', async () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  h.door.addWorker('worker-2', 'heartbeat');
  const t = ticket({ role: 'worker-heartbeat', subject: 'worker-1' });
  const other = await connect(h).open(t, ['worker', 'worker-2', 'telemetry']);
  ok(other instanceof NineError && other.code === 'Permission', String(other));
  const forged = t.slice(0, -1) + (t.endsWith('0') ? '1' : '0');
  const refused = await connect(h).open(forged, ['worker', 'worker-1', 'telemetry']);
  ok(refused instanceof NineError && refused.code === 'Permission', String(refused));
});

test('appender: a revoked worker\'s append fails Closed, and an unanswered request times out Busy', async () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const app = connect(h);
  equal(await app.open(ticket({ role: 'worker-heartbeat', subject: 'worker-1' }), ['worker', 'worker-1', 'telemetry']), undefined);
  h.door.removeWorker('worker-1', 'killed by queen');
  const r = await app.append('{"tick":3}\n');
  ok(r instanceof NineError && r.code === 'Closed', String(r));
  const silent = new Appender(() => {}, () => h.clock.now);
  const pending = silent.append('x\n');
  h.clock.now += 6000;
  silent.expire();
  const late = await pending;
  ok(late instanceof NineError && late.code === 'Busy', String(late));
});
