// Ports that answer later (the firmware's channels): control writes still apply in order, one at a time.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { NineError } from '../../secure9p/errors.js';
import { NineDoor } from '../../ninedoor/server.js';
import { HiveControl } from './hive-control.js';
import { deferredPolicy, nineDoorPort, type NineDoorPort } from './ports.js';
import { FakeClock, FakeTasks, SECRETS } from './policy.support.js';

function asyncHive() {
  const clock = new FakeClock();
  const tasks = new FakeTasks();
  let hive: HiveControl | null = null;
  const door = new NineDoor({
    policy: deferredPolicy(() => hive as HiveControl), log: () => undefined, nowMs: () => clock.wallMs(),
    attach: { secrets: SECRETS, allowTicketlessQueen: true }, mockGpus: true,
  });
  const sync = nineDoorPort(door);
  const pending: Array<() => void> = [];
  // setLease answers only when the test releases it, as a reply on a channel would.
  const port: NineDoorPort = {
    ...sync,
    setLease: (g, w) => new Promise<NineError | null>((res) => pending.push(() => res(door.setLease(g, w)))),
  };
  hive = new HiveControl({ nineDoor: port, tasks, clock, secrets: SECRETS });
  hive.bootComplete();
  const ctx = { who: { role: 'queen' as const, identity: null, claims: null }, session: door.openSession({ send: () => undefined }) as never };
  const release = async () => {
    for (let i = 0; i < 20; i++) {
      while (pending.length > 0) (pending.shift() as () => void)();
      await Promise.resolve();
    }
  };
  return { door, hive, tasks, ctx, release, pending };
}

const GPU = (g: string) => `{"spawn":"gpu","lease":{"gpu_id":"${g}","mem_mb":1,"streams":1,"ttl_s":9}}`;
const HB = '{"spawn":"heartbeat","ticks":1}';

test('async ports: a write waiting on setLease holds later writes back; ids and effects follow write order', async () => {
  const a = asyncHive();
  const first = a.hive.queenCtl(`${GPU('GPU-0')}\n${HB}`, a.ctx);
  const second = a.hive.queenCtl(HB, a.ctx);
  const third = a.hive.lifecycleCtl('quiesce', a.ctx);
  ok(first instanceof Promise && second instanceof Promise && third instanceof Promise, 'all wait');
  deepEqual(a.door.workerIds(), [], 'nothing applied before NineDoor answered');
  await a.release();
  equal(await first, undefined);
  equal(await second, undefined);
  const q = await third;
  ok(q instanceof NineError && q.code === 'Busy', 'quiesce saw all three workers');
  deepEqual(a.tasks.spawned.map((t) => `${t.label}:${t.kind}`), ['worker-1:gpu', 'worker-2:heartbeat', 'worker-3:heartbeat']);
  equal(a.door.gpu.leaseHolder('GPU-0'), 'worker-1');
});

test('async ports: an unknown GPU answered later stops the write there and burns no id', async () => {
  const a = asyncHive();
  const r = a.hive.queenCtl(`${HB}\n${GPU('GPU-9')}\n${HB}`, a.ctx);
  await a.release();
  const e = await r;
  ok(e instanceof NineError && e.code === 'NotFound', 'NotFound');
  deepEqual(a.door.workerIds(), ['worker-1']);
  const again = a.hive.queenCtl(HB, a.ctx);
  equal(again, undefined, 'nothing in flight: answered at once');
  deepEqual(a.door.workerIds(), ['worker-1', 'worker-2']);
});
