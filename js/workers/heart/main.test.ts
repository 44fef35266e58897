// worker-heart against a real NineDoor session: it beats into its ring, attaches again when NineDoor closes its session (a NineDoor reload), keeps its tick, and stops past the bound.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import type { Caps, ChannelMessage } from '../../caps/index.js';
import { hive, ticket } from '../../ninedoor/door.support.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME } from '../../ninedoor/wire.js';
import main, { HEARTBEAT_REATTACH_MAX } from './main.js';

const NINEDOOR_EP = 1;

/** Lets the worker's promise chains (its 9P requests, answered synchronously here) run out. */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

function harness() {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const logs: string[] = [];
  const timers = new Map<number, { fn: () => void; periodic: boolean }>();
  let nextTimer = 1;
  let onMessage: ((ep: number, msg: ChannelMessage) => void) | null = null;
  let session = h.door.openSession({ send: (f) => onMessage!(NINEDOOR_EP, encodeWire(WIRE_FRAME, 0, f)) });
  const newSession = (): void => {
    session = h.door.openSession({ send: (f) => onMessage!(NINEDOOR_EP, encodeWire(WIRE_FRAME, 0, f)) });
  };
  const caps = {
    log: { write: (l: string) => void logs.push(l) },
    timer: {
      nowMs: () => 0,
      wallMs: () => h.clock.now,
      setTimeout: (fn: () => void) => (timers.set(nextTimer, { fn, periodic: false }), nextTimer++),
      setInterval: (fn: () => void) => (timers.set(nextTimer, { fn, periodic: true }), nextTimer++),
      clear: (id: number) => void timers.delete(id),
    },
    channel: {
      send: (ep: number, msg: ChannelMessage) => {
        const w = decodeWire(msg as Uint8Array)!;
        if (ep !== NINEDOOR_EP || w.kind !== WIRE_FRAME || !('session' in session)) return;
        session.session.handleFrame(w.payload);
      },
      onMessage: (fn: typeof onMessage) => void (onMessage = fn),
      onLink: () => {},
    },
  } as unknown as Caps;
  /** Runs every one-shot timer due, and the beat once (the 1 s interval; the 1 s expiry sweep is harmless). */
  const tick = async (): Promise<void> => {
    for (const [id, t] of [...timers]) {
      if (!t.periodic) timers.delete(id);
      t.fn();
    }
    await settle();
  };
  const closeFromNineDoor = async (): Promise<void> => {
    newSession();
    onMessage!(NINEDOOR_EP, encodeWire(WIRE_CLOSE, 0));
    await settle();
  };
  const ring = (): number[] => (h.client().cat('/worker/worker-1/telemetry') as string)
    .split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as { tick: number }).tick);
  return { caps, logs, tick, closeFromNineDoor, ring };
}

test('worker-heart: a session NineDoor closes is attached again and the ticks go on where they were', async () => {
  const t = harness();
  main(t.caps, { id: 4, label: 'worker-1', task: 'worker-heart', args: { ticket: ticket({ role: 'worker-heartbeat', subject: 'worker-1' }), worker_id: 'worker-1' } });
  await t.tick(); // attach (the start timer), then the first beat is due
  await t.tick();
  deepEqual(t.ring(), [1]);
  await t.closeFromNineDoor();
  ok(t.logs.includes('NineDoor session closed by NineDoor: attaching again'), t.logs.join('\n'));
  await t.tick();
  deepEqual(t.ring(), [1, 2], 'the tick counter carried on through the new session');
});

test('worker-heart: past HEARTBEAT_REATTACH_MAX closes it stops instead of attaching forever', async () => {
  const t = harness();
  main(t.caps, { id: 4, label: 'worker-1', task: 'worker-heart', args: { ticket: ticket({ role: 'worker-heartbeat', subject: 'worker-1' }), worker_id: 'worker-1' } });
  await t.tick();
  for (let i = 0; i < HEARTBEAT_REATTACH_MAX; i++) await t.closeFromNineDoor();
  equal(t.logs.filter((l) => l.endsWith('attaching again')).length, HEARTBEAT_REATTACH_MAX);
  await t.closeFromNineDoor();
  ok(t.logs.some((l) => l.startsWith('heartbeat stopped after') && l.endsWith(`(${HEARTBEAT_REATTACH_MAX} attaches already)`)), t.logs.join('\n'));
});
