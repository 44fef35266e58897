// One TS fuzz target in a worker thread: runs until its deadline and shows the input in flight to the watchdog.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Fuzzer, fuzzTarget } from '../../js/fuzz/index.js';
import { FUZZ_BATCH_INPUTS } from '../../js/fuzz/limits.js';

export interface WorkerJob {
  target: string;
  seed: number;
  seconds: number;
  /** [0] inputs started (Atomics), [1] length of the input in flight; its bytes follow from byte 8. */
  shared: SharedArrayBuffer;
}

export interface WorkerReport {
  stats: ReturnType<Fuzzer['stats']>;
  failures: { kind: string; hash: string; message: string; input: Uint8Array }[];
  seconds: number;
}

const job = workerData as WorkerJob;
const target = fuzzTarget(job.target);
if (!target) throw new Error(`no fuzz target ${job.target}`);
const counters = new Int32Array(job.shared, 0, 2);
const bytes = new Uint8Array(job.shared, 8);
const f = new Fuzzer(target, job.seed, {
  nowMs: () => performance.now(),
  beforeInput: (input) => {
    const n = Math.min(input.length, bytes.length);
    bytes.set(input.subarray(0, n));
    counters[1] = n;
    Atomics.add(counters, 0, 1);
  },
});
const t0 = performance.now();
const deadline = t0 + job.seconds * 1000;
while (performance.now() < deadline) f.run(FUZZ_BATCH_INPUTS);
const report: WorkerReport = { stats: f.stats(), failures: f.failures, seconds: (performance.now() - t0) / 1000 };
parentPort?.postMessage(report);
