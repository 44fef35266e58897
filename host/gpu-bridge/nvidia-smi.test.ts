// nvidia-smi parsing on the recorded samples: one GPU, several, [N/A]/[Not Supported] readings, driver failures, unknown layouts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverReal } from './discovery.js';
import { BridgeError } from './errors.js';
import { fixture, fixtureRunner } from './fixtures.support.js';
import { parseCudaVersion, parseQueryCsv, SMI_QUERY_ARGS, type SmiGpu } from './nvidia-smi.js';

function gpus(name: string): SmiGpu[] {
  const r = parseQueryCsv(fixture(name));
  assert.ok(!(r instanceof BridgeError), `${name}: ${r}`);
  return r as SmiGpu[];
}

function refused(r: unknown, code: string, text: RegExp): void {
  assert.ok(r instanceof BridgeError, `expected ${code}, got ${JSON.stringify(r)}`);
  assert.equal(r.code, code);
  assert.match(r.message, text);
}

test('nvidia-smi one GPU: every column parsed with its unit stripped', () => {
  assert.deepEqual(gpus('one-gpu.csv'), [{
    index: 0, uuid: 'GPU-5ad4e7c3-7b49-9f5e-3c8e-1f6a0d2e4b71', name: 'NVIDIA GeForce RTX 4090', memoryTotalMb: 24564, memoryUsedMb: 1024,
    utilizationPct: 3, temperatureC: 41, powerW: 27.85, driverVersion: '550.54.14',
  }]);
});

test('nvidia-smi several GPUs: in index order, readings per GPU', () => {
  const g = gpus('multi-gpu.csv');
  assert.deepEqual(g.map((x) => x.index), [0, 1, 2, 3]);
  assert.deepEqual(g.map((x) => x.memoryUsedMb), [0, 40961, 0, 512]);
  assert.equal(g[1].utilizationPct, 97);
  assert.equal(g[1].powerW, 612.4);
  assert.ok(g.every((x) => x.name === 'NVIDIA H100 80GB HBM3' && x.memoryTotalMb === 81559));
});

test('nvidia-smi [N/A] and [Not Supported] readings become null; required columns stay', () => {
  const [a, b] = gpus('na-fields.csv');
  assert.equal(a.utilizationPct, null);
  assert.equal(a.powerW, null);
  assert.equal(a.temperatureC, 44);
  assert.deepEqual([b.utilizationPct, b.temperatureC, b.powerW, b.memoryUsedMb], [null, null, null, 0]);
  assert.equal(b.name, 'Tesla K80');
});

test('nvidia-smi refusal: another query layout (7 fields) is smi-unknown-format, not a guess', () => {
  refused(parseQueryCsv(fixture('malformed.csv')), 'smi-unknown-format', /line 1: 7 fields, expected 9/);
});

test('nvidia-smi refusal: [N/A] in a required column (uuid)', () => {
  refused(parseQueryCsv(fixture('missing-uuid.csv')), 'smi-unknown-format', /uuid is "\[N\/A\]"/);
});

test('nvidia-smi refusal: a non-number reading, a repeated index, too many GPUs, nothing at all', () => {
  refused(parseQueryCsv(fixture('one-gpu.csv').replace(', 3, 41,', ', 3 %, 41,')), 'smi-unknown-format', /utilization.gpu is "3 %"/);
  const one = fixture('one-gpu.csv');
  refused(parseQueryCsv(one + one), 'smi-unknown-format', /index 0 listed twice/);
  const many = Array.from({ length: 17 }, (_, i) => one.replace(/^0,/, `${i},`)).join('');
  refused(parseQueryCsv(many), 'smi-too-many', /17 GPUs; \/gpu mirrors at most 16/);
  refused(parseQueryCsv('\n\n'), 'smi-no-gpus', /no GPU lines/);
});

test('nvidia-smi refusal: driver failure texts are named, whatever the exit status', () => {
  refused(parseQueryCsv(fixture('error-no-driver.txt')), 'smi-failed', /cannot talk to the NVIDIA driver/);
  refused(parseQueryCsv(fixture('nvml-mismatch.txt')), 'smi-failed', /NVML failed to initialize: Failed to initialize NVML: Driver\/library version mismatch/);
  refused(parseQueryCsv(fixture('no-devices.txt')), 'smi-no-gpus', /no devices were found/);
});

test('nvidia-smi header: CUDA Version (R525+) and CUDA UMD Version (R610+); none is refused', () => {
  assert.equal(parseCudaVersion(fixture('header-550.txt')), '12.4');
  assert.equal(parseCudaVersion(fixture('header-610-umd.txt')), '13.3');
  refused(parseCudaVersion(fixture('header-331-no-cuda.txt')), 'smi-no-cuda-version', /no "CUDA Version: X.Y"/);
});

test('discovery: both runs parse → GPU-<index> ids, sm_count 0 (unknown), CUDA from the header, no models', async () => {
  const run = fixtureRunner('multi-gpu.csv', 'header-550.txt');
  const d = await discoverReal(run);
  assert.ok(!(d instanceof BridgeError), String(d));
  assert.deepEqual(run.calls, [[...SMI_QUERY_ARGS], []]);
  assert.deepEqual(d.gpus.map((g) => [g.id, g.smCount, g.runtimeVersion, g.driverVersion]), [0, 1, 2, 3].map((i) => [`GPU-${i}`, 0, '12.4', '535.104.05']));
  assert.deepEqual([d.models, d.active, d.source], [[], 'none', 'nvidia-smi']);
});

test('discovery refusal: a failing run (exit 9 with the driver text, exit 6, missing binary, bad header) gives no discovery', async () => {
  refused(await discoverReal(fixtureRunner({ code: 9, text: 'error-no-driver.txt' }, 'header-550.txt')), 'smi-failed', /exited 9: NVIDIA-SMI has failed/);
  refused(await discoverReal(fixtureRunner({ code: 6, text: 'no-devices.txt' }, 'header-550.txt')), 'smi-no-gpus', /exited 6: No devices were found/);
  refused(await discoverReal(fixtureRunner(new BridgeError('smi-missing', 'nvidia-smi not found'), 'header-550.txt')), 'smi-missing', /not found/);
  refused(await discoverReal(fixtureRunner('one-gpu.csv', 'header-331-no-cuda.txt')), 'smi-no-cuda-version', /CUDA Version/);
});
