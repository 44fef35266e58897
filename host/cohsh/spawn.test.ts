// The spawn k=v builder (spec §7): exact JSON for heartbeat and gpu workers, and every refusal message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpawnJson } from './spawn.js';
import { CohshError } from './errors.js';

const msg = (v: string | CohshError) => (v instanceof CohshError ? v.message : `json: ${v}`);

test('spawn heartbeat: ticks only, then with budget members in ttl_s, ops order', () => {
  assert.equal(buildSpawnJson(['heartbeat', 'ticks=5']), '{"spawn":"heartbeat","ticks":5}');
  assert.equal(buildSpawnJson(['worker', 'ops=7', 'ticks=5', 'ttl_s=9']), '{"spawn":"heartbeat","ticks":5,"budget":{"ttl_s":9,"ops":7}}');
  assert.equal(buildSpawnJson(['worker-heartbeat', 'ticks=1', 'ops=2']), '{"spawn":"heartbeat","ticks":1,"budget":{"ops":2}}');
  assert.equal(buildSpawnJson(['heartbeat', 'ticks=18446744073709551615']), '{"spawn":"heartbeat","ticks":18446744073709551615}');
});

test('spawn gpu: lease fields in spec order, optional priority and budget', () => {
  assert.equal(
    buildSpawnJson(['gpu', 'gpu_id=GPU-0', 'mem_mb=1024', 'streams=2', 'ttl_s=60']),
    '{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":1024,"streams":2,"ttl_s":60}}',
  );
  assert.equal(
    buildSpawnJson(['worker-gpu', 'budget_ops=3', 'priority=1', 'gpu_id=GPU-1', 'ttl_s=5', 'streams=1', 'mem_mb=8', 'budget_ttl_s=4']),
    '{"spawn":"gpu","lease":{"gpu_id":"GPU-1","mem_mb":8,"streams":1,"ttl_s":5,"priority":1},"budget":{"ttl_s":4,"ops":3}}',
  );
});

test('unknown_spawn_options lists every unknown key', () => {
  assert.equal(msg(buildSpawnJson(['heartbeat', 'ticks=1', 'foo=1', 'Ticks=2'])), 'unknown spawn options: foo, Ticks');
  assert.equal(msg(buildSpawnJson(['gpu', 'gpu_id=G', 'mem_mb=1', 'streams=1', 'ttl_s=1', 'ops=1'])), 'unknown spawn options: ops');
});

test('spawn refusals: missing keys, bad numbers, bad role, not k=v, duplicates, unsafe gpu_id', () => {
  assert.equal(msg(buildSpawnJson(['heartbeat'])), 'spawn heartbeat requires ticks=<n>');
  assert.equal(msg(buildSpawnJson(['gpu', 'gpu_id=G'])), 'spawn gpu requires mem_mb= streams= ttl_s=');
  assert.equal(msg(buildSpawnJson(['heartbeat', 'ticks=-1'])), 'invalid value for ticks: -1 (expected a decimal integer)');
  assert.equal(msg(buildSpawnJson(['gpu', 'gpu_id=G', 'mem_mb=1', 'streams=256', 'ttl_s=1'])), 'invalid value for streams: 256 (max 255)');
  assert.equal(msg(buildSpawnJson(['queen', 'ticks=1'])), "unknown spawn role 'queen' (heartbeat|worker|worker-heartbeat|gpu|worker-gpu)");
  assert.equal(msg(buildSpawnJson(['heartbeat', 'ticks'])), 'spawn options must be key=value: ticks');
  assert.equal(msg(buildSpawnJson(['heartbeat', 'ticks=1', 'ticks=2'])), 'duplicate spawn option: ticks');
  assert.equal(msg(buildSpawnJson(['gpu', 'gpu_id=a"b', 'mem_mb=1', 'streams=1', 'ttl_s=1'])), 'invalid value for gpu_id: contains a quote, backslash or control character');
  assert.match(msg(buildSpawnJson([])), /^spawn requires a role/);
});
