// The published snapshot: built from mock or nvidia-smi discovery, encoded with js/ninedoor's encoder, round-tripped through the hive's decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64Decode } from '../../js/bytes/base64.js';
import { toHex, utf8Decode } from '../../js/bytes/utf8.js';
import { decodeSnapshot } from '../../js/ninedoor/snapshot.js';
import { NineError } from '../../js/secure9p/errors.js';
import { discoverReal } from './discovery.js';
import { BridgeError } from './errors.js';
import { fixtureRunner } from './fixtures.support.js';
import { mockDiscovery } from './mock.js';
import { publishPayloads } from './publish.js';
import { buildSnapshot, encodeForPublish, GPU_TELEMETRY_SCHEMA_JSON, snapshotJson, type EncodedSnapshot } from './snapshot-build.js';

const text = (b: Uint8Array) => utf8Decode(b) as string;

function encoded(d: Parameters<typeof buildSnapshot>[0], carried?: Parameters<typeof buildSnapshot>[1]): EncodedSnapshot {
  const e = encodeForPublish(buildSnapshot(d, carried));
  assert.ok(!(e instanceof BridgeError), String(e));
  return e;
}

test('snapshot mock: the spec GPUs and models decode on the hive side exactly', () => {
  const e = encoded(mockDiscovery());
  const s = decodeSnapshot(e.payload);
  assert.ok(!(s instanceof NineError), String(s));
  assert.deepEqual(s.nodes.map((n) => JSON.parse(text(n.info))), [
    { id: 'GPU-0', name: 'Mock 4090', memory_mb: 24576, sm_count: 144, driver_version: '555.0', runtime_version: '12.4', index: 0, uuid: 'MOCK-0' },
    { id: 'GPU-1', name: 'Mock 4060', memory_mb: 8192, sm_count: 64, driver_version: '555.0', runtime_version: '12.4', index: 1, uuid: 'MOCK-1' },
  ]);
  assert.deepEqual(s.nodes.map((n) => [text(n.ctl), text(n.lease), text(n.status)]), [['LEASE GPU-0\n', '', ''], ['LEASE GPU-1\n', '', '']]);
  assert.deepEqual(s.models.map((m) => m.id), ['vision-base-v1', 'vision-lora-edge']);
  assert.equal(s.active, 'vision-lora-edge');
  assert.equal(text(s.telemetrySchema), GPU_TELEMETRY_SCHEMA_JSON);
  assert.equal(e.sha256, toHex(sha256(e.payload)));
});

test('snapshot nvidia-smi: real GPUs round-trip with active "none" and no models', async () => {
  const d = await discoverReal(fixtureRunner('multi-gpu.csv', 'header-610-umd.txt'));
  assert.ok(!(d instanceof BridgeError));
  const s = decodeSnapshot(encoded(d).payload);
  assert.ok(!(s instanceof NineError), String(s));
  assert.deepEqual(s.nodes.map((n) => n.id), ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3']);
  assert.equal(JSON.parse(text(s.nodes[3].info)).runtime_version, '13.3');
  assert.deepEqual([s.models.length, s.active], [0, 'none']);
});

test('snapshot carry-over: a republish keeps the hive lease, ctl and status text of a GPU', () => {
  const lease = '{"schema":"gpu-lease/v1","state":"ACTIVE","gpu_id":"GPU-1","worker_id":"worker-4","mem_mb":1,"streams":1,"ttl_s":9,"priority":0}\n';
  const s = decodeSnapshot(encoded(mockDiscovery(), new Map([['GPU-1', { ctl: 'LEASE GPU-1\nLEASE worker-4 mem=1 streams=1 priority=0\n', lease, status: '' }]])).payload);
  assert.ok(!(s instanceof NineError));
  assert.equal(text(s.nodes[1].lease), lease);
  assert.equal(text(s.nodes[0].lease), '');
});

test('snapshot publish lines: begin with size and hash, chunks ≤ 124 chars and a multiple of 4, end; chunks rebuild the payload', () => {
  const e = encoded(mockDiscovery(16));
  const lines = publishPayloads(e);
  assert.equal(lines[0], `begin bytes=${e.payload.length} sha256=${e.sha256}`);
  assert.equal(lines.at(-1), 'end');
  const chunks = lines.slice(1, -1).map((l) => l.slice(4));
  assert.ok(chunks.every((c) => c.length <= 124 && c.length % 4 === 0 && c.length > 0));
  assert.ok(lines.every((l) => Buffer.byteLength(l) <= 128), 'every ctl line fits one console ECHO payload');
  const back = chunks.map((c) => base64Decode(c) as Uint8Array);
  assert.deepEqual(Buffer.concat(back), Buffer.from(e.payload));
});

test('snapshot --list JSON: decoded blobs with the payload size and hash', () => {
  const snap = buildSnapshot(mockDiscovery());
  const e = encodeForPublish(snap) as EncodedSnapshot;
  const j = snapshotJson(snap, e) as { schema: string; bytes: number; nodes: { info: { name: string } }[]; telemetry_schema: { schema_version: string } };
  assert.equal(j.schema, 'gpu-bridge-snapshot/v1');
  assert.equal(j.bytes, e.payload.length);
  assert.equal(j.nodes[1].info.name, 'Mock 4060');
  assert.equal(j.telemetry_schema.schema_version, 'gpu-telemetry/v1');
});

test('snapshot refusal: over the hive payload bound is snapshot-too-big, never truncated', () => {
  const d = mockDiscovery();
  d.models = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, manifest: 'x'.repeat(8000) }));
  d.active = 'm0';
  const e = encodeForPublish(buildSnapshot(d));
  assert.ok(e instanceof BridgeError);
  assert.equal(e.code, 'snapshot-too-big');
});
