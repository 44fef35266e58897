// npm run fuzz's TS half: every js/ fuzz target on Node, each in a worker with a hang watchdog; table and JSON out.
import { Worker } from 'node:worker_threads';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUZZ_TARGETS } from '../../js/fuzz/index.js';
import { FUZZ_INPUT_BYTES_MAX, FUZZ_INPUT_MS_MAX } from '../../js/fuzz/limits.js';
import type { WorkerJob, WorkerReport } from './worker.js';

/** No new input started for this long: the one in flight hangs (well above the per-input bound, which the worker measures itself). */
const WATCHDOG_STALL_MS = 4 * FUZZ_INPUT_MS_MAX;
const WATCHDOG_POLL_MS = 250;

export interface TargetResult {
  target: string;
  inputs: number;
  seconds: number;
  inputsPerS: number;
  crashes: number;
  hangs: number;
  corpus: number;
  outcomes: number;
  saved: string[];
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function save(outDir: string, target: string, kind: string, hash: string, input: Uint8Array, message: string): string {
  const dir = join(outDir, 'crashes');
  mkdirSync(dir, { recursive: true });
  const p = join(dir, `${target}-${hash}`);
  writeFileSync(p, input);
  writeFileSync(`${p}.txt`, `${kind}: ${message}\n`);
  return p;
}

function runOne(name: string, seed: number, seconds: number, outDir: string): Promise<TargetResult> {
  const shared = new SharedArrayBuffer(8 + FUZZ_INPUT_BYTES_MAX);
  const counters = new Int32Array(shared, 0, 2);
  const job: WorkerJob = { target: name, seed, seconds, shared };
  const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: job });
  return new Promise((resolve, reject) => {
    let last = -1;
    let lastMoved = Date.now();
    let done = false;
    const finish = (r: TargetResult) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve(r);
    };
    const timer = setInterval(() => {
      const n = Atomics.load(counters, 0);
      if (n !== last) {
        last = n;
        lastMoved = Date.now();
        return;
      }
      if (Date.now() - lastMoved < WATCHDOG_STALL_MS) return;
      const input = new Uint8Array(shared, 8, counters[1]).slice();
      const p = save(outDir, name, 'hang', `hang${n}`, input, `no progress for ${WATCHDOG_STALL_MS} ms`);
      void w.terminate();
      finish({ target: name, inputs: n, seconds, inputsPerS: n / seconds, crashes: 0, hangs: 1, corpus: 0, outcomes: 0, saved: [p] });
    }, WATCHDOG_POLL_MS);
    w.on('message', (r: WorkerReport) => {
      const saved = r.failures.map((f) => save(outDir, name, f.kind, f.hash, f.input, f.message));
      finish({ target: name, inputs: r.stats.inputs, seconds: r.seconds, inputsPerS: r.stats.inputs / r.seconds, crashes: r.stats.crashes,
        hangs: r.stats.hangs, corpus: r.stats.corpus, outcomes: r.stats.outcomes, saved });
    });
    w.on('error', (e) => {
      if (!done) {
        clearInterval(timer);
        done = true;
        reject(e);
      }
    });
  });
}

const seconds = Number(arg('--seconds', '10'));
const seed = Number(arg('--seed', '1'));
const outDir = arg('--out', 'build/fuzz');
const only = arg('--targets', '');
const targets = FUZZ_TARGETS.map((t) => t.name).filter((n) => only === '' || only.split(',').includes(n));
const per = seconds / targets.length;
const results: TargetResult[] = [];
for (const t of targets) {
  const r = await runOne(t, seed, per, outDir);
  results.push(r);
  process.stdout.write(`${`ts:${r.target}`.padEnd(24)} ${String(r.inputs).padStart(11)} inputs ${r.seconds.toFixed(1).padStart(7)} s ${Math.round(r.inputsPerS).toString().padStart(8)}/s  crashes ${r.crashes}  hangs ${r.hangs}  corpus ${r.corpus}\n`);
  for (const p of r.saved) process.stdout.write(`  saved ${p}\n`);
}
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'ts-node.json'), JSON.stringify({ seed, seconds, targets: results }, null, 2) + '\n');
process.exitCode = results.some((r) => r.crashes > 0 || r.hangs > 0) ? 1 : 0;
