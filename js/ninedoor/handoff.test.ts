// NineDoor's hot-reload handoff: what one code exports, a fresh NineDoor imports through JSON text, and bad handoffs are refused by field.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { NineError } from '../secure9p/errors.js';
import { decodeHandoff, encodeHandoff, HANDOFF_SCHEMA } from './handoff.js';
import { hive, ticket } from './door.support.js';
import { utf8Encode } from '../bytes/utf8.js';

/** JSON text and back: exactly what crosses between the two runtimes. */
function acrossRuntimes(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

test('ninedoor handoff: log, facts, workers with rings, GPU leases and jobs cross to a fresh NineDoor', () => {
  const a = hive({ mockGpus: true });
  a.door.log('operator line');
  a.door.state.setLifecycle({ state: 'ONLINE', reason: 'boot-complete', sinceMs: 5 });
  a.door.state.setPressure({ busy: 1, quota: 2, cut: 3, policy: 4 });
  equal(a.door.addWorker('worker-7', 'heartbeat', { opsMax: 9000, ticks: 500 }), null);
  equal(a.door.addWorker('worker-8', 'gpu'), null);
  const w = a.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-7' }));
  for (let i = 1; i <= 100; i++) equal(w.append('/worker/worker-7/telemetry', `{"tick":${i}}\n`).kind, 'Rwrite');
  const ring = a.door.workerRing('worker-7')!;
  ok(ring.base() > 0, 'the ring wrapped, so base is past 0');
  equal(a.door.setLease('GPU-0', 'worker-8'), null);
  equal(a.door.appendGpu('GPU-0', 'status', '{"state":"leased"}'), null);
  equal(a.door.registerService('metrics', '/proc'), null);
  const qa = a.client();
  equal(qa.append('/queen/telemetry/dev1/ctl', '{"new":"segment","mime":"text/plain"}\n').kind, 'Rwrite');
  equal(qa.append('/queen/telemetry/dev1/seg/seg-000001', 'first record\n').kind, 'Rwrite');

  const state = acrossRuntimes(encodeHandoff({
    door: a.door.exportState(),
    channel: [{ key: '3:0', ns: null, s9: null }],
    tcp: [{ sock: 65, peer: '127.0.0.1:4000', held: utf8Encode('\x10\x00'), skipBytes: 0, ns: null, s9: null }],
  }));
  const h = decodeHandoff(state);
  ok(!(h instanceof NineError), String(h));
  if (h instanceof NineError) return;
  deepEqual(h.channel, [{ key: '3:0', ns: null, s9: null }]);
  equal(h.tcp[0].sock, 65);
  deepEqual([...h.tcp[0].held], [0x10, 0]);

  const b = hive();
  equal(b.door.importState(h.door), null);
  deepEqual(b.door.logLines(), a.door.logLines());
  equal(b.door.state.lifecycle.state, 'ONLINE');
  deepEqual(b.door.state.pressure, { busy: 1, quota: 2, cut: 3, policy: 4 });
  deepEqual(b.door.workerIds(), ['worker-7', 'worker-8']);
  const ring2 = b.door.workerRing('worker-7')!;
  equal(ring2.base(), ring.base());
  equal(ring2.next(), ring.next());
  deepEqual(ring2.read(BigInt(ring.base()), 4096), ring.read(BigInt(ring.base()), 4096));
  // Appends go on at the same absolute offset, so a reader's cursor stays valid.
  const w2 = b.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-7' }));
  equal(w2.append('/worker/worker-7/telemetry', '{"tick":101}\n').kind, 'Rwrite');
  equal(ring2.next(), ring.next() + '{"tick":101}\n'.length);
  deepEqual(b.door.gpu.gpuIds(), ['GPU-0', 'GPU-1']);
  equal(b.door.gpu.leaseHolder('GPU-0'), 'worker-8');
  ok(b.door.gpu.gpu('GPU-0')!.status.store.lines().includes('{"state":"leased"}'));
  const q = b.client();
  equal(q.cat('/proc/lifecycle/state'), 'state=ONLINE\n');
  equal(q.cat('/queen/telemetry/dev1/seg/seg-000001'), 'first record\n');
  equal(q.cat('/queen/telemetry/dev1/latest'), 'seg-000001\n');
  // The segment counter crossed too: the next segment is seg-000002, not a reused id.
  equal(q.append('/queen/telemetry/dev1/ctl', '{"new":"segment"}\n').kind, 'Rwrite');
  equal(q.cat('/queen/telemetry/dev1/latest'), 'seg-000002\n');
});

test('ninedoor handoff: a wrong schema or a bad field is refused with the field named, and nothing is imported', () => {
  const a = hive();
  a.door.addWorker('worker-1', 'heartbeat');
  const good = acrossRuntimes(encodeHandoff({ door: a.door.exportState(), channel: [], tcp: [] })) as Record<string, unknown>;
  const wrongSchema = decodeHandoff({ ...good, schema: 'ninedoor-handoff/v0' });
  ok(wrongSchema instanceof NineError && wrongSchema.message.includes(HANDOFF_SCHEMA), String(wrongSchema));
  const door = good.door as Record<string, unknown>;
  const badLog = decodeHandoff({ ...good, door: { ...door, queenLog: 'not base64!' } });
  ok(badLog instanceof NineError && badLog.message.includes('queenLog'), String(badLog));
  const workers = door.workers as Record<string, unknown>[];
  const badKind = decodeHandoff({ ...good, door: { ...door, workers: [{ ...workers[0], kind: 'bus' }] } });
  ok(badKind instanceof NineError && badKind.message.includes('workers[0].kind'), String(badKind));
  ok(decodeHandoff(null) instanceof NineError);
  ok(decodeHandoff('text') instanceof NineError);
});

test('ninedoor handoff: a ring restored from more bytes than it holds keeps the newest and moves its base on', () => {
  const a = hive();
  a.door.addWorker('worker-1', 'heartbeat');
  const r = a.door.workerRing('worker-1')!;
  const big = utf8Encode('x'.repeat(3000));
  r.reinstate(100, big);
  equal(r.next(), 3100);
  equal(r.base(), 3100 - r.retained().length);
});
