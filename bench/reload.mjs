// Bench: hot reload on the host firmware (worker-heart, NineDoor) and npm run dev's save → live; prints a table, writes bench/results/reload.json.
// Needs a build (sh scripts/build.sh). Usage: node bench/reload.mjs [--runs N] [--ninedoor-runs N] [--watch-runs N]
//
// worker-heart, per run (alternating two variants so each reload changes the code):
//   commit RTT  runReload from BEGIN to COMMIT's answer (the whole upload, ~15 KiB in 168-byte lines)
//   swap        what the hive reports (COMMIT ms=): snapshot, new runtime, main, restore
//   answering   reload start → the first telemetry record the new code wrote, read back by TAIL
//               polling. The bench variants append one record as soon as they resume the
//               NineDoor session; the stock heartbeat would wait for its next 1 s tick.
// ninedoor: commit RTT, swap, then whether `CAT /proc/lifecycle/state` answers after the commit.
// watch:     npm run dev --tcp-port <this hive> --only worker-heart on a temp copy of js/: file write
//            → the watcher's "reloaded" line, and the save → live it reports (rollup + cohc + upload).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const mod = (p) => import(pathToFileURL(join(ROOT, 'build/tsc/host', p)).href);
const { launchHive, parseStartArgs } = await mod('start/start.js');
const { ConsoleClient } = await mod('cohsh/client.js');
const { TcpTransport } = await mod('cohsh/tcp-transport.js');
const { CommandRecord } = await mod('cohsh/output.js');
const { runReload } = await mod('cohsh/reload.js');

/** The issue's target for reload start → new code answering, in ms. */
const TARGET_MS = 100;
const RUNS_DEFAULT = 20;
const NINEDOOR_RUNS_DEFAULT = 3;
const WATCH_RUNS_DEFAULT = 10;
/** TAIL polls while waiting for the new code's first record, and how long to wait at most. */
const POLL_MS = 2;
const ANSWER_TIMEOUT_MS = 3000;
/** The watcher's first build type-checks js/: minutes on a loaded 2-core machine at worst. */
const WATCH_FIRST_BUILD_MS = 180_000;
const WATCH_PUSH_TIMEOUT_MS = 30_000;
const COHC = join(ROOT, 'build/engine/cohc');
const RECORD = 'JSON.stringify({ tick, ts_ms';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const runs = arg('--runs', RUNS_DEFAULT);
const ninedoorRuns = arg('--ninedoor-runs', NINEDOOR_RUNS_DEFAULT);
const watchRuns = arg('--watch-runs', WATCH_RUNS_DEFAULT);
const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s[Math.min(s.length - 1, Math.round((p / 100) * (s.length - 1)))];
};
const stats = (xs) => ({ runs: xs.length, p50: r2(pct(xs, 50)), p90: r2(pct(xs, 90)), min: r2(Math.min(...xs)), max: r2(Math.max(...xs)) });
const r2 = (x) => (x === null ? null : Math.round(x * 100) / 100);

/** A temp source tree (js/ without tests, configs, node_modules linked): the checkout is never written. */
function sourceCopy() {
  const d = mkdtempSync(join(tmpdir(), 'cohesix-bench-reload-'));
  cpSync(join(ROOT, 'js'), join(d, 'js'), { recursive: true, filter: (s) => !s.endsWith('.test.ts') });
  for (const f of ['tsconfig.json', 'tsconfig.js.json', 'rollup.config.mjs']) cpSync(join(ROOT, f), join(d, f));
  symlinkSync(join(ROOT, 'node_modules'), join(d, 'node_modules'));
  return d;
}

/** The heartbeat with a tagged record, writing one record as soon as it resumes its NineDoor session. */
function heartVariant(src, tag) {
  const f = join(src, 'js/workers/heart/main.ts');
  const base = readFileSync(join(ROOT, 'js/workers/heart/main.ts'), 'utf8');
  let s = base.replaceAll(RECORD, `JSON.stringify({ tick, bench: '${tag}', ts_ms`);
  s = s.replace('      appender.resume(resumed.msize);\n      return beat();',
    `      appender.resume(resumed.msize);\n      void appender.append(\`\${JSON.stringify({ tick, bench: '${tag}', resumed: true })}\\n\`);\n      return beat();`);
  if (!s.includes('resumed: true') || !s.includes(`bench: '${tag}', ts_ms`)) throw new Error('heart/main.ts changed shape: update bench/reload.mjs');
  writeFileSync(f, s);
}

async function bundle(src, task, out) {
  const { rollup } = await import('rollup');
  const cwd = process.cwd();
  process.chdir(src);
  try {
    const configs = (await import(pathToFileURL(join(src, 'rollup.config.mjs')).href + `?t=${Date.now()}`)).default;
    const c = configs.find((x) => x.output.file.endsWith(`/${task}.js`));
    const b = await rollup(c);
    await b.write(c.output);
    await b.close();
    const r = spawnSync(COHC, ['-o', out, join(src, c.output.file)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cohc: ${r.stderr}`);
  } finally {
    process.chdir(cwd);
  }
}

async function connect(port) {
  const client = new ConsoleClient({
    transport: new TcpTransport('127.0.0.1', port), authToken: 'changeme',
    retry: { maxAttempts: 3, backoffMs: 200, ceilingMs: 2000, timeoutMs: 5000 }, heartbeatMs: 0, reconnect: false, diag: () => {},
  });
  const a = await client.attach('queen', null);
  if (!('attachment' in a) || a.attachment === null) throw new Error(`attach: ${JSON.stringify(a)}`);
  return client;
}

async function reload(client, target, qbc) {
  const rec = new CommandRecord(null);
  const t0 = now();
  const ok = await runReload(client, rec, target, qbc);
  const rtt = now() - t0;
  const commit = rec.acks.find((a) => a.includes('stage=commit')) ?? '';
  const swap = Number(/ ms=([0-9.]+)/.exec(commit)?.[1] ?? NaN);
  return { ok, t0, rtt, swap, acks: rec.acks, errors: rec.errors };
}

async function tail(client, path) {
  const r = await client.request(`TAIL ${path}`, 'TAIL', 'stream');
  return 'lines' in r ? r.lines : [];
}

// ---------------------------------------------------------------- the hive

const logDir = mkdtempSync(join(tmpdir(), 'cohesix-bench-reload-log-'));
const opts = parseStartArgs(['--console-port', '0', '--9p-port', '0', '--no-bridge', '--log', join(logDir, 'hive.log')], {});
const hive = await launchHive(opts, () => {});
if (typeof hive === 'string') throw new Error(hive);
const res = { machine: { platform: `${platform()} ${release()}`, cpus: cpus().length, node: process.version }, target_ms: TARGET_MS };
const src = sourceCopy();
try {
  const client = await connect(hive.port);
  const spawned = await client.request('ECHO /queen/ctl {"spawn":"heartbeat","ticks":100000}', 'ECHO', 'ack');
  if (!('ok' in spawned) || !spawned.ok) throw new Error(`spawn: ${JSON.stringify(spawned)}`);
  const ring = '/worker/worker-1/telemetry';
  for (let i = 0; i < 50 && (await tail(client, ring)).length === 0; i++) await sleep(100);

  // ---- worker-heart
  const qbcs = {};
  for (const tag of ['a', 'b']) {
    heartVariant(src, tag);
    qbcs[tag] = join(src, `heart-${tag}.qbc`);
    await bundle(src, 'worker-heart', qbcs[tag]);
  }
  const heart = { commit_rtt_ms: [], swap_ms: [], answering_ms: [], bytes: readFileSync(qbcs.a).length };
  for (let i = 0; i < runs; i++) {
    const tag = i % 2 === 0 ? 'a' : 'b';
    // Records repeat (the tick may not move between two reloads), so count them rather than match one.
    const mark = `"bench":"${tag}","resumed":true`;
    const count = async () => (await tail(client, ring)).filter((l) => l.includes(mark)).length;
    const before = await count();
    const r = await reload(client, 'worker-heart', qbcs[tag]);
    if (!r.ok) throw new Error(`worker-heart reload: ${r.acks.join(' | ')} ${r.errors.join(' | ')}`);
    let answered = null;
    while (now() - r.t0 < ANSWER_TIMEOUT_MS) {
      if ((await count()) > before) {
        answered = now() - r.t0;
        break;
      }
      await sleep(POLL_MS);
    }
    if (answered === null) throw new Error(`worker-heart variant ${tag}: no record within ${ANSWER_TIMEOUT_MS} ms: ${(await tail(client, ring)).slice(-4).join(' ')}`);
    heart.commit_rtt_ms.push(r.rtt);
    heart.swap_ms.push(r.swap);
    heart.answering_ms.push(answered);
  }
  res.worker_heart = { qbc_bytes: heart.bytes, commit_rtt_ms: stats(heart.commit_rtt_ms), swap_ms: stats(heart.swap_ms), answering_ms: stats(heart.answering_ms) };

  // ---- npm run dev: save → live (worker-heart); the hive above, the tree above
  heartVariant(src, 'a');
  // No bundle left from the builds above: the watcher takes its first build as what runs, and pushes only saves.
  rmSync(join(src, 'build/bundles/worker-heart.js'), { force: true });
  const dev = spawn(process.execPath, [join(ROOT, 'build/tsc/host/dev/dev.js'), '--tcp-port', String(hive.port), '--root', src, '--only', 'worker-heart'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  dev.stdout.setEncoding('utf8');
  dev.stdout.on('data', (c) => {
    out += c;
  });
  dev.stderr.on('data', (c) => {
    out += c;
  });
  const waitFor = async (rx, from, ms) => {
    const t0 = now();
    while (now() - t0 < ms) {
      const m = rx.exec(out.slice(from));
      if (m) return { m, at: now() };
      await sleep(1);
    }
    throw new Error(`dev: no ${rx} within ${ms} ms:\n${out.slice(from)}`);
  };
  const watch = { wall_ms: [], reported_ms: [], rollup_ms: [], cohc_ms: [], upload_ms: [], swap_ms: [] };
  try {
    await waitFor(/\[dev\] watching /, 0, WATCH_FIRST_BUILD_MS);
    for (let i = 0; i < watchRuns; i++) {
      const from = out.length;
      const t0 = now();
      heartVariant(src, i % 2 === 0 ? 'b' : 'a');
      const { m, at } = await waitFor(/\[dev\] worker-heart reloaded in ([0-9.]+) ms \(save → live ([0-9.]+) ms; rollup ([0-9.]+) ms, cohc ([0-9.]+) ms, upload ([0-9.]+) ms\)/,
        from, WATCH_PUSH_TIMEOUT_MS);
      watch.wall_ms.push(at - t0);
      watch.swap_ms.push(Number(m[1]));
      watch.reported_ms.push(Number(m[2]));
      watch.rollup_ms.push(Number(m[3]));
      watch.cohc_ms.push(Number(m[4]));
      watch.upload_ms.push(Number(m[5]));
      await sleep(300);
    }
  } finally {
    if (process.env.BENCH_DEV_OUT) writeFileSync(process.env.BENCH_DEV_OUT, out);
    dev.kill('SIGTERM');
    await new Promise((r) => dev.once('exit', r));
  }
  res.watch_save_to_live = Object.fromEntries(Object.entries(watch).map(([k, v]) => [k, stats(v)]));

  // ---- ninedoor (last: without a state hand-off its sessions do not survive)
  const nd = { commit_rtt_ms: [], swap_ms: [], cat_after: [] };
  const ndQbc = join(src, 'ninedoor.qbc');
  await bundle(src, 'ninedoor', ndQbc);
  for (let i = 0; i < ninedoorRuns; i++) {
    const r = await reload(client, 'ninedoor', ndQbc);
    if (!r.ok) {
      nd.cat_after.push({ reload: r.acks.concat(r.errors).join(' | ') });
      continue;
    }
    nd.commit_rtt_ms.push(r.rtt);
    nd.swap_ms.push(r.swap);
    const c = await client.request('CAT /proc/lifecycle/state', 'CAT', 'stream');
    const answer = 'acks' in c ? c.acks.concat(c.lines).join(' | ') : String(c.message);
    nd.cat_after.push({ ok: 'ok' in c && c.ok, after_commit_ms: r2(now() - r.t0 - r.rtt), answer });
  }
  res.ninedoor = {
    qbc_bytes: readFileSync(ndQbc).length,
    commit_rtt_ms: nd.commit_rtt_ms.length ? stats(nd.commit_rtt_ms) : null,
    swap_ms: nd.swap_ms.length ? stats(nd.swap_ms) : null,
    cat_proc_after_reload: nd.cat_after,
  };
  await client.close();
} finally {
  await hive.stop(() => {});
  rmSync(src, { recursive: true, force: true });
}

mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/reload.json'), `${JSON.stringify(res, null, 2)}\n`);
const row = (what, s, unit = 'ms', target = '') => console.log(`${what.padEnd(52)} ${String(s?.p50 ?? '-').padStart(8)} ${String(s?.p90 ?? '-').padStart(8)} ${unit}  ${target}`);
console.log(`${'figure (host firmware)'.padEnd(52)} ${'p50'.padStart(8)} ${'p90'.padStart(8)}`);
const h = res.worker_heart;
row(`worker-heart RELOAD BEGIN→COMMIT answer (${h.qbc_bytes} B, n=${h.commit_rtt_ms.runs})`, h.commit_rtt_ms);
row('worker-heart swap reported by the hive', h.swap_ms);
row('worker-heart reload start → new code\'s first record', h.answering_ms, 'ms',
  `≤ ${TARGET_MS} ms ${h.answering_ms.p90 <= TARGET_MS ? 'met (p90)' : h.answering_ms.p50 <= TARGET_MS ? 'met at p50, not p90' : 'NOT met'}`);
const w = res.watch_save_to_live;
row(`npm run dev: write → "reloaded" line (n=${w.wall_ms.runs})`, w.wall_ms);
row('npm run dev: save → live as reported', w.reported_ms);
row('  of which rollup (incremental, TS check)', w.rollup_ms);
row('  of which cohc', w.cohc_ms);
row('  of which upload (BEGIN→COMMIT)', w.upload_ms);
const n = res.ninedoor;
row(`ninedoor RELOAD BEGIN→COMMIT answer (${n.qbc_bytes} B)`, n.commit_rtt_ms);
row('ninedoor swap reported by the hive', n.swap_ms);
for (const c of n.cat_proc_after_reload) console.log(`ninedoor reload then CAT /proc/lifecycle/state: ${c.ok === undefined ? `reload refused: ${c.reload}` : c.ok ? 'answers' : `FAILS: ${c.answer}`}`);
console.log('wrote bench/results/reload.json');
