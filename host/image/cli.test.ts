// End-to-end tests of the cohimg command line: build, inspect, verify, --cohc, usage errors, and the bin/ launcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { main, USAGE } from './cli.js';
import { readCpio } from './cpio.js';
import { fakeQbc, FAKE_FINGERPRINT, hostTemplate, OTHER_FINGERPRINT } from './fixtures.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
// A fixed two-task template, so these tests do not move with the live board manifest.
const TEMPLATE = join(mkdtempSync(join(tmpdir(), 'cohimg-template-')), 'manifest.json');
writeFileSync(TEMPLATE, JSON.stringify(hostTemplate(), null, 2));

interface Run {
  code: number;
  out: string;
  err: string;
}

function run(...argv: string[]): Run {
  let out = '';
  let err = '';
  const code = main(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'cohimg-test-'));
}

/** A folder with root-task.qbc and worker-heart.qbc built by the fake engine. */
function bundleDir(dir: string, workerFingerprint = FAKE_FINGERPRINT): string {
  const b = join(dir, 'bundles');
  mkdirSync(b, { recursive: true });
  writeFileSync(join(b, 'root-task.qbc'), fakeQbc('root-task bytecode'));
  writeFileSync(join(b, 'worker-heart.qbc'), fakeQbc('worker-heart bytecode', workerFingerprint));
  return b;
}

function builtImage(dir: string): string {
  const out = join(dir, 'out', 'dev.img');
  const r = run('build', '--manifest', TEMPLATE, '--bundles', bundleDir(dir), '--out', out);
  assert.equal(r.code, 0, r.err);
  return out;
}

test('cli: build writes an image atomically and says what it wrote', () => {
  const dir = scratch();
  try {
    const out = join(dir, 'out', 'dev.img');
    const r = run('build', '--manifest', TEMPLATE, '--bundles', bundleDir(dir), '--out', out);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const img = readFileSync(out);
    assert.equal(r.out, `cohimg: wrote ${out} (${img.length} bytes): image dev, profile dev, UNSIGNED, 2 tasks, engine 0.15.1 fingerprint ${FAKE_FINGERPRINT}\n`);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['dev.img'], 'no temporary file is left behind');
    assert.deepEqual(readCpio(img).map((e) => e.name), ['manifest.json', 'root-task.qbc', 'worker-heart.qbc']);
    // a second build replaces the first in place
    writeFileSync(join(dir, 'bundles', 'worker-heart.qbc'), fakeQbc('worker-heart v2'));
    assert.equal(run('build', '--manifest', TEMPLATE, '--bundles', join(dir, 'bundles'), '--out', out).code, 0);
    assert.notDeepEqual(readFileSync(out), img);
    assert.deepEqual(readdirSync(join(dir, 'out')), ['dev.img']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: inspect prints id, profile, engine and a row per entry with its hash', () => {
  const dir = scratch();
  try {
    const img = builtImage(dir);
    const r = run('inspect', img);
    assert.equal(r.code, 0, r.err);
    const entries = readCpio(readFileSync(img));
    const sha = (i: number) => (JSON.parse(new TextDecoder().decode(entries[0].data)).tasks[i - 1]?.sha256 as string);
    assert.match(r.out, /^image_id   dev$/m);
    assert.match(r.out, /^profile    dev$/m);
    assert.match(r.out, new RegExp(`^engine     0\\.15\\.1 fingerprint ${FAKE_FINGERPRINT}$`, 'm'));
    assert.match(r.out, /^root_task  root-task$/m);
    assert.match(r.out, new RegExp(`^root-task\\.qbc +${entries[1].data.length}  ${sha(1)}  ok +4 MiB +50 ms  log,console,net,timer,channel,task,image$`, 'm'));
    assert.match(r.out, new RegExp(`^worker-heart\\.qbc +${entries[2].data.length}  ${sha(2)}  ok +256 KiB +50 ms  log,timer,channel$`, 'm'));
    assert.match(r.out, /^manifest\.json +\d+  [0-9a-f]{64}  -/m);
    assert.match(r.out, /^check      ok: every bundle's size, sha256 and engine match the manifest$/m);
    assert.match(r.out, /^signer     none \(UNSIGNED image\)$/m);
    assert.doesNotMatch(r.out, /changeme/, 'the console token is not printed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: inspect --json gives the same facts for scripts', () => {
  const dir = scratch();
  try {
    const img = builtImage(dir);
    const r = run('inspect', img, '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.ok, true);
    assert.equal(j.image_id, 'dev');
    assert.equal(j.profile, 'dev');
    assert.deepEqual(j.engine, { version: '0.15.1', fingerprint: FAKE_FINGERPRINT });
    assert.deepEqual(j.entries.map((e: { name: string }) => e.name), ['manifest.json', 'root-task.qbc', 'worker-heart.qbc']);
    assert.deepEqual(j.entries[2].grants, ['log', 'timer', 'channel']);
    assert.equal(j.entries[2].arena_bytes, 262144);
    assert.equal(j.entries[2].sha256, j.manifest.tasks[1].sha256);
    assert.deepEqual(j.problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: verify passes a good image and fails one with a flipped byte in any bundle, naming it', () => {
  const dir = scratch();
  try {
    const img = builtImage(dir);
    const good = run('verify', img);
    assert.deepEqual(good, { code: 0, out: `cohimg verify: ${img}: ok (dev, UNSIGNED (dev profile only); 2 bundles; sizes, sha256 and engine match the manifest)\n`, err: '' });
    const bytes = readFileSync(img);
    const worker = readCpio(bytes)[2];
    const bad = Buffer.from(bytes);
    bad[worker.dataOffset + worker.data.length - 1] ^= 0x10; // last payload byte
    writeFileSync(img, bad);
    const r = run('verify', img);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, new RegExp(`^cohimg verify: ${img}: worker-heart\\.qbc: sha256 [0-9a-f]{64} differs from the manifest's [0-9a-f]{64}$`, 'm'));
    assert.match(r.err, /worker-heart\.qbc: SHA-256 of header and payload does not match the sha256 field/);
    assert.doesNotMatch(r.err, /root-task/);
    const i = run('inspect', img);
    assert.equal(i.code, 1);
    assert.match(i.out, /^worker-heart\.qbc +\d+  [0-9a-f]{64}  BAD/m);
    assert.match(i.out, /^check      FAILED: 2 problems$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: a structurally corrupt image gives exit 1 and a clear message from inspect and verify', () => {
  const dir = scratch();
  try {
    const img = builtImage(dir);
    const bytes = readFileSync(img);
    writeFileSync(img, bytes.subarray(0, 300));
    for (const cmd of ['inspect', 'verify']) {
      const r = run(cmd, img);
      assert.equal(r.code, 1);
      assert.equal(r.err, `cohimg ${cmd}: ${img}: entry manifest.json: truncated (needs ${Math.ceil(readCpio(bytes)[0].data.length / 4) * 4} bytes of data and padding from offset 124, file has 176)\n`);
    }
    const j = run('inspect', img, '--json');
    assert.equal(j.code, 1);
    assert.equal(JSON.parse(j.out).problems[0].code, 'cpio-truncated');
    const missing = run('verify', join(dir, 'nope.img'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^cohimg verify: cannot read image .*nope\.img: ENOENT/);
    truncateSync(img, 16 * 1024 * 1024 + 512); // sparse: over IMAGE_BYTES_MAX before anything is read
    const big = run('inspect', img, '--json');
    assert.equal(big.code, 1);
    assert.equal(JSON.parse(big.out).problems[0].code, 'cpio-bound');
    assert.match(big.err, /is 16777728 bytes, over the 16777216-byte limit/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: build refuses bundles from two engines, a missing bundle and a bad template, naming each', () => {
  const dir = scratch();
  try {
    const b = bundleDir(dir, OTHER_FINGERPRINT);
    const out = join(dir, 'x.img');
    const mixed = run('build', '--manifest', TEMPLATE, '--bundles', b, '--out', out);
    assert.equal(mixed.code, 1);
    assert.match(mixed.err, /^cohimg build: bundles disagree on the engine: .*root-task\.qbc was built by 0\.15\.1 fingerprint f1f1\S+, .*worker-heart\.qbc by 0\.15\.1 fingerprint e2e2/);
    assert.equal(existsSync(out), false, 'nothing is written on failure');

    rmSync(join(b, 'worker-heart.qbc'));
    const gone = run('build', '--manifest', TEMPLATE, '--bundles', b, '--out', out);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /^cohimg build: cannot read bundle of task worker-heart .*worker-heart\.qbc: ENOENT/);

    const t = JSON.parse(readFileSync(TEMPLATE, 'utf8'));
    t.tasks[1].arena_bytes = 1000;
    const badTemplate = join(dir, 'bad.json');
    writeFileSync(badTemplate, JSON.stringify(t));
    const bad = run('build', '--manifest', badTemplate, '--bundles', bundleDir(dir), '--out', out);
    assert.equal(bad.code, 1);
    assert.equal(bad.err, `cohimg build: manifest ${badTemplate}: tasks[1].arena_bytes must be a multiple of 4096 between 65536 and 268435456\n`);
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A stand-in for the lead's cohc with the same command line: `--fingerprint`, `-o <out> <in>`. */
function fakeCohc(dir: string, opts: { prints?: string; writes?: string; fail?: string } = {}): string {
  const qbcUrl = pathToFileURL(join(REPO, 'build/tsc/host/image/qbc.js')).href;
  const path = join(dir, 'fake-cohc.mjs');
  writeFileSync(path, `#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
import { encodeQbc } from ${JSON.stringify(qbcUrl)};
const a = process.argv.slice(2);
if (a[0] === '--fingerprint') { console.log(${JSON.stringify(opts.prints ?? FAKE_FINGERPRINT.toUpperCase())}); process.exit(0); }
if (a[0] !== '-o' || a.length !== 3) { console.error('usage: cohc -o out.qbc in.js'); process.exit(2); }
const src = readFileSync(a[2]);
${opts.fail ? `if (src.includes(${JSON.stringify(opts.fail)})) { console.error(a[2] + ':1: SyntaxError: unexpected token'); process.exit(1); }` : ''}
writeFileSync(a[1], encodeQbc(src, { engineVersion: '0.15.1', engineFingerprint: ${JSON.stringify(opts.writes ?? FAKE_FINGERPRINT)} }));
`);
  chmodSync(path, 0o755);
  return path;
}

function jsDir(dir: string, worker = 'export default function main() {}\n'): string {
  const js = join(dir, 'js');
  mkdirSync(js, { recursive: true });
  writeFileSync(join(js, 'root-task.js'), 'export default function main(caps) { caps.log.write("hello"); }\n');
  writeFileSync(join(js, 'worker-heart.js'), worker);
  return js;
}

test('cli: build --cohc --js compiles every task with cohc, then packs what it wrote', () => {
  const dir = scratch();
  try {
    const out = join(dir, 'dev.img');
    const bundles = join(dir, 'made');
    const r = run('build', '--manifest', TEMPLATE, '--bundles', bundles, '--out', out, '--cohc', fakeCohc(dir), '--js', jsDir(dir));
    assert.equal(r.code, 0, r.err);
    const entries = readCpio(readFileSync(out));
    assert.equal(new TextDecoder().decode(entries[1].data.subarray(104)), 'export default function main(caps) { caps.log.write("hello"); }\n');
    assert.deepEqual(readdirSync(bundles).sort(), ['root-task.qbc', 'worker-heart.qbc']);
    assert.equal(run('verify', out).code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: build --cohc refuses a cohc failure, a fingerprint mismatch and a missing source', () => {
  const dir = scratch();
  try {
    const out = join(dir, 'dev.img');
    const failing = run('build', '--manifest', TEMPLATE, '--bundles', join(dir, 'b1'), '--out', out,
      '--cohc', fakeCohc(dir, { fail: 'BROKEN' }), '--js', jsDir(dir, 'BROKEN'));
    assert.equal(failing.code, 1);
    assert.match(failing.err, /^cohimg build: task worker-heart: .*fake-cohc\.mjs -o .*worker-heart\.qbc .*worker-heart\.js failed:\n.*worker-heart\.js:1: SyntaxError: unexpected token\n$/);

    const other = run('build', '--manifest', TEMPLATE, '--bundles', join(dir, 'b2'), '--out', out,
      '--cohc', fakeCohc(dir, { prints: OTHER_FINGERPRINT }), '--js', jsDir(dir));
    assert.equal(other.code, 1);
    assert.match(other.err, new RegExp(`root-task\\.qbc: engine fingerprint ${FAKE_FINGERPRINT} differs from cohc --fingerprint ${OTHER_FINGERPRINT}`));

    const garbage = run('build', '--manifest', TEMPLATE, '--bundles', join(dir, 'b3'), '--out', out,
      '--cohc', fakeCohc(dir, { prints: 'quickjs-ng 0.15.1' }), '--js', jsDir(dir));
    assert.equal(garbage.code, 1);
    assert.match(garbage.err, /--fingerprint printed "quickjs-ng 0\.15\.1", not 64 hex digits/);

    const js = jsDir(dir);
    rmSync(join(js, 'worker-heart.js'));
    const nosrc = run('build', '--manifest', TEMPLATE, '--bundles', join(dir, 'b4'), '--out', out, '--cohc', fakeCohc(dir), '--js', js);
    assert.equal(nosrc.code, 1);
    assert.match(nosrc.err, /^cohimg build: task worker-heart: no bundle source .*worker-heart\.js$/m);

    const nocohc = run('build', '--manifest', TEMPLATE, '--bundles', join(dir, 'b5'), '--out', out, '--cohc', join(dir, 'no-such-cohc'), '--js', js);
    assert.equal(nocohc.code, 1);
    assert.match(nocohc.err, /no-such-cohc --fingerprint not found/);
    assert.equal(existsSync(out), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cli: usage errors exit 2 with the usage text; --help exits 0', () => {
  const cases: [string[], RegExp][] = [
    [[], /^usage: cohimg/],
    [['frob'], /^cohimg: unknown command "frob"\n\nusage: cohimg/],
    [['build', '--manifest', 'm.json', '--bundles', 'b'], /^cohimg: build: --out is required\n/],
    [['build', '--manifest', 'm.json', '--bundles', 'b', '--out', 'o', '--cohc', 'c'], /^cohimg: build: --cohc and --js go together\n/],
    [['build', '--manifest', 'm.json', '--bundles', 'b', '--out', 'o', '--sign'], /^cohimg: Unknown option '--sign'/],
    [['build', 'extra', '--manifest', 'm.json', '--bundles', 'b', '--out', 'o'], /^cohimg: Unexpected argument 'extra'/],
    [['inspect'], /^cohimg: expected 1 argument, got 0\n/],
    [['verify', 'a.img', 'b.img'], /^cohimg: expected 1 argument, got 2\n/],
    [['verify', 'a.img', '--json'], /^cohimg: Unknown option '--json'/],
  ];
  for (const [argv, msg] of cases) {
    const r = run(...argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.out, '');
    assert.match(r.err, msg);
    assert.ok(r.err.endsWith(USAGE), argv.join(' '));
  }
  for (const argv of [['--help'], ['-h'], ['help'], ['build', '--help']]) assert.deepEqual(run(...argv), { code: 0, out: USAGE, err: '' });
});

test('cli: bin/cohimg runs the compiled tool, and says to build when it is missing', () => {
  const help = spawnSync(join(REPO, 'bin/cohimg'), ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.equal(help.stdout, USAGE);
  const bad = spawnSync(join(REPO, 'bin/cohimg'), ['verify'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);

  const dir = scratch();
  try {
    mkdirSync(join(dir, 'bin'));
    copyFileSync(join(REPO, 'bin/cohimg'), join(dir, 'bin/cohimg'));
    chmodSync(join(dir, 'bin/cohimg'), 0o755);
    const r = spawnSync(join(dir, 'bin/cohimg'), ['--help'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^cohimg: .*build\/tsc\/host\/image\/cli\.js is missing; run `npm run build` in /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
