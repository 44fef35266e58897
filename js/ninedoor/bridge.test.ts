// The GPU bridge publish channel through 9P (spec §11.3): a good publish installs /gpu; wrong sha256 or byte count → state=err, old install kept.
import { sha256 } from '@noble/hashes/sha2.js';
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { base64Encode } from '../bytes/base64.js';
import { toHex, utf8Encode } from '../bytes/utf8.js';
import { Errno, NineError } from '../secure9p/errors.js';
import { hive, refused, ticket, wrote, type Client } from './door.support.js';
import { decodeSnapshot, encodeSnapshot, type GpuSnapshot } from './snapshot.js';

const info = (id: string, name: string) => utf8Encode(JSON.stringify({ id, name, memory_mb: 1024, sm_count: 8, driver_version: '1', runtime_version: '2' }));

function snapshot(gpuIds: string[], models = ['vision-base-v1', 'vision-lora-edge'], active = 'vision-lora-edge'): GpuSnapshot {
  return {
    nodes: gpuIds.map((id) => ({ id, info: info(id, `Real ${id}`), ctl: utf8Encode(`LEASE ${id}\n`), lease: new Uint8Array(0), status: new Uint8Array(0) })),
    models: models.map((id) => ({ id, manifest: utf8Encode(`id = "${id}"\n`) })),
    active,
    telemetrySchema: utf8Encode('{"schema_version":"gpu-telemetry/v1","max_record_bytes":4096}'),
  };
}

/** The publish lines a gpu-bridge-host would ECHO: begin, ≤ 124-char b64 chunks, end. */
function publishLines(payload: Uint8Array, o: { bytes?: number; sha?: string } = {}): string[] {
  const b64 = base64Encode(payload);
  const lines = [`begin bytes=${o.bytes ?? payload.length} sha256=${o.sha ?? toHex(sha256(payload))}`];
  for (let i = 0; i < b64.length; i += 124) lines.push(`b64:${b64.slice(i, i + 124)}`);
  lines.push('end');
  return lines;
}

/** Sends each line as its own write, as the console would; returns the first refusal or null. */
function publish(q: Client, lines: string[]): number | null {
  for (const l of lines) {
    const r = q.append('/gpu/bridge/ctl', l + '\n');
    if (r.kind === 'Rlerror') return r.ecode;
  }
  return null;
}

test('ninedoor bridge: status starts idle; a good publish installs nodes, models and schema, with state=ok', () => {
  const h = hive();
  const q = h.client();
  equal(q.cat('/gpu/bridge/status'), 'state=idle\n');
  refused(q.walk('/gpu/models'), Errno.ENOENT, 'no models before a publish');
  const payload = encodeSnapshot(snapshot(['GPU-7']));
  const lines = publishLines(payload);
  ok(lines.length > 3, 'several chunks');
  equal(publish(q, lines.slice(0, 2)), null);
  equal(q.cat('/gpu/bridge/status'), `state=receiving bytes=${payload.length}\n`);
  equal(publish(q, lines.slice(2)), null);
  equal(q.cat('/gpu/bridge/status'), `state=ok bytes=${payload.length} sha256=${toHex(sha256(payload))}\n`);
  deepEqual(q.ls('/gpu'), ['GPU-7', 'bridge', 'models', 'telemetry'], 'the mock GPUs give way to the published ones');
  equal(q.cat('/gpu/GPU-7/ctl'), 'LEASE GPU-7\n');
  ok((q.cat('/gpu/GPU-7/info') as string).includes('"Real GPU-7"'));
  deepEqual(q.ls('/gpu/models/available'), ['vision-base-v1', 'vision-lora-edge']);
  equal(q.cat('/gpu/models/available/vision-base-v1/manifest.toml'), 'id = "vision-base-v1"\n');
  equal(q.cat('/gpu/models/active'), 'vision-lora-edge\n');
  equal(q.cat('/gpu/telemetry/schema.json'), '{"schema_version":"gpu-telemetry/v1","max_record_bytes":4096}');
});

test('ninedoor bridge: a wrong sha256 is EINVAL, state=err, and the old install stays', () => {
  const q = hive().client();
  equal(publish(q, publishLines(encodeSnapshot(snapshot(['GPU-7'])))), null);
  const next = encodeSnapshot(snapshot(['GPU-8']));
  equal(publish(q, publishLines(next, { sha: '0'.repeat(64) })), Errno.EINVAL);
  ok((q.cat('/gpu/bridge/status') as string).startsWith(`state=err reason=sha256 mismatch: expected ${'0'.repeat(64)} got `));
  deepEqual(q.ls('/gpu'), ['GPU-7', 'bridge', 'models', 'telemetry']);
});

test('ninedoor bridge: a wrong byte count is EINVAL at end (short) or at the chunk that overflows (long); old install kept', () => {
  const q = hive().client();
  const p = encodeSnapshot(snapshot(['GPU-8']));
  equal(publish(q, publishLines(p, { bytes: p.length + 1 })), Errno.EINVAL);
  equal(q.cat('/gpu/bridge/status'), `state=err reason=byte count mismatch: expected ${p.length + 1} got ${p.length}\n`);
  equal(publish(q, publishLines(p, { bytes: 10 })), Errno.EINVAL);
  equal(q.cat('/gpu/bridge/status'), 'state=err reason=byte count mismatch: more than 10 bytes\n');
  deepEqual(q.ls('/gpu'), ['GPU-0', 'GPU-1', 'bridge'], 'the mock install is kept');
});

test('ninedoor bridge: b64 or end without begin, bad chunks and undecodable snapshots are EINVAL', () => {
  const q = hive().client();
  equal(publish(q, ['b64:AAAA']), Errno.EINVAL);
  equal(q.cat('/gpu/bridge/status'), 'state=err reason=b64 chunk without begin\n');
  equal(publish(q, ['end']), Errno.EINVAL);
  equal(publish(q, ['begin bytes=3 sha256=' + '0'.repeat(64), 'b64:AAA']), Errno.EINVAL, 'chunk not a multiple of 4');
  equal(publish(q, ['begin bytes=999999 sha256=' + '0'.repeat(64)]), Errno.EINVAL, 'over 131072');
  const junk = utf8Encode('schema gpu-bridge-snapshot/v1\nend\n');
  equal(publish(q, publishLines(junk)), Errno.EINVAL);
  equal(q.cat('/gpu/bridge/status'), 'state=err reason=snapshot has no active line\n');
});

test('ninedoor bridge: a closed host-publish gate refuses with the gate line; workers cannot reach the bridge', () => {
  const h = hive();
  const q = h.client();
  h.door.state.setLifecycle({ state: 'DRAINING', reason: 'cordon', sinceMs: 0 });
  equal(publish(q, ['begin bytes=1 sha256=' + '0'.repeat(64)]), Errno.EPERM);
  equal(h.sink.at(-1), 'lifecycle denied action=host-publish state=DRAINING reason=gate-denied');
  equal(q.cat('/gpu/bridge/status'), 'state=idle\n', 'nothing happened');
  h.door.addWorker('worker-1', 'heartbeat');
  refused(h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' })).walk('/gpu/bridge/ctl'), Errno.EPERM);
});

test('snapshot: the grammar is strict (order of required lines, listed active model, nothing after end)', () => {
  const good = snapshot(['GPU-0']);
  ok(!(decodeSnapshot(encodeSnapshot(good)) instanceof NineError));
  const text = new TextDecoderShim(encodeSnapshot(good)).text;
  const variants: Array<[string, string]> = [
    [text.replace('schema gpu-bridge-snapshot/v1', 'schema gpu-bridge-snapshot/v2'), 'must start with schema'],
    [text + 'node id=x\n', 'has lines after end'],
    [text.replace(/active id=\S+/, 'active id=nope'), 'active model nope is not listed'],
    [text.replace(/telemetry schema=\S+\n/, ''), 'has no telemetry line'],
    [text.replace('node id=GPU-0', 'node id=GPU-0 extra=1'), 'unknown key extra'],
    [text.replace(/info=\S+/, 'info=!!!!'), 'info is not base64'],
  ];
  for (const [t, why] of variants) {
    const r = decodeSnapshot(utf8Encode(t));
    ok(r instanceof NineError && r.message.includes(why), `${why}: got ${r instanceof NineError ? r.message : 'ok'}`);
  }
  ok(!(decodeSnapshot(encodeSnapshot(snapshot([], [], 'any'))) instanceof NineError), 'no models: active may name anything');
});

/** ASCII text of bytes without TextDecoder (js/ may not use it). */
class TextDecoderShim {
  readonly text: string;
  constructor(b: Uint8Array) {
    this.text = String.fromCharCode(...b);
  }
}
