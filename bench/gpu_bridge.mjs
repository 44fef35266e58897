// Bench: publish of a 16-GPU mock snapshot over a real TCP console into the in-process fake hive (js/console session → NineDoor); prints a table, writes bench/results/gpu_bridge.json.
// Needs `npx tsc -p tsconfig.json` first. bench/cohsh_firmware.py times the same 16-GPU publish against the firmware console.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const mod = (p) => import(pathToFileURL(join(ROOT, 'build/tsc/host/gpu-bridge', p)).href);
const { FakeHive, FAKE_AUTH_TOKEN } = await mod('fake-hive.support.js');
const { connectConsole } = await mod('tcp-link.js');
const { mockDiscovery } = await mod('mock.js');
const { buildSnapshot, encodeForPublish } = await mod('snapshot-build.js');
const { publishSnapshot, publishPayloads } = await mod('publish.js');

/** Publishes timed per window; the first WARMUP runs are not counted. */
const GPUS = 16;
const RUNS = 30;
const WARMUP = 5;
const WINDOWS = [1, 4];

const hive = new FakeHive({ mockGpus: false });
const port = await hive.listen();
const link = await connectConsole({ host: '127.0.0.1', port, authToken: FAKE_AUTH_TOKEN });
if (!('request' in link)) throw new Error(String(link));
const enc = encodeForPublish(buildSnapshot(mockDiscovery(GPUS)));
const echoes = publishPayloads(enc).length;

const rows = [];
for (const window of WINDOWS) {
  const ms = [];
  let wireBytes = 0;
  for (let i = 0; i < RUNS + WARMUP; i++) {
    const t = process.hrtime.bigint();
    const r = await publishSnapshot(link, enc, undefined, window);
    const took = Number(process.hrtime.bigint() - t) / 1e6;
    if (!('status' in r)) throw new Error(`publish failed: ${r}`);
    wireBytes = r.wireBytes;
    if (i >= WARMUP) ms.push(took);
  }
  ms.sort((a, b) => a - b);
  rows.push({
    window, runs: RUNS, snapshot_bytes: enc.payload.length, echo_lines: echoes, wire_bytes: wireBytes,
    ms_p50: +ms[Math.floor(ms.length / 2)].toFixed(2), ms_p95: +ms[Math.floor(ms.length * 0.95)].toFixed(2), ms_min: +ms[0].toFixed(2),
  });
}
await link.close();
await hive.close();

console.log(`gpu-bridge publish, ${GPUS} mock GPUs, Node ${process.version}, in-process fake hive over loopback TCP`);
console.log('window  snapshot_B  echo_lines  wire_B   p50_ms  p95_ms  min_ms');
for (const r of rows) {
  console.log(`${String(r.window).padEnd(8)}${String(r.snapshot_bytes).padEnd(12)}${String(r.echo_lines).padEnd(12)}${String(r.wire_bytes).padEnd(9)}${String(r.ms_p50).padEnd(8)}${String(r.ms_p95).padEnd(8)}${r.ms_min}`);
}
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/gpu_bridge.json'), JSON.stringify({
  bench: 'gpu_bridge_publish', gpus: GPUS, node: process.version, target: 'in-process fake hive (js/console TcpConsoleSession + NineDoor) over loopback TCP',
  default_window: 1, rows,
}, null, 2) + '\n');
