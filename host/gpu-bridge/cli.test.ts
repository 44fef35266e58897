// The bin/gpu-bridge-host launcher and run.js entry: --mock --list prints the snapshot JSON; --help exits 0; a usage error exits 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './fixtures.support.js';

/** Bound on one launcher run, in ms. */
const LAUNCH_TIMEOUT_MS = 20_000;

const launch = (...args: string[]) => spawnSync(join(REPO, 'bin/gpu-bridge-host'), args, { encoding: 'utf8', timeout: LAUNCH_TIMEOUT_MS });

test('launcher: --mock --list prints the spec mock snapshot as JSON and exits 0', () => {
  const r = launch('--mock', '--list');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.nodes.map((n: { id: string; info: { name: string } }) => `${n.id} ${n.info.name}`), ['GPU-0 Mock 4090', 'GPU-1 Mock 4060']);
  assert.deepEqual(j.models.map((m: { id: string }) => m.id), ['vision-base-v1', 'vision-lora-edge']);
  assert.equal(j.active, 'vision-lora-edge');
});

test('launcher: --help exits 0 with the usage; no mode exits 2; run.js behaves the same', () => {
  const h = launch('--help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^usage: gpu-bridge-host/);
  const u = launch('--mock');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /choose one of --list, --publish, --interval-ms/);
  const r = spawnSync(process.execPath, [join(REPO, 'build/tsc/host/gpu-bridge/run.js'), '--mock', '--list'], { encoding: 'utf8', timeout: LAUNCH_TIMEOUT_MS });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).schema, 'gpu-bridge-snapshot/v1');
});
