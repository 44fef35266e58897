// `npm start`: boots the dev hive in the host firmware, starts gpu-bridge-host --mock following it, and hands the terminal to cohsh attached as queen; leaving cohsh stops both.
//
// The hive and the bridge run in their own process groups, so the terminal's Ctrl-C reaches cohsh
// only (it stops a `tail -f`, not the hive). Their output goes to a log file, so the shell stays
// clean. When cohsh exits (quit, Ctrl-D, or a signal to this launcher) the bridge gets SIGTERM
// first (it releases its leases and quits), then the hive; each is waited for within a bound and
// SIGKILLed past it. The exit status is cohsh's.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONSOLE_PORT_DEFAULT } from '../../js/console/limits.js';

/** Repo root: build/tsc/host/start/start.js → four levels up. */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
/** How long the firmware has to say `console ready port=<N>`. */
export const BOOT_TIMEOUT_MS = 10_000;
/** How long the first publish may take before cohsh starts anyway. */
export const PUBLISH_WAIT_MS = 5_000;
/** After SIGTERM, how long a child has before SIGKILL (the bridge releases leases within 3 s). */
export const STOP_TIMEOUT_MS = 5_000;
const READY = /console ready port=(\d+)/;
/** cohesix-sim --uart pty says where the UART console is. */
const UART_PTY = /^uart pty=(\S+)/;

export interface StartOptions {
  consolePort: number;
  ninepPort: number | null;
  intervalMs: number;
  log: string;
  uart: 'none' | 'pty';
  bridge: boolean;
  image: string;
  trustKey: string;
}

const USAGE = `usage: npm start -- [options]   (or: node build/tsc/host/start/start.js [options])

Boots build/images/dev.img in build/cohesix-sim, starts gpu-bridge-host --mock following it, and
drops you into cohsh attached as queen. Leaving cohsh (quit, Ctrl-D) stops the bridge and the hive.

  --console-port <n>  TCP console port (COHESIX_CONSOLE_PORT, default 31337; 0 = any free port)
  --9p-port <n>       Secure9P TCP port (COHESIX_9P_PORT, default 5640, a free one if taken; 0 = off)
  --interval-ms <n>   gpu-bridge-host refresh interval (250..10000, default 1000)
  --no-bridge         do not start gpu-bridge-host
  --uart none|pty     the firmware's UART console (default none; pty prints its path in the log)
  --log <file>        where the hive's and the bridge's output go (default build/hive.log)
  --help
`;

export function parseStartArgs(argv: readonly string[], env: NodeJS.ProcessEnv): StartOptions | string {
  const num = (v: string | undefined, what: string, lo: number, hi: number): number | string => {
    const n = v !== undefined && /^[0-9]+$/.test(v) ? Number(v) : NaN;
    return n >= lo && n <= hi ? n : `${what} takes an integer ${lo}..${hi}`;
  };
  const o: StartOptions = {
    consolePort: CONSOLE_PORT_DEFAULT, ninepPort: 5640, intervalMs: 1000, log: join(ROOT, 'build', 'hive.log'), uart: 'none', bridge: true,
    image: join(ROOT, 'build', 'images', 'dev.img'), trustKey: join(ROOT, 'build', 'keys', 'dev.pub'),
  };
  if (env.COHESIX_CONSOLE_PORT !== undefined) {
    const p = num(env.COHESIX_CONSOLE_PORT, 'COHESIX_CONSOLE_PORT', 0, 65535);
    if (typeof p === 'string') return p;
    o.consolePort = p;
  }
  if (env.COHESIX_9P_PORT !== undefined) {
    const p = num(env.COHESIX_9P_PORT, 'COHESIX_9P_PORT', 0, 65535);
    if (typeof p === 'string') return p;
    o.ninepPort = p;
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const take = (what: string, lo: number, hi: number): number | string => num(argv[++i], what, lo, hi);
    let r: number | string | null = null;
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--console-port') r = o.consolePort = take(a, 0, 65535) as number;
    else if (a === '--9p-port') r = o.ninepPort = take(a, 0, 65535) as number;
    else if (a === '--interval-ms') r = o.intervalMs = take(a, 250, 10000) as number;
    else if (a === '--no-bridge') o.bridge = false;
    else if (a === '--log') {
      const f = argv[++i];
      if (f === undefined || f === '') return '--log takes a file';
      o.log = resolve(f);
    } else if (a === '--uart') {
      const u = argv[++i];
      if (u !== 'none' && u !== 'pty') return '--uart takes none or pty';
      o.uart = u;
    } else return `unknown option ${a}`;
    if (typeof r === 'string') return r;
  }
  return o;
}

/** True when nothing listens on 127.0.0.1:port (we can bind it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen({ host: '127.0.0.1', port, exclusive: true }, () => s.close(() => res(true)));
  });
}

function note(line: string): void {
  process.stderr.write(`[start] ${line}\n`);
}

/** Pipes a child's stdout and stderr into the log, each line prefixed; calls onLine for each line. */
function toLog(child: ChildProcess, log: WriteStream, prefix: string, onLine?: (l: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) {
        log.write(`${prefix}${l}\n`);
        onLine?.(l);
      }
    });
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** SIGTERM to the child's process group, then SIGKILL past the bound. True when it went within the bound. */
export async function stopChild(child: ChildProcess, timeoutMs = STOP_TIMEOUT_MS): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return true;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      try {
        child.kill(s);
      } catch {
        // already gone
      }
    }
  };
  signal('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([exited(child).then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
  clearTimeout(timer);
  if (!inTime) {
    signal('SIGKILL');
    await exited(child);
  }
  return inTime;
}

/** A hive (and maybe a bridge) this launcher started: where it listens, and how to stop it all. */
export interface LaunchedHive {
  port: number;
  ninepPort: number;
  uartPty: string | null;
  hive: ChildProcess;
  bridge: ChildProcess | null;
  log: WriteStream;
  /** Set before an orderly stop, so the hive's exit is not reported as a surprise. */
  stopping: boolean;
  /** SIGTERM to the bridge, then the hive (each bounded), and closes the log. */
  stop(say: (line: string) => void): Promise<void>;
}

/**
 * Boots the hive in cohesix-sim and (unless --no-bridge) gpu-bridge-host --mock following it.
 * Shared by `npm start` and `npm run dev`. The error string is for the operator; nothing is left
 * running when it comes back.
 */
export async function launchHive(o: StartOptions, say: (line: string) => void): Promise<LaunchedHive | string> {
  const sim = join(ROOT, 'build', 'cohesix-sim');
  for (const f of [sim, o.image, o.trustKey, join(ROOT, 'build', 'tsc', 'host', 'cohsh', 'cli.js')]) {
    if (!existsSync(f)) return `${f} is missing; run \`npm run build\` first`;
  }
  if (o.consolePort !== 0 && !(await portFree(o.consolePort))) {
    return `127.0.0.1:${o.consolePort} is taken (another hive?); stop it, or use --console-port 0 or COHESIX_CONSOLE_PORT`;
  }
  let ninep = o.ninepPort ?? 0;
  if (ninep !== 0 && !(await portFree(ninep))) {
    say(`Secure9P port ${ninep} is taken: using a free one`);
    ninep = await new Promise<number>((r) => {
      const s = createServer().listen({ host: '127.0.0.1', port: 0 }, () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
  }

  mkdirSync(dirname(o.log), { recursive: true });
  const log = createWriteStream(o.log, { flags: 'w' });
  log.write(`[start] launcher pid=${process.pid}\n`);
  const children: ChildProcess[] = [];
  // Last resort if this process is torn down without the orderly stop below.
  process.once('exit', () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });

  const hive = spawn(sim, ['--image', o.image, '--trust-key', o.trustKey, '--uart', o.uart, '--console-port', String(o.consolePort), '--9p-port', String(ninep)], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  children.push(hive);
  log.write(`[start] hive pid=${hive.pid}\n`);
  let uartPty: string | null = null;
  const port = await new Promise<number | null>((res) => {
    const timer = setTimeout(() => res(null), BOOT_TIMEOUT_MS);
    toLog(hive, log, '', (l) => {
      const pty = UART_PTY.exec(l);
      if (pty !== null) uartPty = pty[1];
      const m = READY.exec(l);
      if (m !== null) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    hive.once('exit', () => {
      clearTimeout(timer);
      res(null);
    });
  });
  if (port === null) {
    await stopChild(hive);
    await new Promise<void>((r) => log.end(r));
    return `the hive did not come up (no "console ready" within ${BOOT_TIMEOUT_MS} ms); see ${o.log}`;
  }

  let bridge: ChildProcess | null = null;
  if (o.bridge) {
    bridge = spawn(process.execPath, [join(ROOT, 'bin', 'gpu-bridge-host'), '--mock', '--interval-ms', String(o.intervalMs), '--tcp-port', String(port)], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, COHSH_CONSOLE_LOCK: '0' },
    });
    children.push(bridge);
    log.write(`[start] bridge pid=${bridge.pid}\n`);
    await new Promise<void>((res) => {
      const timer = setTimeout(res, PUBLISH_WAIT_MS);
      toLog(bridge!, log, '', (l) => {
        if (l.includes('published gpus=')) {
          clearTimeout(timer);
          res();
        }
      });
      bridge!.once('exit', () => {
        clearTimeout(timer);
        res();
      });
    });
    if (bridge.exitCode !== null) say(`gpu-bridge-host exited (${bridge.exitCode}); see ${o.log}`);
  }
  const launched: LaunchedHive = {
    port, ninepPort: ninep, uartPty, hive, bridge, log, stopping: false,
    async stop(tell) {
      launched.stopping = true;
      tell(bridge !== null ? 'stopping gpu-bridge-host and the hive' : 'stopping the hive');
      if (bridge !== null && !(await stopChild(bridge))) tell('gpu-bridge-host did not stop in time: killed');
      if (!(await stopChild(hive))) tell('the hive did not stop in time: killed');
      log.write('[start] stopped\n');
      await new Promise<void>((r) => log.end(r));
    },
  };
  hive.once('exit', (code, sig) => {
    if (!launched.stopping) say(`the hive exited (${sig ?? code}); see ${o.log}`);
  });
  return launched;
}

export async function main(argv: readonly string[]): Promise<number> {
  const o = parseStartArgs(argv, process.env);
  if (o === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (typeof o === 'string') {
    process.stderr.write(`start: ${o}\nrun 'npm start -- --help' for usage\n`);
    return 2;
  }
  const h = await launchHive(o, note);
  if (typeof h === 'string') {
    process.stderr.write(`start: ${h}\n`);
    return 1;
  }
  const { port, ninepPort: ninep, uartPty, bridge } = h;
  note(`hive up: console 127.0.0.1:${port} (token changeme)${ninep ? `, Secure9P 127.0.0.1:${ninep}` : ''}; ` +
    `${uartPty ? `UART console on ${uartPty}; ` : ''}${bridge ? `gpu-bridge-host --mock every ${o.intervalMs} ms; ` : ''}log ${o.log}. quit or Ctrl-D stops it all.`);

  // cohsh owns the terminal; the terminal's Ctrl-C is its own business, so this launcher ignores SIGINT.
  const shell = spawn(process.execPath, [join(ROOT, 'bin', 'cohsh'), '--tcp-port', String(port), '--role', 'queen'], { cwd: process.cwd(), stdio: 'inherit' });
  const onSignal = (s: NodeJS.Signals) => {
    if (s === 'SIGINT') return;
    try {
      shell.kill('SIGTERM');
    } catch {
      // gone
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const code = await new Promise<number>((res) => shell.once('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));

  await h.stop(note);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  return code;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
