// cohimg: the hive image tool's command line (keygen, build, sign, verify, inspect, flash, slot); exit 0 ok, 1 refused, 2 usage.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ImageError, type ImageErrorCode } from './errors.js';
import { buildImage, checkBundles, checkImage, checkImageSignature, openImage, signImage, type BundleSource, type OpenedImage } from './image.js';
import { cpioExtent, IMAGE_BYTES_MAX } from './cpio.js';
import { checkTarget, flashImage, progress } from './flash.js';
import { flashSlot, formatSlotDisk, openSlotDisk, setSlotDiskState, SLOT_DISK_SECTOR_BYTES } from './slot-disk.js';
import { generateKeys, KEY_FILE_BYTES_MAX, parsePrivateKey, parsePublicKey, SIG_ENTRY_NAME, type Signer } from './sign.js';
import { installImage, readSlotState, slotImagePath } from './slots.js';
import { MANIFEST_ENTRY_NAME, parseManifestBytes, type ManifestTemplate } from './manifest.js';
import { isHex64, sha256Hex } from './qbc.js';

/** Longest one cohc run may take before the build gives up on it. */
export const COHC_TIMEOUT_MS = 60_000;
/** Bytes of a failing cohc's stderr quoted in the error. */
const COHC_STDERR_QUOTE_BYTES_MAX = 2000;
/** Largest manifest template read. */
const TEMPLATE_BYTES_MAX = 1024 * 1024;

export const USAGE = `usage: cohimg <command> [options]

  cohimg keygen --out <prefix> [--force]
      Writes an Ed25519 key pair: <prefix>.key (PKCS#8 PEM, mode 0600) and <prefix>.pub.
  cohimg build --manifest <template.json> --bundles <dir> --out <image>
               [--cohc <path> --js <dir>] [--key <private.key>]
      Packs <dir>/<task>.qbc for every task of the template into a hive image (CPIO newc),
      filling in each bundle's size and sha256 and the engine version and fingerprint.
      With --cohc and --js, first compiles <js>/<task>.js to <dir>/<task>.qbc with cohc.
      With --key, signs the manifest (a manifest.sig entry).
  cohimg sign <image> --key <private.key> [--out <image>]
      Signs (or re-signs) an image; writes it in place unless --out is given.
  cohimg verify <image-or-device> [--trust-key <file.pub>]
      Exit 0 if the image is well formed, its signature verifies (against the trusted key when
      given) and every bundle matches the manifest, else 1.
  cohimg inspect <image> [--json] [--trust-key <file.pub>]
      Prints the image id, profile, engine, signer and a table of entries, and checks every hash.
  cohimg flash <image> --to <file-or-block-device> [--force] [--trust-key <file.pub>]
      Writes the image, reads it back and compares. Refuses a mounted device, and a block device
      that is neither removable nor a loop device unless --force.
  cohimg flash <image> --to <disk> --slot A|B [--format] [--force] [--trust-key <file.pub>]
      Writes the image into a slot of an A/B slot disk (docs/slots.md; a missing file is created
      and formatted; --format lays the slots out on an existing one), reads it back, and makes
      that slot the one to try next boot. Refuses the last good slot unless --force.
  cohimg slot install <image> --slot-dir <dir> [--trust-key <file.pub>]
      Writes the image into the inactive A/B slot and makes it the slot to try next boot.
  cohimg slot status (--slot-dir <dir> | --disk <disk>)
      Prints the slot state record and which slots hold an image.
  cohimg slot set --disk <disk> --active A|B
      Makes a slot the one to boot next (on trial unless it is the last good one).
  cohimg --help

exit status: 0 ok, 1 refused (bad input or corrupt image), 2 usage error
`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

class UsageError extends Error {}

/** Runs one cohimg command line; returns the exit status. */
export function main(argv: readonly string[], io: Io = processIo): number {
  if (argv.length === 0) {
    io.err(USAGE);
    return 2;
  }
  if (argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
    io.out(USAGE);
    return 0;
  }
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'keygen':
        return keygen(rest, io);
      case 'build':
        return build(rest, io);
      case 'sign':
        return signCommand(rest, io);
      case 'flash':
        return flash(rest, io);
      case 'slot':
        return slot(rest, io);
      case 'inspect':
        return inspect(rest, io);
      case 'verify':
        return verify(rest, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`cohimg: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ImageError) {
      io.err(`cohimg ${command}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

function options<T extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], spec: T, positionals: number) {
  const r = parseArgs({ args, options: spec, allowPositionals: positionals > 0, strict: true });
  if (r.positionals.length !== positionals) {
    throw new UsageError(`expected ${positionals} argument${positionals === 1 ? '' : 's'}, got ${r.positionals.length}`);
  }
  return r;
}

function readBounded(path: string, maxBytes: number, what: string, overCode: ImageErrorCode = 'io'): Uint8Array {
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new ImageError('io', `${what} ${path} is not a regular file`);
    if (st.size > maxBytes) throw new ImageError(overCode, `${what} ${path} is ${st.size} bytes, over the ${maxBytes}-byte limit`);
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError('io', `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/** Write a temporary file, fsync it, rename it over the target, fsync the folder: a crash leaves the old image or the new one. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(tmp, 'w', 0o644);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean up
    }
    throw new ImageError('io', `cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some platforms cannot fsync a folder; the rename itself is still atomic there.
  }
}

function runCohc(cohc: string, args: string[], what: string): string {
  try {
    return execFileSync(cohc, args, { encoding: 'utf8', timeout: COHC_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: string; signal?: string };
    const quoted = (err.stderr ?? '').trim().slice(-COHC_STDERR_QUOTE_BYTES_MAX);
    const why = err.code === 'ENOENT' ? 'not found' : err.signal ? `killed by ${err.signal}` : 'failed';
    throw new ImageError('io', `${what}: ${cohc} ${args.join(' ')} ${why}${quoted ? `:\n${quoted}` : ''}`);
  }
}

function build(args: string[], io: Io): number {
  const { values } = options(args, {
    manifest: { type: 'string' },
    bundles: { type: 'string' },
    out: { type: 'string' },
    cohc: { type: 'string' },
    js: { type: 'string' },
    key: { type: 'string' },
  }, 0);
  for (const k of ['manifest', 'bundles', 'out'] as const) if (!values[k]) throw new UsageError(`build: --${k} is required`);
  if ((values.cohc === undefined) !== (values.js === undefined)) throw new UsageError('build: --cohc and --js go together');
  const templatePath = values.manifest!;
  const bundlesDir = values.bundles!;
  const out = values.out!;

  const signer = values.key !== undefined ? readSigner(values.key) : undefined;
  const template = parseManifestBytes(readBounded(templatePath, TEMPLATE_BYTES_MAX, 'manifest template'), 'template', `manifest ${templatePath}`) as ManifestTemplate;

  let expectFingerprint: string | undefined;
  if (values.cohc !== undefined) {
    const cohc = values.cohc;
    const printed: string = runCohc(cohc, ['--fingerprint'], 'cohc').trim();
    const fp = printed.toLowerCase();
    if (!isHex64(fp)) throw new ImageError('image-engine', `cohc: ${cohc} --fingerprint printed ${JSON.stringify(printed.slice(0, 80))}, not 64 hex digits`);
    expectFingerprint = fp;
    try {
      mkdirSync(bundlesDir, { recursive: true });
    } catch (e) {
      throw new ImageError('io', `cannot create bundles folder ${bundlesDir}: ${(e as Error).message}`);
    }
    for (const t of template.tasks) {
      const src = join(values.js!, `${t.name}.js`);
      try {
        statSync(src);
      } catch {
        throw new ImageError('io', `task ${t.name}: no bundle source ${src}`);
      }
      runCohc(cohc, ['-o', join(bundlesDir, t.bundle), src], `task ${t.name}`);
    }
  }

  const bundles = new Map<string, BundleSource>();
  for (const t of template.tasks) {
    const path = join(bundlesDir, t.bundle);
    bundles.set(t.bundle, { bytes: readBounded(path, IMAGE_BYTES_MAX, `bundle of task ${t.name}`), label: path });
  }
  const { image, manifest } = buildImage(template, bundles, { expectFingerprint, signer, what: out });
  writeFileAtomic(out, image);
  io.out(`cohimg: wrote ${out} (${image.length} bytes): image ${manifest.image_id}, profile ${manifest.profile}, ` +
    `${signer ? `signed by key ${signer.keyId}` : 'UNSIGNED'}, ` +
    `${manifest.tasks.length} task${manifest.tasks.length === 1 ? '' : 's'}, engine ${manifest.engine.version} fingerprint ${manifest.engine.fingerprint}\n`);
  return 0;
}

function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

function inspect(args: string[], io: Io): number {
  const { values, positionals } = options(args, { json: { type: 'boolean' }, 'trust-key': { type: 'string' } }, 1);
  const path = positionals[0];
  const json = values.json === true;
  const trusted = values['trust-key'] !== undefined ? readTrustKey(values['trust-key']) : undefined;
  let img;
  try {
    img = openImage(readImageBytes(path), path);
  } catch (e) {
    if (json && e instanceof ImageError) {
      io.out(JSON.stringify({ image: path, ok: false, problems: [{ code: e.code, message: e.message }] }, null, 2) + '\n');
      io.err(`cohimg inspect: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const checks = checkBundles(img);
  const sig = checkImageSignature(img, trusted);
  const problems = [...sig.problems, ...checks.flatMap((c) => c.problems)];
  const m = img.manifest;
  const manifestSha = sha256Hex(img.manifestEntry.data);
  const signerText = !sig.signed ? 'none (UNSIGNED image)'
    : sig.keyId === null ? 'BAD signature'
    : `key ${sig.keyId} (${sig.trusted ? 'the trusted key' : 'not checked against a trusted key: pass --trust-key'})`;

  if (json) {
    const entries = [
      { name: MANIFEST_ENTRY_NAME, kind: 'manifest', bytes: img.manifestEntry.data.length, sha256: manifestSha, ok: true, problems: [] },
      ...(img.sigEntry ? [{ name: SIG_ENTRY_NAME, kind: 'signature', bytes: img.sigEntry.data.length, sha256: sha256Hex(img.sigEntry.data),
        ok: sig.problems.length === 0, problems: sig.problems.map((p) => ({ code: p.code, message: p.message })) }] : []),
      ...checks.map((c) => ({
        name: c.entry.name, kind: 'bundle', bytes: c.size, sha256: c.sha256, task: c.task.name,
        arena_bytes: c.task.arena_bytes, cpu_slice_ms: c.task.cpu_slice_ms, grants: c.task.grants,
        engine_version: c.header?.engineVersion ?? null, engine_fingerprint: c.header?.engineFingerprint ?? null,
        ok: c.problems.length === 0, problems: c.problems.map((p) => ({ code: p.code, message: p.message })),
      })),
    ];
    io.out(JSON.stringify({
      image: path, bytes: img.bytes.length, ok: problems.length === 0,
      image_id: m.image_id, profile: m.profile, engine: m.engine, root_task: m.root_task,
      signature: { signed: sig.signed, key_id: sig.keyId, trusted: sig.trusted, ok: sig.problems.length === 0 },
      entries, problems: problems.map((p) => ({ code: p.code, message: p.message })), manifest: m,
    }, null, 2) + '\n');
  } else {
    let s = '';
    s += `image      ${path} (${img.bytes.length} bytes)\n`;
    s += `image_id   ${m.image_id}\n`;
    s += `profile    ${m.profile}\n`;
    s += `signer     ${signerText}\n`;
    s += `engine     ${m.engine.version} fingerprint ${m.engine.fingerprint}\n`;
    s += `root_task  ${m.root_task}\n`;
    s += `console    port ${m.console.port}, max_sessions ${m.console.max_sessions}, auth_token set (${m.console.auth_token.length} bytes)\n\n`;
    const rows = [['entry', 'bytes', 'sha256', 'check', 'arena', 'slice', 'grants']];
    rows.push([MANIFEST_ENTRY_NAME, String(img.manifestEntry.data.length), manifestSha, sig.signed ? (sig.problems.length === 0 ? 'ok' : 'BAD') : '-', '-', '-',
      sig.signed ? '(manifest; signed)' : '(manifest; UNSIGNED)']);
    if (img.sigEntry) {
      rows.push([SIG_ENTRY_NAME, String(img.sigEntry.data.length), sha256Hex(img.sigEntry.data), sig.problems.length === 0 ? 'ok' : 'BAD', '-', '-',
        sig.keyId ? `(Ed25519 by key ${sig.keyId})` : '(Ed25519)']);
    }
    for (const c of checks) {
      rows.push([c.entry.name, String(c.size), c.sha256, c.problems.length === 0 ? 'ok' : 'BAD', formatBytes(c.task.arena_bytes),
        `${c.task.cpu_slice_ms} ms`, c.task.grants.length > 0 ? c.task.grants.join(',') : '(none)']);
    }
    s += table(rows) + '\n';
    s += problems.length === 0
      ? `check      ok: ${sig.signed ? 'signature verifies; ' : ''}every bundle's size, sha256 and engine match the manifest\n`
      : `check      FAILED: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`;
    io.out(s);
  }
  for (const p of problems) io.err(`cohimg inspect: ${p.message}\n`);
  return problems.length === 0 ? 0 : 1;
}

function verify(args: string[], io: Io): number {
  const { values, positionals } = options(args, { 'trust-key': { type: 'string' } }, 1);
  const path = positionals[0];
  const trusted = values['trust-key'] !== undefined ? readTrustKey(values['trust-key']) : undefined;
  const img = openImage(readImageBytes(path), path);
  const sig = checkImageSignature(img, trusted);
  const problems = [...sig.problems, ...checkBundles(img).flatMap((c) => c.problems)];
  for (const p of problems) io.err(`cohimg verify: ${p.message}\n`);
  if (problems.length > 0) return 1;
  const signed = !sig.signed ? 'UNSIGNED (dev profile only)'
    : sig.trusted ? `signed by the trusted key ${sig.keyId}` : `signed by key ${sig.keyId}, not checked against a trusted key`;
  io.out(`cohimg verify: ${path}: ok (${img.manifest.profile}, ${signed}; ${img.manifest.tasks.length} bundles; sizes, sha256 and engine match the manifest)\n`);
  return 0;
}

/** An image file, or the image at the start of a block device (its bytes run on past the image). */
function readImageBytes(path: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ImageError('io', `cannot read image ${path}: ${(e as Error).message}`);
  }
  if (!st.isBlockDevice()) return readBounded(path, IMAGE_BYTES_MAX, 'image', 'cpio-bound');
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(IMAGE_BYTES_MAX);
    let got = 0;
    for (let r = 1; r > 0 && got < buf.length; got += r) r = readSync(fd, buf, got, buf.length - got, got);
    const bytes = buf.subarray(0, got);
    return bytes.subarray(0, Math.min(cpioExtent(bytes, path), got));
  } finally {
    closeSync(fd);
  }
}

function readTextBounded(path: string, what: string): string {
  return new TextDecoder().decode(readBounded(path, KEY_FILE_BYTES_MAX, what, 'key'));
}

function readSigner(path: string): Signer {
  return parsePrivateKey(readTextBounded(path, 'private key'), `private key ${path}`);
}

function readTrustKey(path: string): Uint8Array {
  return parsePublicKey(readTextBounded(path, 'trusted key'), `trusted key ${path}`);
}

function keygen(args: string[], io: Io): number {
  const { values } = options(args, { out: { type: 'string' }, force: { type: 'boolean' } }, 0);
  if (!values.out) throw new UsageError('keygen: --out <prefix> is required');
  const keyPath = `${values.out}.key`;
  const pubPath = `${values.out}.pub`;
  for (const p of [keyPath, pubPath]) {
    if (existsSync(p) && !values.force) throw new ImageError('key', `keygen: ${p} exists; pass --force to replace it (images signed by the old key stop verifying)`);
  }
  const keys = generateKeys();
  try {
    mkdirSync(dirname(keyPath), { recursive: true });
    // 0600 from the first byte: the key never exists with wider permissions, even for an instant.
    const fd = openSync(keyPath, 'w', 0o600);
    try {
      writeSync(fd, keys.privatePem);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(keyPath, 0o600); // an existing file keeps its mode on open: force it
  } catch (e) {
    throw new ImageError('io', `cannot write ${keyPath}: ${(e as Error).message}`);
  }
  writeFileAtomic(pubPath, new TextEncoder().encode(keys.publicText));
  io.out(`cohimg keygen: wrote ${keyPath} (private, mode 0600) and ${pubPath}: key ${keys.keyId}\n`);
  return 0;
}

function signCommand(args: string[], io: Io): number {
  const { values, positionals } = options(args, { key: { type: 'string' }, out: { type: 'string' } }, 1);
  if (!values.key) throw new UsageError('sign: --key <private.key> is required');
  const path = positionals[0];
  const out = values.out ?? path;
  const signer = readSigner(values.key);
  const img = openImage(readBounded(path, IMAGE_BYTES_MAX, 'image', 'cpio-bound'), path);
  const bundleProblems = checkBundles(img).flatMap((c) => c.problems);
  if (bundleProblems.length > 0) throw new ImageError(bundleProblems[0].code, `refusing to sign: ${bundleProblems[0].message}`);
  const signed = signImage(img, signer);
  const again = openImage(signed, out);
  const problems = checkImage(again, signer.publicKey);
  if (problems.length > 0) throw new Error(`image tool bug: the image it signed fails its own check: ${problems[0].message}`);
  writeFileAtomic(out, signed);
  io.out(`cohimg sign: wrote ${out} (${signed.length} bytes): signed by key ${signer.keyId}\n`);
  return 0;
}

/** Opens and fully checks an image before it is written anywhere. */
function checkedImage(path: string, trustKeyPath: string | undefined): OpenedImage {
  const trusted = trustKeyPath !== undefined ? readTrustKey(trustKeyPath) : undefined;
  const img = openImage(readBounded(path, IMAGE_BYTES_MAX, 'image', 'cpio-bound'), path);
  const problems = checkImage(img, trusted);
  if (problems.length > 0) throw new ImageError(problems[0].code, `refusing to write a bad image: ${problems[0].message}`);
  return img;
}

function flash(args: string[], io: Io): number {
  const { values, positionals } = options(args, {
    to: { type: 'string' }, force: { type: 'boolean' }, 'trust-key': { type: 'string' }, slot: { type: 'string' }, format: { type: 'boolean' },
  }, 1);
  if (!values.to) throw new UsageError('flash: --to <file-or-block-device> is required');
  const img = checkedImage(positionals[0], values['trust-key']);
  if (values.slot !== undefined) {
    if (values.slot !== 'A' && values.slot !== 'B') throw new UsageError('flash: --slot must be A or B');
    const target = checkTarget(values.to, values.force === true);
    if (values.format === true || !existsSync(values.to)) formatSlotDisk(values.to);
    const disk = openSlotDisk(values.to);
    const tty = process.stderr.isTTY === true;
    const bar = tty ? (done: number, total: number, phase: string) => io.err(progress(done, total, phase) + (done === total ? '\n' : '')) : null;
    const r = flashSlot(disk, values.slot, img.bytes, bar, values.force === true);
    io.out(`cohimg flash: wrote ${img.bytes.length} bytes into slot ${values.slot} of ${target.path} in ${r.writeMs.toFixed(1)} ms, read back and compared: ` +
      `identical, sha256 ${sha256Hex(img.bytes)}; next boot tries slot ${values.slot}` +
      `${r.state.last_good ? `, falling back to slot ${r.state.last_good} unless it reaches online` : ' (no slot is known good yet)'}\n`);
    return 0;
  }
  const target = checkTarget(values.to, values.force === true);
  const tty = process.stderr.isTTY === true;
  const r = flashImage(img.bytes, target, tty ? (line) => io.err(line) : null);
  const mibps = r.bytes / (1024 * 1024) / Math.max(r.writeMs / 1000, 1e-6);
  io.out(`cohimg flash: wrote ${r.bytes} bytes to ${target.path} (${target.kind}${target.disk ? ` ${target.disk}` : ''}) in ${r.writeMs.toFixed(1)} ms ` +
    `(${mibps.toFixed(1)} MiB/s), read back and compared: identical, sha256 ${sha256Hex(img.bytes)}\n`);
  return 0;
}

function slot(args: string[], io: Io): number {
  const [sub, ...rest] = args;
  if (sub === 'install') {
    const { values, positionals } = options(rest, { 'slot-dir': { type: 'string' }, 'trust-key': { type: 'string' } }, 1);
    if (!values['slot-dir']) throw new UsageError('slot install: --slot-dir <dir> is required');
    const img = checkedImage(positionals[0], values['trust-key']);
    const { slot: into, state } = installImage(values['slot-dir'], img.bytes);
    io.out(`cohimg slot install: wrote ${positionals[0]} into slot ${into} of ${values['slot-dir']}; next boot tries slot ${into}` +
      `${state.last_good ? `, falling back to slot ${state.last_good} unless it reaches online` : ' (no slot is known good yet)'}\n`);
    return 0;
  }
  if (sub === 'status' && rest.includes('--disk')) {
    const { values } = options(rest, { disk: { type: 'string' } }, 0);
    const d = openSlotDisk(values.disk as string);
    const st = d.state;
    let s = st ? `state      active=${st.active} last_good=${st.last_good ?? '-'} attempts=${st.attempts}\n` : 'state      none (the firmware starts with slot A)\n';
    s += `copy       ${d.newest < 0 ? 'none valid' : `${d.newest + 1} of 2, seq ${d.seq}`}${d.badCopies.length > 0 && d.newest >= 0 && d.seq > 1n ? ` (copy ${d.badCopies.map((i) => i + 1).join(', ')} torn or unreadable)` : ''}\n`;
    for (const n of ['A', 'B'] as const) {
      s += `slot ${n}     ${d.imageBytes[n] > 0 ? `${d.imageBytes[n]} bytes at sector ${d.slotLba[n]}` : '(empty)'} of ${d.slotSectors * SLOT_DISK_SECTOR_BYTES}\n`;
    }
    io.out(s);
    return 0;
  }
  if (sub === 'set') {
    const { values } = options(rest, { disk: { type: 'string' }, active: { type: 'string' } }, 0);
    if (!values.disk) throw new UsageError('slot set: --disk <disk> is required');
    if (values.active !== 'A' && values.active !== 'B') throw new UsageError('slot set: --active must be A or B');
    const d = openSlotDisk(values.disk);
    const lastGood = d.state?.last_good ?? null;
    setSlotDiskState(d, { active: values.active, last_good: lastGood, attempts: 0 });
    io.out(`cohimg slot set: next boot ${lastGood === values.active ? 'boots' : 'tries'} slot ${values.active} of ${values.disk}\n`);
    return 0;
  }
  if (sub === 'status') {
    const { values } = options(rest, { 'slot-dir': { type: 'string' } }, 0);
    const dir = values['slot-dir'];
    if (!dir) throw new UsageError('slot status: --slot-dir <dir> or --disk <disk> is required');
    const state = readSlotState(dir);
    let s = state ? `state      active=${state.active} last_good=${state.last_good ?? '-'} attempts=${state.attempts}\n` : 'state      none (the firmware starts with slot A)\n';
    for (const n of ['A', 'B'] as const) s += `slot ${n}     ${existsSync(slotImagePath(dir, n)) ? slotImagePath(dir, n) : '(empty)'}\n`;
    io.out(s);
    return 0;
  }
  throw new UsageError(`slot: expected install, status or set, got ${JSON.stringify(sub ?? '')}`);
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
