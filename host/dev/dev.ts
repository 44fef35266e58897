// `npm run dev`: boots (or attaches to) a dev hive, watches js/, and hot-reloads each bundle a save changed: rollup → cohc → RELOAD.
//
// Why rollup's watch API and not a bare fs.watch + rollup() per save: @rollup/plugin-typescript
// keeps its TypeScript program between builds only in watch mode. A fresh build type-checks the
// whole of js/ again (3–7 s a bundle here); a watch rebuild takes about 0.4 s. Rollup's watcher
// (chokidar over fs.watch, one watch per module) also knows each bundle's module graph, so a save
// rebuilds only the bundles that import the saved file, and a save during a build queues exactly
// one rerun. The bundles are byte for byte what scripts/build.sh makes (the same config).
//
// Bounds: the debounce (rollup's buildDelay); one build at a time with at most one rerun pending
// (rollup's); one push at a time with at most one pending bundle per task, the newest winning.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RollupOptions, RollupWatcher, RollupWatcherEvent, RollupLog } from 'rollup';
import { launchHive, type LaunchedHive } from '../start/start.js';
import { DEV_USAGE, parseDevArgs, type DevOptions } from './args.js';
import { Pusher, ROOT_TASK, rootTaskLine, type PushTimings } from './push.js';

/** Repo root: build/tsc/host/dev/dev.js → four levels up. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const COHC = join(ROOT, 'build', 'engine', 'cohc');
/** The image npm start boots: its task names are the bundles worth watching. */
const DEV_MANIFEST = join(ROOT, 'boards', 'host', 'manifest.json');
/** TypeScript diagnostics printed per failed build; the rest are counted. */
const DIAGNOSTICS_SHOWN_MAX = 8;
/** cohc on one bundle takes milliseconds; this only stops a hang. */
const COHC_TIMEOUT_MS = 30_000;

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const now = (): number => performance.now();

interface Built {
  bytes: Buffer;
  savedAtMs: number;
  rollupMs: number;
}

interface Pending {
  qbc: string;
  timings: PushTimings;
}

/** The tasks of the dev manifest, in order. */
function manifestTasks(): string[] {
  const m = JSON.parse(readFileSync(DEV_MANIFEST, 'utf8')) as { tasks: { name: string }[] };
  return m.tasks.map((t) => t.name);
}

/** The project's rollup configs for `tasks`, each reporting its TypeScript diagnostics to `onDiag`. */
async function devConfigs(root: string, tasks: readonly string[], debounceMs: number, onDiag: (task: string, text: string) => void): Promise<RollupOptions[] | string> {
  const file = join(root, 'rollup.config.mjs');
  if (!existsSync(file)) return `${file} is missing (--root needs js/, tsconfig*.json, rollup.config.mjs and node_modules)`;
  const all = (await import(pathToFileURL(file).href)).default as RollupOptions[];
  const out: RollupOptions[] = [];
  for (const c of all) {
    const o = Array.isArray(c.output) ? c.output[0] : c.output;
    const task = basename(o?.file ?? '', '.js');
    if (!tasks.includes(task)) continue;
    const projectWarn = c.onwarn;
    out.push({
      ...c,
      // Type errors reach rollup as the plugin's warnings; here they stop the push (build.sh would fail).
      onwarn(w: RollupLog, warn) {
        if (w.plugin === 'typescript' && /^TS\d+$/.test(w.pluginCode as string ?? '')) return onDiag(task, w.message.replace(/^\[plugin typescript\] /, '').replace('@rollup/plugin-typescript ', ''));
        if (projectWarn) projectWarn(w, warn);
        else warn(w);
      },
      watch: { buildDelay: debounceMs, clearScreen: false, exclude: ['node_modules/**', 'build/**'] },
    });
  }
  return out;
}

function showDiagnostics(task: string, d: readonly string[]): void {
  say(`[dev] ${task} NOT pushed: TypeScript reports ${d.length} error${d.length === 1 ? '' : 's'}; the hive runs the last good code`);
  for (const line of d.slice(0, DIAGNOSTICS_SHOWN_MAX)) say(`      ${line}`);
  if (d.length > DIAGNOSTICS_SHOWN_MAX) say(`      … and ${d.length - DIAGNOSTICS_SHOWN_MAX} more`);
}

function cohc(js: string, qbc: string): string | null {
  const r = spawnSync(COHC, ['-o', qbc, js], { encoding: 'utf8', timeout: COHC_TIMEOUT_MS });
  if (r.status === 0) return null;
  return `cohc failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout).trim()}`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const o = parseDevArgs(argv, process.env, process.cwd());
  if (o === 'help') {
    process.stdout.write(DEV_USAGE);
    return 0;
  }
  if (typeof o === 'string') {
    process.stderr.write(`dev: ${o}\nrun 'npm run dev -- --help' for usage\n`);
    return 2;
  }
  return run(o);
}

async function run(o: DevOptions): Promise<number> {
  const known = manifestTasks();
  const unknown = (o.only ?? []).filter((t) => !known.includes(t));
  if (unknown.length > 0) {
    process.stderr.write(`dev: --only names no task of ${DEV_MANIFEST}: ${unknown.join(', ')} (tasks: ${known.join(', ')})\n`);
    return 2;
  }
  for (const f of [COHC, join(o.root, 'js'), join(o.root, 'tsconfig.js.json')]) {
    if (!existsSync(f)) {
      process.stderr.write(`dev: ${f} is missing${f === COHC ? '; run `npm run build` first' : ''}\n`);
      return 1;
    }
  }
  const tasks = o.only ?? known;

  let hive: LaunchedHive | null = null;
  let target = o.attach;
  if (target === null) {
    const h = await launchHive(o.start, (l) => say(`[dev] ${l}`));
    if (typeof h === 'string') {
      process.stderr.write(`dev: ${h}\n`);
      return 1;
    }
    hive = h;
    target = { host: '127.0.0.1', port: h.port };
    say(`[dev] hive up: console 127.0.0.1:${h.port} (token ${o.authToken})${h.ninepPort ? `, Secure9P 127.0.0.1:${h.ninepPort}` : ''}; ` +
      `log ${o.start.log}. In another terminal: bin/cohsh --tcp-port ${h.port} --role queen`);
  } else {
    say(`[dev] pushing to the hive at ${target.host}:${target.port}`);
  }

  // The rollup config, tsconfig and include patterns are relative to the source root.
  process.chdir(o.root);
  const qbcDir = join(o.root, 'build', 'dev', 'qbc');
  mkdirSync(qbcDir, { recursive: true });
  const diags = new Map<string, string[]>();
  const configs = await devConfigs(o.root, tasks, o.debounceMs, (task, text) => {
    const d = diags.get(task) ?? [];
    d.push(text);
    diags.set(task, d);
  });
  if (typeof configs === 'string') {
    process.stderr.write(`dev: ${configs}\n`);
    await hive?.stop((l) => say(`[dev] ${l}`));
    return 1;
  }

  // What the hive runs, as far as we know: the bundle bytes it was built from. In the checkout
  // that is build/bundles (scripts/dev.sh rebuilds the image first when js/ is newer); a bundle
  // that differs after the first build is pushed then.
  const live = new Map<string, Buffer>();
  for (const t of tasks) {
    const f = join(o.root, 'build', 'bundles', `${t}.js`);
    if (existsSync(f)) live.set(t, readFileSync(f));
  }

  const pusher = new Pusher(target.host, target.port, o.authToken, (l) => say(`[dev] ${l}`));
  const pending = new Map<string, Pending>();
  let pushing = false;
  let stopped = false;
  const pushLoop = async (): Promise<void> => {
    if (pushing) return;
    pushing = true;
    while (!stopped && pending.size > 0) {
      const [task, p] = pending.entries().next().value as [string, Pending];
      pending.delete(task);
      const r = await pusher.push(task, p.qbc, p.timings, now);
      say(r.line);
    }
    pushing = false;
  };

  const { watch } = await import('rollup');
  say(`[dev] building ${tasks.join(', ')} (the first build type-checks js/; later saves rebuild incrementally)`);
  const watcher: RollupWatcher = watch(configs);
  let firstChangeMs: number | null = null;
  let runSavedAtMs = now();
  let bundleStartMs = 0;
  let current = '';
  let firstRun = true;
  watcher.on('change', () => {
    firstChangeMs ??= now();
  });
  const built = (task: string, b: Built): void => {
    const before = live.get(task);
    if (before !== undefined && before.equals(b.bytes)) {
      if (!firstRun) say(`[dev] ${task}: the bundle did not change; nothing to push`);
      return;
    }
    live.set(task, b.bytes);
    if (before === undefined && firstRun) return;
    if (task === ROOT_TASK) return say(rootTaskLine(task));
    if (firstRun) say(`[dev] ${task}: the first build differs from the build/bundles/${task}.js the hive was built from: pushing it`);
    const qbc = join(qbcDir, `${task}.qbc`);
    const c0 = now();
    const err = cohc(join(o.root, 'build', 'bundles', `${task}.js`), qbc);
    if (err !== null) return say(`[dev] ${task} NOT pushed: ${err}`);
    pending.set(task, { qbc, timings: { savedAtMs: b.savedAtMs, rollupMs: b.rollupMs, cohcMs: now() - c0 } });
    void pushLoop();
  };
  watcher.on('event', (e: RollupWatcherEvent) => {
    switch (e.code) {
      case 'START':
        runSavedAtMs = firstChangeMs ?? now();
        firstChangeMs = null;
        break;
      case 'BUNDLE_START':
        bundleStartMs = now();
        current = basename(String(e.output[0] ?? ''), '.js');
        diags.delete(current);
        break;
      case 'BUNDLE_END': {
        void e.result.close();
        const d = diags.get(current) ?? [];
        if (d.length > 0) {
          // What runs is unchanged: the fixed build is compared with the last good bytes.
          showDiagnostics(current, d);
          break;
        }
        built(current, { bytes: readFileSync(join(o.root, 'build', 'bundles', `${current}.js`)), savedAtMs: runSavedAtMs, rollupMs: now() - bundleStartMs });
        break;
      }
      case 'ERROR': {
        // A syntax error reaches rollup as TypeScript's diagnostic (a warning) and then rollup's own
        // parse error of what TypeScript made of it: the first says what is wrong, so it goes first.
        const err = e.error;
        const d = diags.get(current) ?? [];
        if (d.length > 0) showDiagnostics(current, d);
        else {
          say(`[dev] ${current || 'build'} NOT pushed: ${err.message}; the hive runs the last good code`);
          if (err.frame) for (const l of err.frame.split('\n')) say(`      ${l}`);
        }
        void e.result?.close();
        break;
      }
      case 'END':
        if (firstRun) {
          firstRun = false;
          say(`[dev] watching ${join(o.root, 'js')} (debounce ${o.debounceMs} ms); Ctrl-C stops ${hive ? 'the watcher and the hive' : 'the watcher'}`);
        }
        break;
    }
  });

  const code = await new Promise<number>((res) => {
    const onSignal = (): void => res(0);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
    hive?.hive.once('exit', () => {
      if (!hive?.stopping) res(1);
    });
  });
  stopped = true;
  say('[dev] stopping');
  await watcher.close();
  await pusher.close();
  if (hive !== null) await hive.stop((l) => say(`[dev] ${l}`));
  return code;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
