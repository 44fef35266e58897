// cohimg: the hive image tool's command line (build, inspect, verify); exit 0 ok, 1 refused, 2 usage.
import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { IMAGE_BYTES_MAX } from './cpio.js';
import { ImageError, type ImageErrorCode } from './errors.js';
import { buildImage, checkBundles, openImage, type BundleSource } from './image.js';
import { MANIFEST_ENTRY_NAME, parseManifestBytes, type ManifestTemplate } from './manifest.js';
import { isHex64, sha256Hex } from './qbc.js';

/** Longest one cohc run may take before the build gives up on it. */
export const COHC_TIMEOUT_MS = 60_000;
/** Bytes of a failing cohc's stderr quoted in the error. */
const COHC_STDERR_QUOTE_BYTES_MAX = 2000;
/** Largest manifest template read. */
const TEMPLATE_BYTES_MAX = 1024 * 1024;

export const USAGE = `usage: cohimg <command> [options]

  cohimg build --manifest <template.json> --bundles <dir> --out <image>
               [--cohc <path> --js <dir>]
      Packs <dir>/<task>.qbc for every task of the template into a hive image (CPIO newc),
      filling in each bundle's size and sha256 and the engine version and fingerprint.
      With --cohc and --js, first compiles <js>/<task>.js to <dir>/<task>.qbc with cohc.
  cohimg inspect <image> [--json]
      Prints the image id, profile, engine and a table of entries, and checks every hash.
  cohimg verify <image>
      Exit 0 if the image is well formed and every bundle matches the manifest, else 1.
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
      case 'build':
        return build(rest, io);
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
  }, 0);
  for (const k of ['manifest', 'bundles', 'out'] as const) if (!values[k]) throw new UsageError(`build: --${k} is required`);
  if ((values.cohc === undefined) !== (values.js === undefined)) throw new UsageError('build: --cohc and --js go together');
  const templatePath = values.manifest!;
  const bundlesDir = values.bundles!;
  const out = values.out!;

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
  const { image, manifest } = buildImage(template, bundles, { expectFingerprint, what: out });
  writeFileAtomic(out, image);
  io.out(`cohimg: wrote ${out} (${image.length} bytes): image ${manifest.image_id}, profile ${manifest.profile}, ` +
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
  const { values, positionals } = options(args, { json: { type: 'boolean' } }, 1);
  const path = positionals[0];
  const json = values.json === true;
  let img;
  try {
    img = openImage(readBounded(path, IMAGE_BYTES_MAX, 'image', 'cpio-bound'), path);
  } catch (e) {
    if (json && e instanceof ImageError) {
      io.out(JSON.stringify({ image: path, ok: false, problems: [{ code: e.code, message: e.message }] }, null, 2) + '\n');
      io.err(`cohimg inspect: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const checks = checkBundles(img);
  const problems = checks.flatMap((c) => c.problems);
  const m = img.manifest;
  const manifestSha = sha256Hex(img.manifestEntry.data);

  if (json) {
    const entries = [
      { name: MANIFEST_ENTRY_NAME, kind: 'manifest', bytes: img.manifestEntry.data.length, sha256: manifestSha, ok: true, problems: [] },
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
      entries, problems: problems.map((p) => ({ code: p.code, message: p.message })), manifest: m,
    }, null, 2) + '\n');
  } else {
    let s = '';
    s += `image      ${path} (${img.bytes.length} bytes)\n`;
    s += `image_id   ${m.image_id}\n`;
    s += `profile    ${m.profile}\n`;
    s += `engine     ${m.engine.version} fingerprint ${m.engine.fingerprint}\n`;
    s += `root_task  ${m.root_task}\n`;
    s += `console    port ${m.console.port}, max_sessions ${m.console.max_sessions}, auth_token set (${m.console.auth_token.length} bytes)\n\n`;
    const rows = [['entry', 'bytes', 'sha256', 'check', 'arena', 'slice', 'grants']];
    rows.push([MANIFEST_ENTRY_NAME, String(img.manifestEntry.data.length), manifestSha, '-', '-', '-', '(manifest; not signed in v0)']);
    for (const c of checks) {
      rows.push([c.entry.name, String(c.size), c.sha256, c.problems.length === 0 ? 'ok' : 'BAD', formatBytes(c.task.arena_bytes),
        `${c.task.cpu_slice_ms} ms`, c.task.grants.length > 0 ? c.task.grants.join(',') : '(none)']);
    }
    s += table(rows) + '\n';
    s += problems.length === 0
      ? `hashes     ok: every bundle's size, sha256 and engine match the manifest\n`
      : `hashes     FAILED: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n`;
    io.out(s);
  }
  for (const p of problems) io.err(`cohimg inspect: ${p.message}\n`);
  return problems.length === 0 ? 0 : 1;
}

function verify(args: string[], io: Io): number {
  const { positionals } = options(args, {}, 1);
  const path = positionals[0];
  const img = openImage(readBounded(path, IMAGE_BYTES_MAX, 'image', 'cpio-bound'), path);
  const problems = checkBundles(img).flatMap((c) => c.problems);
  for (const p of problems) io.err(`cohimg verify: ${p.message}\n`);
  if (problems.length > 0) return 1;
  io.out(`cohimg verify: ${path}: ok (${img.manifest.tasks.length} bundles; sizes, sha256 and engine match the manifest)\n`);
  return 0;
}

function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
