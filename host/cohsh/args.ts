// cohsh flags and environment variables (spec §4.1) → validated options, or a usage error (exit 2).
import { parseArgs } from 'node:util';
import { CONSOLE_AUTH_TOKEN_DEV, CONSOLE_PORT_DEFAULT } from '../../js/console/limits.js';
import type { TicketRole } from '../../js/tickets/claims.js';
import { resolveRole } from './checks.js';
import { CohshError, usageError } from './errors.js';
import {
  HEARTBEAT_INTERVAL_MS_DEFAULT, POOL_CONTROL_SESSIONS_DEFAULT, POOL_SESSIONS_MAX, POOL_TELEMETRY_SESSIONS_DEFAULT,
  RETRY_ATTEMPTS_MAX, RETRY_BACKOFF_MS_DEFAULT, RETRY_CEILING_MS_DEFAULT, RETRY_MAX_ATTEMPTS_DEFAULT, RETRY_TIMEOUT_MS_DEFAULT,
  TIMER_FLAG_MS_MAX,
} from './limits.js';

export const DEFAULT_TCP_HOST = '127.0.0.1';
export const DEFAULT_TCP_PORT = CONSOLE_PORT_DEFAULT;
export const DEFAULT_AUTH_TOKEN = CONSOLE_AUTH_TOKEN_DEV;
export const DEFAULT_POLICY = 'out/cohsh_policy.toml';

export type TransportName = 'tcp' | 'mock' | 'qemu';

export interface Options {
  help: boolean;
  transport: TransportName;
  tcpHost: string;
  tcpPort: number;
  authToken: string;
  role: TicketRole | null;
  ticket: string | null;
  script: string | null;
  check: string | null;
  mintTicket: boolean;
  ticketSubject: string | null;
  ticketConfig: string | undefined;
  ticketSecret: string | undefined;
  mockSeedGpu: boolean;
  recordTrace: string | null;
  replayTrace: string | null;
  policy: string;
  poolControlSessions: number;
  poolTelemetrySessions: number;
  retryMaxAttempts: number;
  retryBackoffMs: number;
  retryCeilingMs: number;
  retryTimeoutMs: number;
  heartbeatIntervalMs: number;
  json: boolean;
}

export const USAGE = `usage: cohsh [options]

  Interactive shell by default; --script runs a .coh file; --check only checks its syntax;
  --mint-ticket prints a ticket. No positional arguments: commands go in the shell or a script.

  --transport tcp|mock|qemu        console transport (default tcp; mock = in-process hive)
  --tcp-host <host>                console host (default 127.0.0.1, env COHSH_TCP_HOST)
  --tcp-port <port>                console port (default 31337, env COHSH_TCP_PORT)
  --auth-token <token>             AUTH token (default changeme, env COHSH_AUTH_TOKEN)
  --role <role> [--ticket <t>]     attach at start (interactive TCP then runs \`log\`)
  --script <file>                  run a .coh script; exit 0 ok, 1 on the first failure
  --check <file>                   check a .coh script's syntax; prints \`check ok: <file>\`
  --json                           one JSON object per command result
  --mint-ticket --role <role> [--ticket-subject <id>] [--ticket-config <toml>] [--ticket-secret <s>]
                                   print a ticket (config default configs/root_task.toml,
                                   env COHSH_TICKET_CONFIG, COHSH_TICKET_SECRET)
  --mock-seed-gpu                  mock transport: seed GPU-0 and GPU-1
  --policy <file>                  client policy (default out/cohsh_policy.toml, env COHSH_POLICY; accepted, not enforced)
  --pool-control-sessions <n>      accepted for compatibility (default 2)
  --pool-telemetry-sessions <n>    accepted for compatibility (default 4)
  --retry-max-attempts <n>         reconnect attempts (default 3, env COHSH_RETRY_MAX_ATTEMPTS)
  --retry-backoff-ms <ms>          first back-off, doubling (default 200, env COHSH_RETRY_BACKOFF_MS)
  --retry-ceiling-ms <ms>          back-off ceiling (default 2000, env COHSH_RETRY_CEILING_MS)
  --retry-timeout-ms <ms>          connect/reply deadline (default 5000, env COHSH_RETRY_TIMEOUT_MS)
  --heartbeat-interval-ms <ms>     idle keepalive PING (default 15000, env COHSH_HEARTBEAT_INTERVAL_MS)
  --record-trace <f> / --replay-trace <f>   not available on this build
  -h, --help                       this text; \`help\` inside the shell lists commands

  env: COHSH_CONSOLE_LOCK=0 disables the console lock; COHSH_HISTORY sets the history file
  (default ~/.cohsh_history); NO_COLOR turns colour off.
  exit status: 0 success, 1 runtime failure (connect, AUTH, attach, script), 2 usage error
`;

const STRING_FLAGS = [
  'transport', 'tcp-host', 'tcp-port', 'auth-token', 'role', 'ticket', 'script', 'check', 'ticket-subject', 'ticket-config',
  'ticket-secret', 'record-trace', 'replay-trace', 'policy', 'pool-control-sessions', 'pool-telemetry-sessions',
  'retry-max-attempts', 'retry-backoff-ms', 'retry-ceiling-ms', 'retry-timeout-ms', 'heartbeat-interval-ms',
] as const;
const BOOL_FLAGS = ['mint-ticket', 'mock-seed-gpu', 'json', 'help'] as const;

function envName(flag: string): string {
  return `COHSH_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** An integer flag: the flag, else its COHSH_* variable, else the default; within min..max. */
function intFlag(values: Record<string, unknown>, env: NodeJS.ProcessEnv, flag: string, def: number, min: number, max: number): number | CohshError {
  const fromFlag = values[flag] as string | undefined;
  const raw = fromFlag ?? env[envName(flag)];
  if (raw === undefined || raw === '') return def;
  const where = fromFlag !== undefined ? `--${flag}` : envName(flag);
  if (!/^[0-9]+$/.test(raw)) return usageError(`${where} takes an integer, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) return usageError(`${where} must be within ${min}..${max}, got ${n}`);
  return n;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): Options | CohshError {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const f of STRING_FLAGS) options[f] = { type: 'string' };
  for (const f of BOOL_FLAGS) options[f] = { type: 'boolean' };
  options.help.short = 'h';
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (e) {
    return usageError((e as Error).message.split('\n')[0]);
  }
  const v = parsed.values as Record<string, unknown>;
  if (parsed.positionals.length > 0) {
    return usageError(`unexpected argument '${parsed.positionals[0]}': cohsh takes no positional commands; use the shell or --script`);
  }
  const transport = (v.transport as string | undefined) ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'mock' && transport !== 'qemu') return usageError(`--transport takes tcp, mock or qemu, got '${transport}'`);
  const port = intFlag(v, env, 'tcp-port', DEFAULT_TCP_PORT, 1, 65535);
  if (port instanceof CohshError) return port;
  let role: TicketRole | null = null;
  if (v.role !== undefined) {
    role = resolveRole(v.role as string);
    if (role === null) return usageError(`unknown role '${v.role as string}'`);
  }
  const ints: Record<string, number> = {};
  const specs: Array<[string, number, number, number]> = [
    ['pool-control-sessions', POOL_CONTROL_SESSIONS_DEFAULT, 1, POOL_SESSIONS_MAX],
    ['pool-telemetry-sessions', POOL_TELEMETRY_SESSIONS_DEFAULT, 1, POOL_SESSIONS_MAX],
    ['retry-max-attempts', RETRY_MAX_ATTEMPTS_DEFAULT, 0, RETRY_ATTEMPTS_MAX],
    ['retry-backoff-ms', RETRY_BACKOFF_MS_DEFAULT, 1, TIMER_FLAG_MS_MAX],
    ['retry-ceiling-ms', RETRY_CEILING_MS_DEFAULT, 1, TIMER_FLAG_MS_MAX],
    ['retry-timeout-ms', RETRY_TIMEOUT_MS_DEFAULT, 1, TIMER_FLAG_MS_MAX],
    ['heartbeat-interval-ms', HEARTBEAT_INTERVAL_MS_DEFAULT, 0, TIMER_FLAG_MS_MAX],
  ];
  for (const [flag, def, min, max] of specs) {
    const n = intFlag(v, env, flag, def, min, max);
    if (n instanceof CohshError) return n;
    ints[flag] = n;
  }
  const o: Options = {
    help: v.help === true,
    transport,
    tcpHost: (v['tcp-host'] as string | undefined) ?? (env.COHSH_TCP_HOST || DEFAULT_TCP_HOST),
    tcpPort: port,
    authToken: (v['auth-token'] as string | undefined) ?? (env.COHSH_AUTH_TOKEN || DEFAULT_AUTH_TOKEN),
    role,
    ticket: (v.ticket as string | undefined) ?? null,
    script: (v.script as string | undefined) ?? null,
    check: (v.check as string | undefined) ?? null,
    mintTicket: v['mint-ticket'] === true,
    ticketSubject: (v['ticket-subject'] as string | undefined) ?? null,
    ticketConfig: v['ticket-config'] as string | undefined,
    ticketSecret: v['ticket-secret'] as string | undefined,
    mockSeedGpu: v['mock-seed-gpu'] === true,
    recordTrace: (v['record-trace'] as string | undefined) ?? null,
    replayTrace: (v['replay-trace'] as string | undefined) ?? null,
    policy: (v.policy as string | undefined) ?? (env.COHSH_POLICY || DEFAULT_POLICY),
    poolControlSessions: ints['pool-control-sessions'],
    poolTelemetrySessions: ints['pool-telemetry-sessions'],
    retryMaxAttempts: ints['retry-max-attempts'],
    retryBackoffMs: ints['retry-backoff-ms'],
    retryCeilingMs: ints['retry-ceiling-ms'],
    retryTimeoutMs: ints['retry-timeout-ms'],
    heartbeatIntervalMs: ints['heartbeat-interval-ms'],
    json: v.json === true,
  };
  if (o.help) return o;
  if (o.script !== null && o.check !== null) return usageError('--script and --check cannot be used together');
  if (o.mintTicket) {
    if (o.role === null) return usageError('--mint-ticket requires --role');
    if (o.script !== null || o.check !== null) return usageError('--mint-ticket cannot be combined with --script or --check');
    // A worker role without --ticket-subject is refused by the minting itself (exit 1, as the reference cohsh).
  } else {
    if (o.ticketSubject !== null || o.ticketConfig !== undefined || o.ticketSecret !== undefined) {
      return usageError('--ticket-subject, --ticket-config and --ticket-secret go with --mint-ticket');
    }
  }
  if (o.ticket !== null && o.role === null) return usageError('--ticket requires --role');
  if (o.mockSeedGpu && o.transport !== 'mock') return usageError('--mock-seed-gpu needs --transport mock');
  return o;
}
