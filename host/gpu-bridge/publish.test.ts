// Publish over a real TCP console into an in-process hive (js/console session → NineDoor): install, corrupt publishes keep the old install, CLI exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverReal } from './discovery.js';
import { main } from './cli.js';
import { BridgeError } from './errors.js';
import { FAKE_AUTH_TOKEN, FakeHive } from './fake-hive.support.js';
import { fixtureRunner } from './fixtures.support.js';
import type { ConsoleLink } from './link.js';
import { mockDiscovery } from './mock.js';
import { publishPayloads, publishSnapshot, type PublishResult } from './publish.js';
import { buildSnapshot, encodeForPublish, type EncodedSnapshot } from './snapshot-build.js';
import { connectConsole } from './tcp-link.js';

async function withHive(fn: (h: FakeHive, link: ConsoleLink) => Promise<void>): Promise<void> {
  const h = new FakeHive();
  const port = await h.listen();
  const link = await connectConsole({ host: '127.0.0.1', port, authToken: FAKE_AUTH_TOKEN });
  assert.ok(!(link instanceof BridgeError), String(link));
  try {
    await fn(h, link);
  } finally {
    await link.close();
    await h.close();
  }
}

async function h100s(): Promise<EncodedSnapshot> {
  const d = await discoverReal(fixtureRunner('multi-gpu.csv', 'header-550.txt'));
  assert.ok(!(d instanceof BridgeError));
  return encodeForPublish(buildSnapshot(d)) as EncodedSnapshot;
}

test('publish: the hive installs /gpu/<id>/*, models and schema, and reports state=ok with our size and hash', async () => {
  await withHive(async (h, link) => {
    assert.deepEqual(h.lines('/gpu/bridge/status'), ['state=idle']);
    const e = encodeForPublish(buildSnapshot(mockDiscovery(3))) as EncodedSnapshot;
    const r = await publishSnapshot(link, e);
    assert.ok(!(r instanceof BridgeError), String(r));
    assert.equal((r as PublishResult).status, `state=ok bytes=${e.payload.length} sha256=${e.sha256}`);
    assert.equal((r as PublishResult).echoes, publishPayloads(e).length);
    assert.deepEqual(h.door.gpu.gpuIds(), ['GPU-0', 'GPU-1', 'GPU-2']);
    assert.equal(JSON.parse(h.text('/gpu/GPU-2/info')).name, 'Mock 4090');
    assert.equal(h.text('/gpu/GPU-2/ctl'), 'LEASE GPU-2\n');
    assert.equal(h.text('/gpu/models/active'), 'vision-lora-edge\n');
    assert.match(h.text('/gpu/models/available/vision-base-v1/manifest.toml'), /kind = "base"/);
    assert.match(h.text('/gpu/telemetry/schema.json'), /"schema_version":"gpu-telemetry\/v1"/);
  });
});

test('publish: nvidia-smi GPUs replace the seeded mock ones', async () => {
  await withHive(async (h, link) => {
    const r = await publishSnapshot(link, await h100s());
    assert.ok(!(r instanceof BridgeError), String(r));
    assert.deepEqual(h.door.gpu.gpuIds(), ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3']);
    const info = JSON.parse(h.text('/gpu/GPU-1/info'));
    assert.deepEqual([info.name, info.memory_mb, info.sm_count, info.runtime_version], ['NVIDIA H100 80GB HBM3', 81559, 0, '12.4']);
  });
});

/** A good publish, then a corrupt one: the hive must keep the first and say state=err. */
async function corrupt(mutate: (lines: string[], e: EncodedSnapshot) => string[], reason: RegExp): Promise<void> {
  await withHive(async (h, link) => {
    const good = await h100s();
    assert.ok(!(await publishSnapshot(link, good) instanceof BridgeError));
    const bad = encodeForPublish(buildSnapshot(mockDiscovery(5))) as EncodedSnapshot;
    const r = await publishSnapshot(link, bad, mutate(publishPayloads(bad), bad));
    assert.ok(r instanceof BridgeError, 'the corrupt publish must fail');
    assert.equal(r.code, 'publish-failed');
    assert.match(r.message, reason);
    const [status] = h.lines('/gpu/bridge/status');
    assert.match(status, /^state=err reason=/);
    assert.match(status, reason);
    assert.deepEqual(h.door.gpu.gpuIds(), ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3'], 'old install kept');
    assert.match(h.text('/gpu/GPU-3/info'), /H100/);
  });
}

test('publish refusal: wrong sha256 → state=err sha256 mismatch, old install kept', async () => {
  await corrupt((l, e) => [`begin bytes=${e.payload.length} sha256=${'0'.repeat(64)}`, ...l.slice(1)], /sha256 mismatch/);
});

test('publish refusal: declared bytes too large → state=err byte count mismatch at end, old install kept', async () => {
  await corrupt((l, e) => [`begin bytes=${e.payload.length + 1} sha256=${e.sha256}`, ...l.slice(1)], /byte count mismatch: expected \d+ got \d+/);
});

test('publish refusal: declared bytes too small → the chunk that passes it is refused, old install kept', async () => {
  await corrupt((l, e) => [`begin bytes=${e.payload.length - 100} sha256=${e.sha256}`, ...l.slice(1)], /byte count mismatch: more than/);
});

test('publish refusal: a chunk missing from the middle → state=err, old install kept', async () => {
  await corrupt((l) => [...l.slice(0, 3), ...l.slice(4)], /byte count mismatch|sha256 mismatch/);
});

test('publish bug: a closed gate\'s EPERM was reported as publish-failed: state=idle; the refusal itself is the reason', async () => {
  await withHive(async (h, link) => {
    h.door.state.setLifecycle({ state: 'QUIESCED', reason: 'test', sinceMs: 0 });
    const e = encodeForPublish(buildSnapshot(mockDiscovery(2))) as EncodedSnapshot;
    const r = await publishSnapshot(link, e);
    assert.ok(r instanceof BridgeError, 'a closed gate refuses the publish');
    assert.equal(r.code, 'publish-failed');
    assert.match(r.message, /^ECHO \/gpu\/bridge\/ctl begin bytes=\d+ .*→ ERR ECHO reason=policy detail=denied path=\/gpu\/bridge\/ctl error=EPERM$/);
    assert.doesNotMatch(r.message, /state=idle/);
    assert.deepEqual(h.lines('/gpu/bridge/status'), ['state=idle'], 'the channel never saw it (no side effect, spec §15)');
  });
});

test('publish: after a failed publish, a closed gate still reports its EPERM, not the old state=err', async () => {
  await withHive(async (h, link) => {
    const e = encodeForPublish(buildSnapshot(mockDiscovery(2))) as EncodedSnapshot;
    const bad = await publishSnapshot(link, e, [`begin bytes=${e.payload.length} sha256=${'0'.repeat(64)}`, ...publishPayloads(e).slice(1)]);
    assert.ok(bad instanceof BridgeError && /sha256 mismatch/.test(bad.message), String(bad));
    h.door.state.setLifecycle({ state: 'QUIESCED', reason: 'test', sinceMs: 0 });
    const r = await publishSnapshot(link, e);
    assert.ok(r instanceof BridgeError);
    assert.match(r.message, /error=EPERM/);
    assert.doesNotMatch(r.message, /sha256 mismatch/);
  });
});

test('cli --publish against the hive: exit 0 and the published line; wrong token exits 1 with auth-failed', async () => {
  const h = new FakeHive({ mockGpus: false });
  const port = await h.listen();
  try {
    let out = '';
    let err = '';
    const io = { out: (t: string) => (out += t), err: (t: string) => (err += t) };
    const code = await main(['--mock', '--publish', '--tcp-port', String(port)], io, { env: {} });
    assert.equal(code, 0, err);
    assert.match(out, /^published gpus=2 bytes=\d+ sha256=[0-9a-f]{64} echoes=\d+\n$/);
    assert.deepEqual(h.door.gpu.gpuIds(), ['GPU-0', 'GPU-1']);
    err = '';
    const bad = await main(['--mock', '--publish', '--tcp-port', String(port)], io, { env: { COHSH_AUTH_TOKEN: 'wrong!!!' } });
    assert.equal(bad, 1);
    assert.match(err, /gpu-bridge-host: auth-failed: ERR AUTH reason=invalid-token/);
  } finally {
    await h.close();
  }
});

test('cli refusal: no hive listening is connect-failed after the retries; usage errors exit 2', async () => {
  const h = new FakeHive();
  const port = await h.listen();
  await h.close();
  let err = '';
  const io = { out: () => undefined, err: (t: string) => (err += t) };
  assert.equal(await main(['--mock', '--publish', '--tcp-port', String(port)], io, { env: {} }), 1);
  assert.match(err, /connect attempt #2 failed/);
  assert.match(err, /gpu-bridge-host: connect-failed: cannot connect to 127\.0\.0\.1:\d+/);
  assert.equal(await main(['--mock', '--list', '--publish'], io, { env: {} }), 2);
  assert.equal(await main(['--mock', '--interval-ms', '5'], io, { env: {} }), 2);
  assert.equal(await main(['--bogus'], io, { env: {} }), 2);
});

test('cli --list: nvidia-smi failure prints the code and exits 1 with nothing on stdout (never a half snapshot)', async () => {
  let out = '';
  let err = '';
  const io = { out: (t: string) => (out += t), err: (t: string) => (err += t) };
  const code = await main(['--list'], io, { smi: fixtureRunner({ code: 9, text: 'error-no-driver.txt' }, 'header-550.txt'), env: {} });
  assert.equal(code, 1);
  assert.equal(out, '');
  assert.match(err, /^gpu-bridge-host: smi-failed: /);
  out = '';
  assert.equal(await main(['--list'], io, { smi: fixtureRunner('na-fields.csv', 'header-550.txt'), env: {} }), 0);
  const j = JSON.parse(out);
  assert.deepEqual(j.nodes.map((n: { info: { name: string } }) => n.info.name), ['NVIDIA GeForce GTX 1050', 'Tesla K80']);
});
