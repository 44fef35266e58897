// Tests for manifest v0 validation: the exact message a user sees for each broken field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeManifest, fillManifest, parseManifestBytes, validateManifest, validateTemplate } from './manifest.js';
import { bytes, FAKE_ENGINE_VERSION, FAKE_FINGERPRINT, hostTemplate } from './fixtures.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function filled(): Json {
  const facts = new Map([
    ['root-task.qbc', { size: 2000, sha256: 'a'.repeat(64) }],
    ['worker-heart.qbc', { size: 1000, sha256: 'b'.repeat(64) }],
  ]);
  return JSON.parse(JSON.stringify(fillManifest(hostTemplate(), { version: FAKE_ENGINE_VERSION, fingerprint: FAKE_FINGERPRINT }, facts)));
}

function template(): Json {
  return JSON.parse(JSON.stringify(hostTemplate()));
}

function refusedWith(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'manifest');
    assert.equal((e as Error).message, message);
    return true;
  });
}

function imageRefuses(mutate: (m: Json) => void, message: string): void {
  const m = filled();
  mutate(m);
  refusedWith(() => validateManifest(m), message);
}

test('manifest: every board template is valid, and a template fills in to a valid manifest', () => {
  for (const board of ['boards/host/manifest.json', 'boards/host/js-tests.json', 'boards/qemu-virt-aarch64/manifest.json']) {
    const t = parseManifestBytes(readFileSync(`${REPO}/${board}`), 'template', board) as { tasks: { name: string }[] };
    assert.ok(t.tasks.length >= 1, board);
  }
  const host = parseManifestBytes(readFileSync(`${REPO}/boards/host/manifest.json`), 'template', 'host') as { tasks: { name: string }[] };
  assert.deepEqual(host.tasks.map((x) => x.name), ['root-task', 'ninedoor', 'worker-heart', 'worker-gpu', 'net-console']);
  void hostTemplate;
  const m = validateManifest(filled());
  assert.equal(m.tasks[1].sha256, 'b'.repeat(64));
  assert.deepEqual(m.engine, { version: FAKE_ENGINE_VERSION, fingerprint: FAKE_FINGERPRINT });
  assert.deepEqual(Object.keys(m), ['schema', 'image_id', 'profile', 'engine', 'root_task', 'tasks', 'console']);
  assert.deepEqual(Object.keys(m.tasks[0]), ['name', 'bundle', 'size', 'sha256', 'arena_bytes', 'cpu_slice_ms', 'grants', 'config']);
  assert.deepEqual(parseManifestBytes(encodeManifest(m), 'image', 'manifest'), m, 'encode then parse is the identity');
});

test('manifest: arena_bytes not a page multiple, or out of range, is refused naming the task', () => {
  const msg = 'manifest: tasks[1].arena_bytes must be a multiple of 4096 between 65536 and 268435456';
  imageRefuses((m) => (m.tasks[1].arena_bytes = 262145), msg);
  imageRefuses((m) => (m.tasks[1].arena_bytes = 61440), msg);
  imageRefuses((m) => (m.tasks[1].arena_bytes = 268439552), msg);
  imageRefuses((m) => (m.tasks[1].arena_bytes = '262144'), msg);
  imageRefuses((m) => delete m.tasks[1].arena_bytes, 'manifest: tasks[1].arena_bytes is missing');
  for (const ok of [65536, 268435456]) {
    const m = filled();
    m.tasks[1].arena_bytes = ok;
    assert.equal(validateManifest(m).tasks[1].arena_bytes, ok);
  }
});

test('manifest: cpu_slice_ms outside 1..10000 is refused', () => {
  const msg = 'manifest: tasks[0].cpu_slice_ms must be an integer between 1 and 10000';
  imageRefuses((m) => (m.tasks[0].cpu_slice_ms = 0), msg);
  imageRefuses((m) => (m.tasks[0].cpu_slice_ms = 10001), msg);
  imageRefuses((m) => (m.tasks[0].cpu_slice_ms = 1.5), msg);
});

test('manifest: a task name that is not 1..31 bytes of [a-z0-9-], or repeats, is refused', () => {
  const msg = 'manifest: tasks[1].name must be 1..31 bytes of [a-z0-9-]';
  imageRefuses((m) => (m.tasks[1].name = 'Worker'), msg);
  imageRefuses((m) => (m.tasks[1].name = ''), msg);
  imageRefuses((m) => (m.tasks[1].name = 'w'.repeat(32)), msg);
  imageRefuses((m) => (m.tasks[1].name = 'worker_heart'), msg);
  imageRefuses((m) => {
    m.tasks[1].name = 'root-task';
    m.tasks[1].bundle = 'root-task.qbc';
  }, 'manifest: tasks[1].name "root-task" is used by an earlier task; task names must be unique');
});

test('manifest: a bundle not named <task>.qbc is refused', () => {
  imageRefuses((m) => (m.tasks[1].bundle = 'heart.qbc'), 'manifest: tasks[1].bundle must be "worker-heart.qbc" (the task\'s name + .qbc)');
  imageRefuses((m) => delete m.tasks[1].bundle, 'manifest: tasks[1].bundle is missing');
});

test('manifest: an unknown or repeated grant is refused', () => {
  imageRefuses((m) => m.tasks[1].grants.push('gpu'), 'manifest: tasks[1].grants[3] "gpu" is not a capability (one of log console net timer channel task image update)');
  imageRefuses((m) => m.tasks[1].grants.push('log'), 'manifest: tasks[1].grants[3] "log" is granted twice');
  imageRefuses((m) => (m.tasks[1].grants = 'log'), 'manifest: tasks[1].grants must be an array of capability names (log console net timer channel task image update)');
  const none = filled();
  none.tasks[1].grants = [];
  assert.deepEqual(validateManifest(none).tasks[1].grants, []);
});

test('manifest: root_task must name a task', () => {
  imageRefuses((m) => (m.root_task = 'queen'), 'manifest: root_task "queen" names no entry in tasks');
});

test('manifest: schema, profile and image_id rules', () => {
  imageRefuses((m) => (m.schema = 'cohesix-manifest/v0'), 'manifest: schema must be exactly "cohesix-manifest/v1"');
  imageRefuses((m) => (m.profile = 'prod'), 'manifest: profile must be "dev" or "release"');
  imageRefuses((m) => (m.image_id = 'my image'), 'manifest: image_id must be 1..64 bytes of [A-Za-z0-9._-]');
  imageRefuses((m) => (m.image_id = ''), 'manifest: image_id must be 1..64 bytes of [A-Za-z0-9._-]');
});

test('manifest: unknown fields are refused at every level', () => {
  imageRefuses((m) => (m.signature = 'x'), 'manifest: has unknown field "signature" (known: schema, image_id, profile, engine, root_task, tasks, console)');
  imageRefuses((m) => (m.tasks[0].arena = 1), 'manifest: tasks[0] has unknown field "arena" (known: name, bundle, size, sha256, arena_bytes, cpu_slice_ms, grants, config)');
  imageRefuses((m) => (m.engine.built = 'today'), 'manifest: engine has unknown field "built" (known: version, fingerprint)');
  imageRefuses((m) => (m.console.bind = '0.0.0.0'), 'manifest: console has unknown field "bind" (known: port, auth_token, max_sessions, idle_timeout_ms)');
});

test('manifest: config is required but may be any JSON', () => {
  imageRefuses((m) => delete m.tasks[0].config, 'manifest: tasks[0].config is missing');
  for (const config of [null, 0, 'x', [1, { a: [] }]]) {
    const m = filled();
    m.tasks[0].config = config;
    assert.deepEqual(validateManifest(m).tasks[0].config, config);
  }
});

test('manifest: size, sha256 and engine are required in an image and checked', () => {
  imageRefuses((m) => delete m.tasks[0].sha256, 'manifest: tasks[0].sha256 is missing');
  imageRefuses((m) => (m.tasks[0].sha256 = 'A'.repeat(64)), 'manifest: tasks[0].sha256 must be 64 lowercase hex digits (SHA-256 of the whole .qbc file)');
  imageRefuses((m) => (m.tasks[0].size = 103), 'manifest: tasks[0].size must be the bundle\'s size in bytes, an integer between 104 and 16777216');
  imageRefuses((m) => delete m.engine, 'manifest: engine is missing');
  imageRefuses((m) => (m.engine.fingerprint = 'abc'), 'manifest: engine.fingerprint must be 64 lowercase hex digits');
  imageRefuses((m) => (m.engine.version = '0.15.1-with-a-long-suffix'), 'manifest: engine.version must be 1..16 printable ASCII bytes (the quickjs-ng version, e.g. "0.15.1")');
});

test('manifest: a template must leave out what the tool fills in', () => {
  const withSize = template();
  withSize.tasks[0].size = 5;
  refusedWith(() => validateTemplate(withSize), 'manifest: tasks[0].size is filled in by the image tool from the bundle; leave it out of the template');
  const withEngine = template();
  withEngine.engine = { version: '0.15.1', fingerprint: FAKE_FINGERPRINT };
  refusedWith(() => validateTemplate(withEngine), 'manifest: engine is filled in by the image tool from the bundles; leave it out of the template');
  const noBundle = template();
  delete noBundle.tasks[0].bundle;
  assert.equal(validateTemplate(noBundle).tasks[0].bundle, 'root-task.qbc', 'a template may leave bundle out');
});

test('manifest: tasks must be 1..32 entries', () => {
  imageRefuses((m) => (m.tasks = []), 'manifest: tasks must be an array of 1..32 task entries');
  const many = template();
  many.tasks = Array.from({ length: 33 }, (_, i) => ({ ...many.tasks[1], name: `w${i}`, bundle: `w${i}.qbc` }));
  many.root_task = 'w0';
  refusedWith(() => validateTemplate(many), 'manifest: tasks must be an array of 1..32 task entries');
  many.tasks.pop();
  assert.equal(validateTemplate(many).tasks.length, 32);
});

test('manifest: console rules', () => {
  imageRefuses((m) => (m.console.port = 0), 'manifest: console.port must be an integer between 1 and 65535');
  imageRefuses((m) => (m.console.port = 65536), 'manifest: console.port must be an integer between 1 and 65535');
  imageRefuses((m) => (m.console.auth_token = 'change me'), 'manifest: console.auth_token must be 1..251 printable ASCII bytes without spaces');
  imageRefuses((m) => (m.console.auth_token = 'x'.repeat(252)), 'manifest: console.auth_token must be 1..251 printable ASCII bytes without spaces');
  imageRefuses((m) => (m.console.max_sessions = 0), 'manifest: console.max_sessions must be an integer between 1 and 64');
  imageRefuses((m) => ((m.console as { idle_timeout_ms?: number }).idle_timeout_ms = 999), 'manifest: console.idle_timeout_ms must be an integer between 1000 and 3600000');
  imageRefuses((m) => delete m.console, 'manifest: console is missing');
});

test('manifest: bytes must be strict UTF-8 and strict JSON', () => {
  const base = filled();
  base.tasks[0].config = {}; // the edits below splice into an empty root config
  const text = new TextDecoder().decode(encodeManifest(validateManifest(base)));
  refusedWith(() => parseManifestBytes(new Uint8Array([0x7b, 0xff, 0x7d]), 'image', 'manifest'), 'manifest: not valid UTF-8');
  // A BOM is kept, not stripped, so JSON.parse refuses it (the message after the prefix is V8's).
  assert.throws(() => parseManifestBytes(bytes('\ufeff' + text), 'image', 'manifest'), /^ImageError: manifest: not valid JSON \(/);
  const dup = text.replace('"cpu_slice_ms": 50,', '"cpu_slice_ms": 50, "cpu_slice_ms": 9999,');
  refusedWith(() => parseManifestBytes(bytes(dup), 'image', 'manifest'), 'manifest: duplicate key "cpu_slice_ms" in tasks[0]');
  const dupTop = text.replace('"profile": "dev",', '"profile": "dev", "profile": "release",');
  refusedWith(() => parseManifestBytes(bytes(dupTop), 'image', 'manifest'), 'manifest: duplicate key "profile" in the top-level object');
  const escaped = text.replace('"profile": "dev",', '"profile": "dev", "pro\\u0066ile": "release",');
  refusedWith(() => parseManifestBytes(bytes(escaped), 'image', 'manifest'), 'manifest: duplicate key "profile" in the top-level object');
  const deep = text.replace('"config": {}', '"config": ' + '['.repeat(40) + ']'.repeat(40));
  refusedWith(() => parseManifestBytes(bytes(deep), 'image', 'manifest'), 'manifest: tasks[0].config' + '[0]'.repeat(29) + ' nests deeper than JSON_DEPTH_MAX (32)');
  const sameKeyElsewhere = text.replace('"config": {}', '"config": {"a": {"a": 1}, "b": {"a": 2}}');
  assert.deepEqual((parseManifestBytes(bytes(sameKeyElsewhere), 'image', 'manifest') as { tasks: { config: unknown }[] }).tasks[0].config, { a: { a: 1 }, b: { a: 2 } });
});
