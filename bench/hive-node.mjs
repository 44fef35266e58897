// bench/hive-node.mjs: the board hive's bundles (root-task, NineDoor, worker-heart) on Node (host/node NodeHive), 16 workers spawned over the console; prints its RSS as JSON.
// Usage: node bench/hive-node.mjs [--workers N]   (needs a build: build/bundles, build/tsc)
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { NodeHive } from '../build/tsc/host/node/caps.js';

const WORKERS_DEFAULT = 16;
const STEP_TIMEOUT_MS = 10_000;
// worker-heart beats every 1000 ms; after this long every worker has appended at least once.
const SETTLE_MS = 2_000;
const AUTH_TOKEN = 'bench';

const argWorkers = process.argv.indexOf('--workers');
const workers = argWorkers > 0 ? Number(process.argv[argWorkers + 1]) : WORKERS_DEFAULT;

function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

function waitFor(pred, what, ms = STEP_TIMEOUT_MS) {
  const t0 = Date.now();
  return new Promise((res, rej) => {
    const tick = () => {
      if (pred()) return res();
      if (Date.now() - t0 > ms) return rej(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

function frame(line) {
  const body = Buffer.from(line, 'utf8');
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32LE(4 + body.length, 0);
  body.copy(b, 4);
  return b;
}

const logs = [];
const port = await freePort();
const board = JSON.parse(readFileSync('boards/host/manifest.json', 'utf8'));
const hive = new NodeHive({
  tasks: board.tasks.map((t) => ({ name: t.name, bundle: resolve(`build/bundles/${t.name}.js`), grants: t.grants, config: t.config })),
  rootTask: 'root-task',
  manifest: { ...board, image_id: 'node-bench' },
  log: (l) => logs.push(l),
  uartWrite: () => {},
});
const rssBootKb = Math.round(process.memoryUsage().rss / 1024);
await hive.boot({ console: { port, bind: '127.0.0.1', auth_token: AUTH_TOKEN }, ninep: { port: 0 } });
await waitFor(() => logs.some((l) => l.includes('console ready port=')), 'the console');

const sock = connect(port, '127.0.0.1');
const got = [];
let buf = Buffer.alloc(0);
sock.on('data', (b) => {
  buf = Buffer.concat([buf, b]);
  while (buf.length >= 4 && buf.length >= buf.readUInt32LE(0)) {
    const n = buf.readUInt32LE(0);
    got.push(buf.subarray(4, n).toString('utf8'));
    buf = buf.subarray(n);
  }
});
await new Promise((r) => sock.once('connect', r));
const say = async (line, until, what) => {
  const from = got.length;
  sock.write(frame(line));
  await waitFor(() => got.slice(from).some(until), what);
  return got.slice(from);
};
await say(`AUTH ${AUTH_TOKEN}`, (l) => l === 'OK AUTH', 'OK AUTH');
await say('ATTACH queen', (l) => l === 'OK ATTACH role=queen', 'OK ATTACH');
for (let i = 1; i <= workers; i++) {
  await say('SPAWN {"spawn":"heartbeat","ticks":100000}', (l) => l.startsWith('OK SPAWN'), `OK SPAWN ${i}`);
}
await new Promise((r) => setTimeout(r, SETTLE_MS));
const listing = await say('LS /worker', (l) => l === 'END', 'LS /worker');
const live = listing.filter((l) => /^worker-\d+$/.test(l)).length;
const ring = await say(`TAIL /worker/worker-${workers}/telemetry`, (l) => l === 'END', 'the last worker ring');
const beating = ring.some((l) => /^\{"tick":\d+,"ts_ms":\d+\}$/.test(l));
const m = process.memoryUsage();
process.stdout.write(`${JSON.stringify({
  workers: live, beating, node: process.version,
  rss_kb: Math.round(m.rss / 1024), rss_before_boot_kb: rssBootKb,
  heap_used_kb: Math.round(m.heapUsed / 1024), external_kb: Math.round(m.external / 1024),
})}\n`);
sock.destroy();
hive.stop();
process.exit(0);
