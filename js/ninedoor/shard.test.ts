// Shard label vectors (spec §6) and alias rewriting.
import { test, equal, deepEqual } from '../testkit/index.js';
import { allShardLabels, canonicalWorkerPath, shardLabel } from './shard.js';

test('shard: spec §6 vectors worker-1→13, worker-2→1c, worker-3→1a', () => {
  equal(shardLabel('worker-1'), '13');
  equal(shardLabel('worker-2'), '1c');
  equal(shardLabel('worker-3'), '1a');
});

test('shard: narrower widths shift the first byte right', () => {
  equal(shardLabel('worker-1', 4), '01'); // 0x13 >> 4
  equal(shardLabel('worker-2', 1), '00'); // 0x1c >> 7
});

test('shard: 8 bits give 256 labels 00..ff', () => {
  const l = allShardLabels();
  equal(l.length, 256);
  equal(l[0], '00');
  equal(l[255], 'ff');
});

test('shard: /worker/<id>/... aliases rewrite to the canonical shard path', () => {
  deepEqual(canonicalWorkerPath(['worker', 'worker-1', 'telemetry']), ['shard', '13', 'worker', 'worker-1', 'telemetry']);
  deepEqual(canonicalWorkerPath(['proc', 'boot']), ['proc', 'boot']);
  deepEqual(canonicalWorkerPath(['worker']), ['worker'], 'listing /worker is not rewritten');
});
