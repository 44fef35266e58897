// Benchmark (prints figures, asserts nothing): cohsh start-to-prompt time against a fake TCP console, and script throughput.
// Run: node bench/cohsh.mjs [runs] after `npx tsc -p tsconfig.json` (writes build/bench/cohsh.json).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
const mod = (p) => import(pathToFileURL(join(REPO, 'build/tsc/host/cohsh', p)).href);
const { FakeConsoleServer } = await mod('fake-server.support.js');
const { run } = await mod('cli.js');
const BIN = join(REPO, 'bin', 'cohsh');
/** Longest one measured run may take, in ms. */
const RUN_TIMEOUT_MS = 20_000;
const RUNS_DEFAULT = 10;
/** A full script (the §4.4 bound) of ping and ls, run this many times in-process. */
const SCRIPT_COMMANDS = 256;
const SCRIPT_REPEATS = 10;

/** Spawns cohsh and resolves with the ms until `marker` shows on stdout; then sends quit. */
function timeToMarker(args, marker, env) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let at = null;
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`no ${JSON.stringify(marker)} within ${RUN_TIMEOUT_MS} ms: ${out}`));
    }, RUN_TIMEOUT_MS);
    p.stdout.on('data', (c) => {
      out += String(c);
      if (at === null && out.includes(marker)) {
        at = performance.now() - t0;
        p.stdin.end('quit\n');
      }
    });
    p.on('exit', () => {
      clearTimeout(timer);
      if (at === null) reject(new Error(`exited before ${JSON.stringify(marker)}: ${out}`));
      else resolve(at);
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const runs = Number(process.argv[2] ?? RUNS_DEFAULT);
  const server = new FakeConsoleServer();
  const port = await server.start();
  const dir = mkdtempSync(join(tmpdir(), 'cohsh-bench-'));
  const env = { ...process.env, COHSH_HISTORY: join(dir, 'history'), COHSH_CONSOLE_LOCK: '0' };
  const tcp = ['--transport', 'tcp', '--tcp-port', String(port)];
  const detached = [];
  const attached = [];
  for (let i = 0; i < runs; i++) {
    detached.push(await timeToMarker(tcp, 'coh> ', env));
    attached.push(await timeToMarker([...tcp, '--role', 'queen'], 'coh> ', env));
  }
  const script = join(dir, 'bench.coh');
  writeFileSync(script, Array.from({ length: SCRIPT_COMMANDS / 2 }, () => 'ping\nls /proc').join('\n') + '\n');
  // In-process, so process start-up does not hide the per-command cost.
  const io = { out: () => undefined, err: (t) => void process.stderr.write(t) };
  const t0 = performance.now();
  let code = 0;
  for (let i = 0; i < SCRIPT_REPEATS && code === 0; i++) {
    code = await run([...tcp, '--role', 'queen', '--script', script], { env, io, stdin: new PassThrough(), stdout: new PassThrough(), tty: false });
  }
  const scriptMs = performance.now() - t0;
  const perSecond = (SCRIPT_COMMANDS * SCRIPT_REPEATS) / (scriptMs / 1000);
  const s = { code, ms: scriptMs };
  await server.stop();
  const result = {
    node: process.version,
    runs,
    start_to_prompt_ms: { detached_median: median(detached), detached_max: Math.max(...detached), attached_median: median(attached), attached_max: Math.max(...attached) },
    script: { commands: SCRIPT_COMMANDS * SCRIPT_REPEATS, exit: s.code, total_ms: Math.round(s.ms), commands_per_s: Math.round(perSecond) },
  };
  const f = (n) => `${n.toFixed(0)} ms`;
  process.stdout.write(`cohsh start to prompt (${runs} runs, Node ${process.version}, fake TCP console on loopback)\n`);
  process.stdout.write(`  detached (--transport tcp)                    median ${f(median(detached))}  max ${f(Math.max(...detached))}\n`);
  process.stdout.write(`  attached (--role queen: AUTH, ATTACH, log)   median ${f(median(attached))}  max ${f(Math.max(...attached))}\n`);
  process.stdout.write(`script throughput: ${SCRIPT_REPEATS} × ${SCRIPT_COMMANDS}-statement script (ping, ls /proc), in-process, ${Math.round(s.ms)} ms = ${Math.round(perSecond)} commands/s (exit ${s.code})\n`);
  mkdirSync(join(REPO, 'build', 'bench'), { recursive: true });
  writeFileSync(join(REPO, 'build', 'bench', 'cohsh.json'), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
