// Tests for image v0 as a whole: build, open, check, and the refusals that tie manifest, CPIO and bundles together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCpio, writeCpio } from './cpio.js';
import { buildImage, checkImage, openImage, type BundleSource } from './image.js';
import { encodeManifest, type ManifestTemplate } from './manifest.js';
import { sha256Hex } from './qbc.js';
import { fakeQbc, FAKE_FINGERPRINT, hostTemplate, OTHER_FINGERPRINT } from './fixtures.js';

function bundles(fpWorker = FAKE_FINGERPRINT, versionWorker = '0.15.1'): Map<string, BundleSource> {
  return new Map([
    ['root-task.qbc', { bytes: fakeQbc('export default function main(caps) { caps.log.write("root"); }'), label: 'b/root-task.qbc' }],
    ['worker-heart.qbc', { bytes: fakeQbc('export default function main(caps) { /* heart */ }', fpWorker, versionWorker), label: 'b/worker-heart.qbc' }],
  ]);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'none';
}

function throwsCode(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as { code?: string }).code, code, (e as Error).message);
    assert.match((e as Error).message, message);
    return true;
  });
}

test('image: build then open gives the manifest, the bundles in order, and no problems', () => {
  const b = bundles();
  const { image, manifest } = buildImage(hostTemplate(), b);
  assert.equal(image.length % 512, 0);
  const img = openImage(image);
  assert.deepEqual(img.manifest, manifest);
  assert.deepEqual(readCpio(image).map((e) => e.name), ['manifest.json', 'root-task.qbc', 'worker-heart.qbc']);
  for (const { task, entry } of img.bundles) {
    const src = b.get(task.bundle)!.bytes;
    assert.deepEqual(Buffer.from(entry.data), Buffer.from(src));
    assert.equal(task.size, src.length);
    assert.equal(task.sha256, sha256Hex(src));
  }
  assert.deepEqual(manifest.engine, { version: '0.15.1', fingerprint: FAKE_FINGERPRINT });
  assert.deepEqual(checkImage(img), []);
  assert.deepEqual(Buffer.from(buildImage(hostTemplate(), bundles()).image), Buffer.from(image), 'builds are reproducible');
});

test('image: refuses bundles built by different engines', () => {
  throwsCode(() => buildImage(hostTemplate(), bundles(OTHER_FINGERPRINT)), 'image-engine',
    /bundles disagree on the engine: b\/root-task\.qbc was built by 0\.15\.1 fingerprint f1f1.*, b\/worker-heart\.qbc by 0\.15\.1 fingerprint e2e2/);
  throwsCode(() => buildImage(hostTemplate(), bundles(FAKE_FINGERPRINT, '0.16.0')), 'image-engine', /worker-heart\.qbc by 0\.16\.0/);
});

test('image: refuses a bundle whose fingerprint differs from cohc --fingerprint', () => {
  throwsCode(() => buildImage(hostTemplate(), bundles(), { expectFingerprint: OTHER_FINGERPRINT }), 'image-engine',
    /b\/root-task\.qbc: engine fingerprint f1f1\S+ differs from cohc --fingerprint e2e2/);
});

test('image: refuses to build with a missing or broken bundle', () => {
  const b = bundles();
  b.delete('worker-heart.qbc');
  throwsCode(() => buildImage(hostTemplate(), b), 'image-missing', /bundles: no worker-heart\.qbc for task worker-heart/);
  const broken = bundles();
  broken.get('worker-heart.qbc')!.bytes[0] = 0;
  throwsCode(() => buildImage(hostTemplate(), broken), 'qbc', /^b\/worker-heart\.qbc: bad magic/);
});

/** A valid manifest and bundles for writing images by hand, in any entry order. */
function parts() {
  const b = bundles();
  const { manifest } = buildImage(hostTemplate(), b);
  return {
    manifest: { name: 'manifest.json', data: encodeManifest(manifest) },
    root: { name: 'root-task.qbc', data: b.get('root-task.qbc')!.bytes },
    worker: { name: 'worker-heart.qbc', data: b.get('worker-heart.qbc')!.bytes },
  };
}

test('image: refuses an entry the manifest does not list', () => {
  const p = parts();
  throwsCode(() => openImage(writeCpio([p.manifest, p.root, p.worker, { name: 'extra.qbc', data: fakeQbc('x') }])), 'image-unlisted',
    /image: entry extra\.qbc is not listed in the manifest/);
});

test('image: refuses a listed bundle that is missing', () => {
  const p = parts();
  throwsCode(() => openImage(writeCpio([p.manifest, p.root])), 'image-missing', /image: bundle worker-heart\.qbc of task worker-heart is missing/);
});

test('image: refuses bundles out of manifest order, and a manifest that is not first', () => {
  const p = parts();
  throwsCode(() => openImage(writeCpio([p.manifest, p.worker, p.root])), 'image-order', /entry 2 is worker-heart\.qbc, expected root-task\.qbc/);
  throwsCode(() => openImage(writeCpio([p.root, p.manifest, p.worker])), 'image-order', /the first entry must be manifest\.json, found root-task\.qbc/);
  throwsCode(() => openImage(writeCpio([])), 'image-order', /found no entries/);
});

test('image: a manifest that breaks a rule is refused with the field named', () => {
  const p = parts();
  const text = new TextDecoder().decode(p.manifest.data).replace('"arena_bytes": 262144', '"arena_bytes": 262143');
  throwsCode(() => openImage(writeCpio([{ name: 'manifest.json', data: new TextEncoder().encode(text) }, p.root, p.worker])), 'manifest',
    /^image: manifest\.json: tasks\[1\]\.arena_bytes must be a multiple of 4096/);
});

test('image: a wrong size, sha256 or engine in the manifest is found by checkImage', () => {
  const p = parts();
  const m = JSON.parse(new TextDecoder().decode(p.manifest.data));
  m.tasks[1].sha256 = '0'.repeat(64);
  m.tasks[0].size += 4;
  const problems = checkImage(openImage(writeCpio([{ name: 'manifest.json', data: encodeManifest(m) }, p.root, p.worker])));
  assert.deepEqual(problems.map((e) => e.code), ['image-hash', 'image-hash']);
  assert.match(problems[0].message, /^image: root-task\.qbc: size \d+ differs from the manifest's \d+$/);
  assert.match(problems[1].message, /^image: worker-heart\.qbc: sha256 [0-9a-f]{64} differs from the manifest's 0{64}$/);

  const e = JSON.parse(new TextDecoder().decode(p.manifest.data));
  e.engine.fingerprint = OTHER_FINGERPRINT;
  const eng = checkImage(openImage(writeCpio([{ name: 'manifest.json', data: encodeManifest(e) }, p.root, p.worker])));
  assert.deepEqual(eng.map((x) => x.code), ['image-engine', 'image-engine']);
  assert.match(eng[0].message, /root-task\.qbc: engine fingerprint f1f1\S+ differs from the manifest's e2e2/);
});

test('image: flipping any single byte outside manifest.json\'s text is refused by open or check', () => {
  const { image } = buildImage(hostTemplate(), bundles());
  const m = readCpio(image)[0];
  const manifestText = [m.dataOffset, m.dataOffset + m.data.length];
  let checked = 0;
  for (let i = 0; i < image.length; i++) {
    if (i >= manifestText[0] && i < manifestText[1]) continue;
    for (const mask of [0x01, 0x80]) {
      const bad = image.slice();
      bad[i] ^= mask;
      let refused: boolean;
      try {
        refused = checkImage(openImage(bad)).length > 0;
      } catch {
        refused = true;
      }
      assert.ok(refused, `flip 0x${mask.toString(16)} at offset ${i} went unnoticed`);
      checked++;
    }
  }
  assert.ok(checked > 2 * 400);
});

test('image: a flipped byte in any bundle entry is reported against that bundle', () => {
  const { image } = buildImage(hostTemplate(), bundles());
  for (const entry of readCpio(image).slice(1)) {
    for (let i = entry.dataOffset; i < entry.dataOffset + entry.data.length; i++) {
      const bad = image.slice();
      bad[i] ^= 0x04;
      const problems = checkImage(openImage(bad));
      assert.ok(problems.length > 0, `offset ${i}`);
      assert.ok(problems.every((p) => p.message.startsWith(`image: ${entry.name}: `)), problems.map((p) => p.message).join('\n'));
      assert.ok(problems.some((p) => p.code === 'image-hash'));
    }
  }
});

test('image: changing a hash or size inside manifest.json is refused (other manifest edits need v1 signing)', () => {
  const { image } = buildImage(hostTemplate(), bundles());
  const m = readCpio(image)[0];
  const text = new TextDecoder().decode(m.data);
  const at = m.dataOffset + text.indexOf('"sha256": "') + '"sha256": "'.length + 10;
  const bad = image.slice();
  bad[at] = bad[at] === 0x30 ? 0x31 : 0x30;
  assert.equal(codeOf(() => {
    const p = checkImage(openImage(bad));
    if (p.length) throw p[0];
  }), 'image-hash');
});

test('image: template fields end up in the manifest unchanged', () => {
  const t: ManifestTemplate = { ...hostTemplate(), image_id: 'hive-7.release', profile: 'release' };
  t.tasks[1].config = { interval_ms: 250, label: 'ü' };
  const { manifest } = buildImage(t, bundles());
  assert.equal(manifest.image_id, 'hive-7.release');
  assert.equal(manifest.profile, 'release');
  assert.deepEqual(manifest.tasks[1].config, { interval_ms: 250, label: 'ü' });
  assert.deepEqual(manifest.console, hostTemplate().console);
});
