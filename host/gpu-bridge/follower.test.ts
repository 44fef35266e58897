// Leases and jobs followed over the console against an in-process hive: TTL expiry, kill, disconnect, host-side limits, the job lifecycle, telemetry, stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno } from '../../js/secure9p/errors.js';
import { main } from './cli.js';
import { BridgeError } from './errors.js';
import { FAKE_AUTH_TOKEN, FakeHive } from './fake-hive.support.js';
import { Follower, type StepReport } from './follower.js';
import type { ConsoleLink } from './link.js';
import { mockDiscovery } from './mock.js';
import { publishSnapshot } from './publish.js';
import { buildSnapshot, encodeForPublish, type EncodedSnapshot } from './snapshot-build.js';
import { connectConsole } from './tcp-link.js';

const HASH = `sha256:${'cd'.repeat(32)}`;
const jobLine = (id: string, o: Record<string, unknown> = {}) =>
  JSON.stringify({ job: id, kernel: 'vadd', grid: [2, 1, 1], block: [32, 1, 1], bytes_hash: HASH, inputs: ['a', 'b'], outputs: ['c'], timeout_ms: 5000, ...o });

interface Rig {
  h: FakeHive;
  link: ConsoleLink;
  f: Follower;
  logs: string[];
  step(): Promise<StepReport>;
  spawn(gpu: string, mem: number, streams: number, ttl: number): Promise<void>;
  connect(): Promise<ConsoleLink>;
}

async function rig(fn: (r: Rig) => Promise<void>, telemetry = false): Promise<void> {
  const h = new FakeHive({ mockGpus: false });
  const port = await h.listen();
  const connect = async () => {
    const l = await connectConsole({ host: '127.0.0.1', port, authToken: FAKE_AUTH_TOKEN });
    assert.ok(!(l instanceof BridgeError), String(l));
    return l;
  };
  const link = await connect();
  const d = mockDiscovery();
  assert.ok(!(await publishSnapshot(link, encodeForPublish(buildSnapshot(d)) as EncodedSnapshot) instanceof BridgeError));
  const logs: string[] = [];
  const f = new Follower({ discovery: () => d, nowMs: () => h.clock.now, log: (l) => logs.push(l), telemetry });
  const r: Rig = {
    h, link, f, logs, connect,
    async step() {
      const s = await f.step(r.link);
      assert.ok(!(s instanceof BridgeError), String(s));
      return s;
    },
    async spawn(gpu, mem, streams, ttl) {
      const a = await r.link.request(`ECHO /queen/ctl {"spawn":"gpu","lease":{"gpu_id":"${gpu}","mem_mb":${mem},"streams":${streams},"ttl_s":${ttl},"priority":0}}`);
      assert.ok(!(a instanceof BridgeError) && a.status === 'OK', JSON.stringify(a));
    },
  };
  try {
    await fn(r);
  } finally {
    if (r.link.alive()) await r.link.close();
    await h.close();
  }
}

const statuses = (h: FakeHive, gpu: string) => h.lines(`/gpu/${gpu}/status`).map((l) => JSON.parse(l) as { job: string; state: string; detail: string; result?: string });

test('lease TTL: counted from the last poll that did not show it; at the deadline the bridge releases on all three files and the worker loses the GPU', async () => {
  await rig(async ({ h, f, step, spawn }) => {
    const t0 = h.clock.now;
    await step();
    h.clock.now = t0 + 100;
    await spawn('GPU-0', 1024, 2, 5);
    h.clock.now = t0 + 700;
    await step();
    assert.deepEqual(f.held('GPU-0')?.grant, { gpuId: 'GPU-0', workerId: 'worker-1', memMb: 1024, streams: 2, ttlS: 5, priority: 0 });
    assert.equal(f.held('GPU-0')?.sinceMs, t0, 'granted no earlier than the previous poll');
    assert.equal(f.nextDeadlineMs(), t0 + 5000);
    h.clock.now = t0 + 4999;
    await step();
    assert.notEqual(f.held('GPU-0'), null, 'not before the deadline');
    assert.equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-1');
    h.clock.now = t0 + 5000;
    const s = await step();
    assert.equal(s.releases, 1);
    assert.equal(f.held('GPU-0'), null);
    assert.equal(h.lines('/gpu/GPU-0/ctl').at(-1), 'RELEASE worker-1 ttl-expired');
    assert.deepEqual(JSON.parse(h.lines('/gpu/GPU-0/lease').at(-1) as string), { schema: 'gpu-lease/v1', state: 'RELEASED', gpu_id: 'GPU-0', worker_id: 'worker-1' });
    assert.deepEqual(statuses(h, 'GPU-0').at(-1), { job: 'worker-1', state: 'LEASE-ENDED', detail: 'ttl-expired' });
    assert.equal(h.door.gpu.leaseHolder('GPU-0'), null, 'the hive cleared the holder on the RELEASE line');
    const w = h.worker('worker-1');
    const r = w.append('/gpu/GPU-0/job', jobLine('late') + '\n');
    assert.ok(r.kind === 'Rlerror' && r.ecode === Errno.EPERM, 'job writes after expiry get Permission');
    assert.equal((await step()).releases, 0, 'released once');
  });
});

test('jobs: QUEUED → RUNNING → OK with a checked result, one per stream per round; invalid lines ERR with their code; records in the worker ring', async () => {
  await rig(async ({ h, f, step, spawn }) => {
    await spawn('GPU-1', 64, 1, 60);
    await step();
    const w = h.worker('worker-1');
    assert.equal(w.append('/gpu/GPU-1/job', `${jobLine('j1')}\n${jobLine('j2', { kernel: 'matmul', grid: [2, 2, 1], block: [8, 8, 1] })}\n`).kind, 'Rwrite');
    // A §11.4 descriptor the bridge cannot run (timeout_ms 0): NineDoor keeps it, the bridge answers ERR.
    // (A payload whose hash does not match bytes_hash no longer gets this far: NineDoor refuses it.)
    assert.equal(w.append('/gpu/GPU-1/job', jobLine('j3', { timeout_ms: 0 }) + '\n').kind, 'Rwrite');
    const s1 = await step();
    assert.equal(s1.jobsRun, 1, 'streams=1: one job a round');
    assert.equal(f.queued('GPU-1'), 1);
    const st = statuses(h, 'GPU-1');
    assert.deepEqual(st.map((x) => `${x.job} ${x.state} ${x.detail}`), [
      'j1 QUEUED accepted', 'j2 QUEUED accepted', 'j3 ERR invalid:bad-timeout', 'j1 RUNNING scheduled', 'j1 OK completed',
    ]);
    assert.match(st[4].result as string, /^[0-9a-f]{16}$/);
    await step();
    assert.deepEqual(statuses(h, 'GPU-1').slice(5).map((x) => `${x.job} ${x.state} ${x.detail}`), ['j2 RUNNING scheduled', 'j2 OK completed']);
    const ring = w.cat('/worker/worker-1/telemetry') as string;
    assert.equal(ring.split('\n').filter((l) => l !== '').length, 5, 'RUNNING/OK for j1, j2 and the ERR for j3');
    assert.match(ring, /{"job":"j1","state":"RUNNING","detail":"scheduled"}\n{"job":"j1","state":"OK","detail":"completed"}/);
    assert.equal((await step()).jobsRun, 0, 'a job runs once');
  });
});

test('jobs refusal: no lease, over the lease memory', async () => {
  await rig(async ({ h, step, spawn }) => {
    await step();
    // The hive refuses job lines from anyone but the lease holder (nothing is kept) ...
    const r = h.queen().append('/gpu/GPU-0/job', jobLine('orphan') + '\n');
    assert.ok(r.kind === 'Rlerror' && r.ecode === Errno.EPERM, 'the queen is not the lease holder');
    // ... so a line with no lease behind it can only be one the hive already held; the bridge still answers it.
    h.door.gpu.gpu('GPU-0')!.job.store.append(new TextEncoder().encode(jobLine('orphan') + '\n'));
    await step();
    assert.deepEqual(statuses(h, 'GPU-0').map((x) => `${x.job} ${x.state} ${x.detail}`), ['orphan ERR no-lease']);
    await spawn('GPU-1', 0, 1, 60);
    await step();
    h.worker('worker-1').append('/gpu/GPU-1/job', jobLine('big') + '\n');
    await step();
    assert.deepEqual(statuses(h, 'GPU-1').map((x) => `${x.job} ${x.state} ${x.detail}`), ['big ERR mem-over-lease']);
  });
});

test('lease refusal: more memory than the GPU, or streams over the host bound, is released at once', async () => {
  await rig(async ({ h, f, step, spawn }) => {
    await spawn('GPU-1', 8193, 1, 60);
    await spawn('GPU-0', 1, 33, 60);
    const s = await step();
    assert.equal(s.releases, 2);
    assert.equal(f.held('GPU-1'), null);
    assert.equal(h.lines('/gpu/GPU-1/ctl').at(-1), 'RELEASE worker-1 mem-over-gpu');
    assert.equal(h.lines('/gpu/GPU-0/ctl').at(-1), 'RELEASE worker-2 streams-over-limit');
    assert.equal((await step()).releases, 0, 'not re-adopted');
    assert.equal(f.held('GPU-0'), null);
  });
});

test('lease kill: the hive releases, the bridge follows and drains the queue as ERR lease-ended', async () => {
  await rig(async ({ h, f, link, step, spawn }) => {
    await spawn('GPU-0', 64, 1, 60);
    await step();
    h.worker('worker-1').append('/gpu/GPU-0/job', [jobLine('a'), jobLine('b'), jobLine('c')].join('\n') + '\n');
    await step();
    assert.equal(f.queued('GPU-0'), 2);
    const k = await link.request('ECHO /queen/ctl {"kill":"worker-1"}');
    assert.ok(!(k instanceof BridgeError) && k.status === 'OK');
    await step();
    assert.equal(f.held('GPU-0'), null);
    assert.equal(f.queued('GPU-0'), 0);
    const tail = statuses(h, 'GPU-0').slice(-3).map((x) => `${x.job} ${x.state} ${x.detail}`);
    assert.deepEqual(tail, ['worker-1 LEASE-ENDED killed', 'b ERR lease-ended', 'c ERR lease-ended']);
    assert.ok(!h.lines('/gpu/GPU-0/ctl').some((l) => l.includes('ttl-expired')), 'no second release from the bridge');
  });
});

test('hive disconnect: the lease still expires on time here; the release is written when the hive answers again', async () => {
  await rig(async (r) => {
    const { h, f, step, spawn } = r;
    await step();
    await spawn('GPU-0', 64, 1, 2);
    await step();
    const deadline = f.nextDeadlineMs() as number;
    h.cutConnections();
    for (let i = 0; i < 50 && r.link.alive(); i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(r.link.alive(), false);
    const failed = await f.step(r.link);
    assert.ok(failed instanceof BridgeError && failed.code === 'connection-lost');
    h.clock.now = deadline;
    f.offlineTick();
    assert.equal(f.held('GPU-0'), null, 'not ACTIVE here past its TTL');
    assert.equal(h.door.gpu.leaseHolder('GPU-0'), 'worker-1', 'the hive has not heard yet');
    r.link = await r.connect();
    const s = await step();
    assert.equal(s.releases, 1);
    assert.equal(h.lines('/gpu/GPU-0/ctl').at(-1), 'RELEASE worker-1 ttl-expired');
    assert.equal(h.door.gpu.leaseHolder('GPU-0'), null);
  });
});

test('bridge start: a lease already ACTIVE is adopted with its TTL from first sight; stop releases it as bridge-stopped', async () => {
  await rig(async ({ h, link, spawn }) => {
    await spawn('GPU-1', 64, 1, 30);
    h.clock.now += 1000;
    const f2 = new Follower({ discovery: () => mockDiscovery(), nowMs: () => h.clock.now, log: () => undefined, telemetry: false });
    assert.ok(!((await f2.step(link)) instanceof BridgeError));
    assert.equal(f2.held('GPU-1')?.adopted, true);
    assert.equal(f2.nextDeadlineMs(), h.clock.now + 30000);
    assert.equal(await f2.releaseAll(link, 'bridge-stopped'), null);
    assert.equal(h.lines('/gpu/GPU-1/ctl').at(-1), 'RELEASE worker-1 bridge-stopped');
    assert.equal(h.door.gpu.leaseHolder('GPU-1'), null);
  });
});

test('telemetry: one reading per GPU a round in /queen/telemetry/gpu-bridge (mock: leased memory, busy when a job ran)', async () => {
  await rig(async ({ h, step, spawn }) => {
    await spawn('GPU-0', 512, 1, 60);
    await step();
    h.worker('worker-1').append('/gpu/GPU-0/job', jobLine('t1') + '\n');
    await step();
    assert.equal(h.text('/queen/telemetry/gpu-bridge/latest'), 'seg-000001\n');
    const recs = h.lines('/queen/telemetry/gpu-bridge/seg/seg-000001').map((l) => JSON.parse(l));
    assert.equal(recs.length, 4);
    assert.deepEqual(recs.map((x) => [x.gpu, x.mem_used_mb, x.mem_total_mb, x.util_pct]), [
      ['GPU-0', 512, 24576, 0], ['GPU-1', 0, 8192, 0], ['GPU-0', 512, 24576, 100], ['GPU-1', 0, 8192, 0],
    ]);
  }, true);
});

test('cli --interval-ms: publishes, runs a worker job to OK, and on abort releases the lease and quits', async () => {
  const h = new FakeHive({ mockGpus: false });
  const port = await h.listen();
  const stop = new AbortController();
  let err = '';
  const run = main(['--mock', '--interval-ms', '250', '--tcp-port', String(port)], { out: () => undefined, err: (t) => (err += t) }, { signal: stop.signal, env: {} });
  try {
    const until = async (cond: () => boolean, what: string) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((res) => setTimeout(res, 20));
      assert.ok(cond(), `${what}; log: ${err}`);
    };
    await until(() => h.door.gpu.gpuIds().length === 2 && h.lines('/gpu/bridge/status')[0].startsWith('state=ok'), 'published');
    assert.equal(h.policy.queenLines.length, 0);
    h.queen().append('/queen/ctl', '{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":64,"streams":1,"ttl_s":60,"priority":0}}\n');
    await until(() => err.includes('lease GPU-0 worker-1'), 'lease followed');
    h.worker('worker-1').append('/gpu/GPU-0/job', jobLine('cli1') + '\n');
    await until(() => h.lines('/gpu/GPU-0/status').some((l) => l.includes('"cli1","state":"OK"')), 'job completed');
  } finally {
    stop.abort();
    assert.equal(await run, 0);
    await h.close();
  }
  assert.equal(h.lines('/gpu/GPU-0/ctl').at(-1), 'RELEASE worker-1 bridge-stopped');
});
