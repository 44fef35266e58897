// gpu-bridge-host's command line: --list, --publish, --interval-ms (publish, then follow leases and jobs until killed); exit 0 ok, 1 failure, 2 usage.
import { parseArgs } from 'node:util';
import { CONSOLE_AUTH_TOKEN_DEV, CONSOLE_PORT_DEFAULT } from '../../js/console/limits.js';
import { discoverReal, type Discovery, type SmiRunner } from './discovery.js';
import { BridgeError } from './errors.js';
import { Follower } from './follower.js';
import type { ConsoleLink } from './link.js';
import { readCarried } from './carry.js';
import {
  INTERVAL_MS_DEFAULT, INTERVAL_MS_MAX, INTERVAL_MS_MIN, RECONNECT_ATTEMPTS_MAX, RECONNECT_BACKOFF_MS_MAX, RECONNECT_BACKOFF_MS_MIN, SHUTDOWN_MS_MAX,
} from './limits.js';
import { mockDiscovery } from './mock.js';
import { publishSnapshot, readBridgeStatus, type PublishResult } from './publish.js';
import { nodeSmiRunner } from './smi-runner.js';
import { buildSnapshot, encodeForPublish, snapshotJson, staticKey } from './snapshot-build.js';
import { connectConsole, type ConnectOptions } from './tcp-link.js';

export const USAGE = `usage: gpu-bridge-host [--mock] (--list | --publish | --interval-ms <n>) [connection options]

  --list              print the gpu-bridge-snapshot/v1 snapshot as JSON and exit
  --publish           publish the snapshot once as queen; exit 0 when the hive reports state=ok
  --interval-ms <n>   publish, then every <n> ms (${INTERVAL_MS_MIN}..${INTERVAL_MS_MAX}, default ${INTERVAL_MS_DEFAULT}) rediscover,
                      republish on change, follow /gpu/<id>/{ctl,lease,job}, enforce leases, run jobs;
                      until SIGINT/SIGTERM, which releases every lease and quits
  --mock              the spec's mock GPUs (GPU-0 "Mock 4090", GPU-1 "Mock 4060") instead of nvidia-smi
  --nvidia-smi <path> the nvidia-smi to run (default: nvidia-smi on PATH)
  --no-telemetry      do not push GPU readings to /queen/telemetry/gpu-bridge/
  --tcp-host <h>      console host (COHSH_TCP_HOST, default 127.0.0.1)
  --tcp-port <p>      console port (COHSH_TCP_PORT, default 31337)
  --auth-token <t>    console AUTH token (COHSH_AUTH_TOKEN, default changeme)
  --help

exit status: 0 ok, 1 failure (discovery, connection, publish), 2 usage error
`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface Deps {
  smi?: SmiRunner;
  connect?(o: ConnectOptions): Promise<ConsoleLink | BridgeError>;
  nowMs?(): number;
  /** Aborting it stops --interval-ms (the launcher wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
}

interface Settings {
  mode: 'list' | 'publish' | 'follow';
  mock: boolean;
  intervalMs: number;
  telemetry: boolean;
  smiPath: string;
  conn: ConnectOptions;
}

function usage(io: Io, why: string): number {
  io.err(`gpu-bridge-host: ${why}\n${USAGE}`);
  return 2;
}

function parse(argv: string[], env: Record<string, string | undefined>): Settings | string | 'help' {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        mock: { type: 'boolean' }, list: { type: 'boolean' }, publish: { type: 'boolean' }, 'interval-ms': { type: 'string' },
        'nvidia-smi': { type: 'string' }, 'no-telemetry': { type: 'boolean' }, 'tcp-host': { type: 'string' }, 'tcp-port': { type: 'string' },
        'auth-token': { type: 'string' }, help: { type: 'boolean' },
      },
    }).values;
  } catch (e) {
    return (e as Error).message;
  }
  if (v.help) return 'help';
  const modes = [v.list, v.publish || v['interval-ms'] !== undefined].filter(Boolean).length;
  if (modes !== 1) return 'choose one of --list, --publish, --interval-ms';
  let intervalMs = INTERVAL_MS_DEFAULT;
  if (v['interval-ms'] !== undefined) {
    intervalMs = Number(v['interval-ms']);
    if (!/^\d+$/.test(v['interval-ms']) || intervalMs < INTERVAL_MS_MIN || intervalMs > INTERVAL_MS_MAX) {
      return `--interval-ms must be an integer ${INTERVAL_MS_MIN}..${INTERVAL_MS_MAX}`;
    }
  }
  const portText = v['tcp-port'] ?? env.COHSH_TCP_PORT ?? String(CONSOLE_PORT_DEFAULT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return `bad --tcp-port ${portText}`;
  return {
    mode: v.list ? 'list' : v['interval-ms'] !== undefined ? 'follow' : 'publish',
    mock: v.mock === true,
    intervalMs,
    telemetry: v['no-telemetry'] !== true,
    smiPath: v['nvidia-smi'] ?? 'nvidia-smi',
    conn: { host: v['tcp-host'] ?? env.COHSH_TCP_HOST ?? '127.0.0.1', port, authToken: v['auth-token'] ?? env.COHSH_AUTH_TOKEN ?? CONSOLE_AUTH_TOKEN_DEV },
  };
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((res) => {
    if (signal.aborted) return res();
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      res();
    }
    signal.addEventListener('abort', done);
  });

export async function main(argv: string[], io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }, deps: Deps = {}): Promise<number> {
  const s = parse(argv, deps.env ?? process.env);
  if (s === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (typeof s === 'string') return usage(io, s);
  const log = (l: string) => io.err(`[gpu-bridge-host] ${l}\n`);
  const fail = (e: BridgeError) => {
    io.err(`gpu-bridge-host: ${e.code}: ${e.message}\n`);
    return 1;
  };
  const smi = deps.smi ?? nodeSmiRunner(s.smiPath);
  const discover = (): Promise<Discovery | BridgeError> => (s.mock ? Promise.resolve(mockDiscovery()) : discoverReal(smi));
  const connect = deps.connect ?? connectConsole;
  const nowMs = deps.nowMs ?? (() => Date.now());

  let discovery = await discover();
  if (discovery instanceof BridgeError) return fail(discovery);

  if (s.mode === 'list') {
    const snap = buildSnapshot(discovery);
    const enc = encodeForPublish(snap);
    if (enc instanceof BridgeError) return fail(enc);
    io.out(JSON.stringify(snapshotJson(snap, enc), null, 2) + '\n');
    return 0;
  }

  const signal = deps.signal ?? new AbortController().signal;
  const connectWithRetry = async (): Promise<ConsoleLink | BridgeError> => {
    let backoff = RECONNECT_BACKOFF_MS_MIN;
    let last: BridgeError = new BridgeError('connect-failed', 'no attempt');
    for (let i = 1; i <= RECONNECT_ATTEMPTS_MAX && !signal.aborted; i++) {
      const l = await connect(s.conn);
      if (!(l instanceof BridgeError)) return l;
      last = l;
      // A refused AUTH or ATTACH will not get better by retrying.
      if (l.code === 'auth-failed' || l.code === 'attach-failed') return l;
      if (i < RECONNECT_ATTEMPTS_MAX) {
        log(`connect attempt #${i} failed (${l.message}); retrying in ${backoff} ms`);
        await abortableSleep(backoff, signal);
        backoff = Math.min(backoff * 2, RECONNECT_BACKOFF_MS_MAX);
      }
    }
    return last;
  };

  /** Publishes the current discovery, carrying the hive's lease files for GPUs it already has. */
  const publish = async (link: ConsoleLink, d: Discovery): Promise<PublishResult | BridgeError> => {
    const carried = await readCarried(link, d.gpus.map((g) => g.id), log);
    if (carried instanceof BridgeError) return carried;
    const enc = encodeForPublish(buildSnapshot(d, carried));
    if (enc instanceof BridgeError) return enc;
    return publishSnapshot(link, enc);
  };

  if (s.mode === 'publish') {
    const link = await connectWithRetry();
    if (link instanceof BridgeError) return fail(link);
    const r = await publish(link, discovery);
    await link.close();
    if (r instanceof BridgeError) return fail(r);
    io.out(`published gpus=${discovery.gpus.length} bytes=${r.bytes} sha256=${r.sha256} echoes=${r.echoes}\n`);
    return 0;
  }

  // --interval-ms: publish, then follow until aborted.
  const follower = new Follower({ discovery: () => discovery as Discovery, nowMs, log, telemetry: s.telemetry });
  let link: ConsoleLink | null = null;
  let publishedKey: string | null = null;
  let publishedSha: string | null = null;
  while (!signal.aborted) {
    if (link === null || !link.alive()) {
      if (link !== null) log('lost the hive connection; leases keep their TTL here');
      link = null;
      const l = await connectWithRetry();
      if (l instanceof BridgeError) {
        log(`hive unreachable: ${l.code}: ${l.message}`);
        if (l.code === 'auth-failed' || l.code === 'attach-failed') return fail(l);
      } else {
        link = l;
        // A hive that does not show our install (restarted, or another publisher) gets it again.
        const st = await readBridgeStatus(link);
        if (typeof st === 'string' && (publishedSha === null || !st.startsWith(`state=ok bytes=`) || !st.endsWith(`sha256=${publishedSha}`))) {
          if (publishedSha !== null) {
            log(`hive shows "${st}", not our install: republishing`);
            follower.forgetHive();
          }
          publishedKey = null;
        }
      }
    }
    if (!s.mock && link !== null) {
      const d = await discover();
      if (d instanceof BridgeError) log(`rediscovery failed, keeping the last snapshot: ${d.code}: ${d.message}`);
      else discovery = d;
    }
    if (link !== null && publishedKey !== staticKey(discovery)) {
      const r = await publish(link, discovery);
      if (r instanceof BridgeError) {
        log(`publish failed: ${r.code}: ${r.message}`);
        if (r.code === 'publish-failed' || r.code === 'snapshot-too-big') return fail(r);
      } else {
        publishedKey = staticKey(discovery);
        publishedSha = r.sha256;
        log(`published gpus=${discovery.gpus.length} bytes=${r.bytes} sha256=${r.sha256}`);
      }
    }
    if (link !== null && link.alive() && publishedKey !== null) {
      const r = await follower.step(link);
      if (r instanceof BridgeError) log(`step failed: ${r.code}: ${r.message}`);
    } else {
      follower.offlineTick();
    }
    const deadline = follower.nextDeadlineMs();
    const wait = deadline === null ? s.intervalMs : Math.min(s.intervalMs, Math.max(0, deadline - nowMs()));
    await abortableSleep(wait, signal);
  }
  // Killed: release what we enforce, bounded in time, then QUIT.
  const stop = (async () => {
    const e = await follower.releaseAll(link !== null && link.alive() ? link : null, 'bridge-stopped');
    if (e !== null) log(`release on stop: ${e.code}: ${e.message}`);
    if (link !== null) await link.close();
  })();
  await Promise.race([stop, new Promise((res) => setTimeout(res, SHUTDOWN_MS_MAX).unref())]);
  return 0;
}
