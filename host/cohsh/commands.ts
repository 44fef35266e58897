// The cohsh command table (spec §4.3): each command's usage, help and wire mapping, and `runCommand` for one line.
import { replyTokens } from '../../js/console/reply-parse.js';
import { checkJsonValue, checkPath, parseEchoArgs, resolveRole, roleDisplayName, words } from './checks.js';
import type { ConsoleClient } from './client.js';
import type { CollectMode, Collected } from './collector.js';
import { CohshError } from './errors.js';
import { parsePollInterval, sleepOrAbort, unseenLines } from './follow.js';
import { LIFECYCLE_COMMANDS, parseLifecycleCommand, stateFromText, transitionAllowed } from './lifecycle.js';
import { TAIL_POLL_MS_DEFAULT } from './limits.js';
import type { Sink } from './output.js';
import { runReload } from './reload.js';
import { runUpdate } from './update.js';
import { SPAWN_USAGE, buildSpawnJson } from './spawn.js';

export interface ShellContext {
  client: ConsoleClient;
  sink: Sink;
  /** Host and port `tcp-diag` probes by default. */
  diagHost: string;
  diagPort: number;
  /** Interactive shells give `tail -f` a signal that Ctrl-C aborts; scripts have none. */
  followSignal?: () => AbortSignal;
  /** Runs a self-test (selftest.ts); absent inside a self-test so `test` cannot recurse. */
  selftest?: (args: readonly string[], sink: Sink) => Promise<boolean>;
  /** `telemetry push` (telemetry-push.ts). */
  telemetryPush: (args: readonly string[], ctx: ShellContext) => Promise<boolean>;
  /** `tcp-diag` (tcp-diag.ts). */
  tcpDiag: (host: string, port: number, sink: Sink) => Promise<boolean>;
}

export interface CommandOutcome {
  ok: boolean;
  /** `quit` ran: the shell or script ends (successfully). */
  quit?: boolean;
}

interface CommandSpec {
  name: string;
  aliases?: string[];
  usage: string;
  summary: string;
  /** Extra help text for `help <cmd>`. */
  details?: string;
  run(ctx: ShellContext, args: string[], rest: string): Promise<CommandOutcome>;
}

const OK: CommandOutcome = { ok: true };
const FAILED: CommandOutcome = { ok: false };

function fail(ctx: ShellContext, message: string): CommandOutcome {
  ctx.sink.error(message);
  return FAILED;
}

/** Waits out a reconnect, then refuses with `<cmd>: not attached` when there is no attachment. */
async function needAttached(ctx: ShellContext, name: string): Promise<boolean> {
  await ctx.client.settled();
  if (ctx.client.attachment() !== null) return true;
  const lost = ctx.client.lostBecause();
  ctx.sink.error(lost === null ? `${name}: not attached` : `${name}: not attached (connection lost: ${lost})`);
  return false;
}

/** Sends one request and prints ACKs and content; an error value is printed as a client error. */
async function wire(ctx: ShellContext, name: string, line: string, label: string, mode: CollectMode): Promise<Collected | null> {
  const r = await ctx.client.request(line, label, mode);
  if (r instanceof CohshError) {
    ctx.sink.error(r.code === 'not-attached' ? `${name}: not attached` : `${name}: ${r.message}`);
    return null;
  }
  for (const a of r.acks) ctx.sink.ack(a);
  for (const l of r.lines) ctx.sink.line(l);
  if (r.problem !== null) ctx.sink.error(`${name}: ${r.problem}`);
  return r;
}

async function simple(ctx: ShellContext, name: string, line: string, label: string, mode: CollectMode): Promise<CommandOutcome> {
  if (!(await needAttached(ctx, name))) return FAILED;
  const r = await wire(ctx, name, line, label, mode);
  return r !== null && r.ok ? OK : FAILED;
}

function queenCtl(ctx: ShellContext, name: string, json: string): Promise<CommandOutcome> {
  return simple(ctx, name, `ECHO /queen/ctl ${json}`, 'ECHO', 'ack');
}

/** `tail [-f] [--interval-ms <n>] <path>` options. */
function parseTailArgs(args: readonly string[]): { follow: boolean; intervalMs: number; path: string | null } | string {
  let follow = false;
  let intervalMs = TAIL_POLL_MS_DEFAULT;
  let path: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-f' || a === '--follow') follow = true;
    else if (a === '--interval-ms' || a === '-n') {
      const v = parsePollInterval(args[++i] ?? '');
      if (typeof v === 'string') return v;
      intervalMs = v;
    } else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (path === null) path = a;
    else return `unexpected argument ${a}`;
  }
  return { follow, intervalMs, path };
}

async function tail(ctx: ShellContext, name: string, args: readonly string[], fixedPath: string | null): Promise<CommandOutcome> {
  const t = parseTailArgs(args);
  if (typeof t === 'string') return fail(ctx, `${name}: ${t}`);
  const raw = fixedPath ?? t.path;
  if (raw === null) return fail(ctx, `${name} requires a path`);
  const path = checkPath(raw);
  if (path instanceof CohshError) return fail(ctx, path.message);
  if (!(await needAttached(ctx, name))) return FAILED;
  if (!t.follow) {
    const r = await wire(ctx, name, `TAIL ${path}`, 'TAIL', 'stream');
    return r !== null && r.ok ? OK : FAILED;
  }
  if (ctx.followSignal === undefined) return fail(ctx, `${name} -f: following is for the interactive shell (use WAIT and ${name} in scripts)`);
  const signal = ctx.followSignal();
  let seen: string[] = [];
  let first = true;
  ctx.sink.info(`following ${path} every ${t.intervalMs} ms; Ctrl-C stops`);
  while (!signal.aborted) {
    const r = await ctx.client.request(`TAIL ${path}`, 'TAIL', 'stream');
    if (r instanceof CohshError) return fail(ctx, `${name}: ${r.message}`);
    if (!r.ok) {
      for (const a of r.acks) ctx.sink.ack(a);
      return FAILED;
    }
    if (first) for (const a of r.acks) ctx.sink.ack(a);
    first = false;
    for (const l of unseenLines(seen, r.lines)) ctx.sink.line(l);
    seen = r.lines;
    if (await sleepOrAbort(t.intervalMs, signal)) break;
  }
  ctx.sink.info(`stopped following ${path}`);
  return OK;
}

const COMMANDS: CommandSpec[] = [
  {
    name: 'attach',
    aliases: ['login'],
    usage: 'attach <role> [ticket]',
    summary: 'connect, authenticate and attach as a role (queen, worker-heartbeat, worker-gpu, ...)',
    details: 'Roles: queen (ticket optional), worker | worker-heartbeat, worker-gpu, worker-bus, worker-lora (ticket with subject required).\nMint a ticket with `cohsh --mint-ticket --role <role> --ticket-subject <id>`.',
    async run(ctx, args) {
      if (args.length === 0) return fail(ctx, 'attach requires a role');
      const role = resolveRole(args[0]);
      if (role === null) return fail(ctx, `unknown role '${args[0]}'`);
      await ctx.client.settled();
      if (ctx.client.attachment() !== null) return fail(ctx, "already attached; run 'quit' to close the current session");
      const ticket = args.length > 1 ? args.slice(1).join(' ') : null;
      if (ticket === null && role !== 'queen') return fail(ctx, `attach ${role} requires a ticket (mint one with --mint-ticket)`);
      const bad = ticket === null ? null : (await import('./ticket-check.js')).checkAttachTicket(role, ticket);
      if (bad !== null) return fail(ctx, bad.message);
      const r = await ctx.client.attach(role, ticket);
      if (r instanceof CohshError) return fail(ctx, r.message);
      for (const a of r.collected.acks) ctx.sink.ack(a);
      if (r.attachment === null) {
        ctx.sink.error(`attach refused: ${r.collected.acks[r.collected.acks.length - 1] ?? r.collected.problem ?? 'no answer'}`);
        return FAILED;
      }
      ctx.sink.info(`attached session ${r.attachment.session} as ${roleDisplayName(role)}`);
      return OK;
    },
  },
  {
    name: 'detach',
    usage: 'detach',
    summary: 'end the console session (wire `quit`); the shell stays',
    async run(ctx) {
      if (!(await needAttached(ctx, 'detach'))) return FAILED;
      const r = await ctx.client.detach();
      if (r instanceof CohshError && r.code !== 'connection-lost') return fail(ctx, `detach: ${r.message}`);
      // Spec §4.3 prints it bare (not as a `[console]` line): the server's ACK was `OK QUIT`.
      ctx.sink.line('OK DETACH');
      return OK;
    },
  },
  {
    name: 'ping',
    usage: 'ping',
    summary: 'check the console answers (PING)',
    async run(ctx) {
      if (!(await needAttached(ctx, 'ping'))) return FAILED;
      const r = await wire(ctx, 'ping', 'PING', 'PING', 'ack');
      if (r === null || !r.ok) return FAILED;
      ctx.sink.info('ping: pong');
      return OK;
    },
  },
  {
    name: 'tail',
    usage: 'tail [-f] [--interval-ms <ms>] <path>',
    summary: 'print the retained lines of a log or telemetry ring; -f keeps polling',
    details: 'Targets: /log/queen.log, /proc/ingest/watch, /worker/<id>/telemetry (or /shard/<ll>/worker/<id>/telemetry).\n-f polls every 1000 ms (250..10000 with --interval-ms) and prints new lines; Ctrl-C stops following.',
    run: (ctx, args) => tail(ctx, 'tail', args, null),
  },
  {
    name: 'log',
    usage: 'log [-f] [--interval-ms <ms>]',
    summary: 'tail /log/queen.log',
    run: (ctx, args) => tail(ctx, 'log', args, '/log/queen.log'),
  },
  {
    name: 'cat',
    usage: 'cat <path>',
    summary: 'read a file (CAT); prints the digest when no lines follow',
    async run(ctx, args) {
      if (args.length !== 1) return fail(ctx, 'cat requires one path');
      const path = checkPath(args[0]);
      if (path instanceof CohshError) return fail(ctx, path.message);
      if (!(await needAttached(ctx, 'cat'))) return FAILED;
      const r = await wire(ctx, 'cat', `CAT ${path}`, 'CAT', 'stream');
      if (r === null || !r.ok) return FAILED;
      if (r.lines.length === 0 && r.acks.length > 0) {
        const data = replyTokens(r.acks[0].replace(/^OK CAT ?/, '')).get('data') ?? '';
        if (data !== '') ctx.sink.line(data);
      }
      return OK;
    },
  },
  {
    name: 'ls',
    usage: 'ls [path]',
    summary: 'list a directory (LS); default /',
    async run(ctx, args) {
      if (args.length > 1) return fail(ctx, 'ls takes one path');
      const path = checkPath(args[0] ?? '/');
      if (path instanceof CohshError) return fail(ctx, path.message);
      return simple(ctx, 'ls', `LS ${path}`, 'LS', 'stream');
    },
  },
  {
    name: 'echo',
    usage: 'echo <text> > <path>',
    summary: 'append one line to a file (ECHO)',
    details: 'Outer quotes around <text> are stripped; the text must be one line.',
    async run(ctx, _args, rest) {
      const e = parseEchoArgs(rest);
      if (e instanceof CohshError) return fail(ctx, e.message);
      return simple(ctx, 'echo', `ECHO ${e.path} ${e.text}`, 'ECHO', 'ack');
    },
  },
  {
    name: 'spawn',
    usage: SPAWN_USAGE.split('\n')[0],
    summary: 'start a worker through /queen/ctl',
    details: `${SPAWN_USAGE}\nSends ECHO /queen/ctl {"spawn":...} (spec §7).`,
    async run(ctx, args) {
      const json = buildSpawnJson(args);
      if (json instanceof CohshError) return fail(ctx, json.message);
      return queenCtl(ctx, 'spawn', json);
    },
  },
  {
    name: 'kill',
    usage: 'kill <worker-id>',
    summary: 'remove a worker (ECHO /queen/ctl {"kill":"<id>"})',
    async run(ctx, args) {
      if (args.length !== 1) return fail(ctx, 'kill requires a worker id');
      const id = checkJsonValue('worker id', args[0]);
      if (id instanceof CohshError) return fail(ctx, id.message);
      return queenCtl(ctx, 'kill', `{"kill":"${id}"}`);
    },
  },
  {
    name: 'reload',
    usage: 'reload <task> <file.qbc>',
    summary: 'hot-swap a task\'s bytecode (dev images; queen)',
    details:
      '<task> is a task label (worker-3) or a manifest task name (every running instance, and later spawns).\n' +
      'Sends RELOAD BEGIN, the file in DATA chunks, then COMMIT; the hive checks the digest and engine\n' +
      'fingerprint, keeps the task\'s id, grants, quota and channels, and hands snapshot() to restore().\n' +
      'If the new code fails to start, the old code runs on. A release image answers\n' +
      'ERR RELOAD reason=policy detail=release-image.',
    async run(ctx, args) {
      if (args.length !== 2) return fail(ctx, 'reload requires <task> <file.qbc>');
      if (!(await needAttached(ctx, 'reload'))) return FAILED;
      return (await runReload(ctx.client, ctx.sink, args[0], args[1])) ? OK : FAILED;
    },
  },
  {
    name: 'update',
    usage: 'update <image>',
    summary: 'install a signed hive image into the other A/B slot and restart into it (queen)',
    details:
      'Sends UPDATE BEGIN <bytes> <sha256>, the image in DATA chunks, then COMMIT. The hive stages it\n' +
      'into the slot it is not running, checks its SHA-256 and verifies it as boot does (signature\n' +
      'first, trusted key, engine fingerprint), marks that slot for trial and restarts into it; cohsh\n' +
      'waits until the hive answers from the new slot. A dropped connection resumes where it stopped.\n' +
      'A refused image leaves the running slot untouched. Dev and release images alike.',
    async run(ctx, args) {
      if (args.length !== 1) return fail(ctx, 'update requires <image>');
      if (!(await needAttached(ctx, 'update'))) return FAILED;
      return (await runUpdate(ctx.client, ctx.sink, args[0])) ? OK : FAILED;
    },
  },
  {
    name: 'bind',
    usage: 'bind <src> <dst>',
    summary: 'alias a path for this session (ECHO /queen/ctl {"bind":...})',
    async run(ctx, args) {
      if (args.length !== 2) return fail(ctx, 'bind requires <src> <dst>');
      const from = checkPath(args[0]);
      if (from instanceof CohshError) return fail(ctx, from.message);
      const to = checkPath(args[1]);
      if (to instanceof CohshError) return fail(ctx, to.message);
      return queenCtl(ctx, 'bind', `{"bind":{"from":"${from}","to":"${to}"}}`);
    },
  },
  {
    name: 'mount',
    usage: 'mount <service> <dst>',
    summary: 'alias a registered service at a path (ECHO /queen/ctl {"mount":...})',
    async run(ctx, args) {
      if (args.length !== 2) return fail(ctx, 'mount requires <service> <dst>');
      const svc = checkJsonValue('service', args[0]);
      if (svc instanceof CohshError) return fail(ctx, svc.message);
      const at = checkPath(args[1]);
      if (at instanceof CohshError) return fail(ctx, at.message);
      return queenCtl(ctx, 'mount', `{"mount":{"service":"${svc}","at":"${at}"}}`);
    },
  },
  {
    name: 'lifecycle',
    usage: `lifecycle <${LIFECYCLE_COMMANDS.join('|')}>`,
    summary: 'change the hive lifecycle state (checks the transition locally first)',
    async run(ctx, args) {
      if (args.length !== 1) return fail(ctx, `lifecycle requires one of ${LIFECYCLE_COMMANDS.join(', ')}`);
      if (!(await needAttached(ctx, 'lifecycle'))) return FAILED;
      const st = await ctx.client.request('CAT /proc/lifecycle/state', 'CAT', 'stream');
      if (st instanceof CohshError) return fail(ctx, `lifecycle: ${st.message}`);
      if (!st.ok) {
        for (const a of st.acks) ctx.sink.ack(a);
        return FAILED;
      }
      const state = stateFromText([...st.lines, ...st.acks]);
      const cmd = parseLifecycleCommand(args[0]);
      if (state !== null && (cmd === null || !transitionAllowed(cmd, state))) {
        ctx.sink.ack(`ERR LIFECYCLE action=${args[0]} state=${state} reason=${cmd === null ? 'invalid-command' : 'invalid-transition'}`);
        return FAILED;
      }
      if (cmd === null) return fail(ctx, `unknown lifecycle command '${args[0]}' (${LIFECYCLE_COMMANDS.join(', ')})`);
      return simple(ctx, 'lifecycle', `ECHO /queen/lifecycle/ctl ${cmd}`, 'ECHO', 'ack');
    },
  },
  {
    name: 'telemetry',
    usage: 'telemetry push <file> --device <id>',
    summary: 'push a text/JSON/CSV file into /queen/telemetry/<id> as a new segment',
    details: 'Extensions: txt, log (text/plain), json (application/json), ndjson (application/x-ndjson), csv (text/csv); ≤ 32768 bytes, UTF-8.',
    async run(ctx, args) {
      return { ok: await ctx.telemetryPush(args, ctx) };
    },
  },
  {
    name: 'test',
    usage: 'test [--mode quick|full] [--json] [--timeout <s>] [--no-mutate]',
    summary: 'run the hive self-test scripts from /proc/tests',
    details: 'Runs /proc/tests/selftest_negative.coh, then selftest_quick.coh (default) or selftest_full.coh.\nTimeout default 30 s, max 120 s; --no-mutate skips spawn/kill and worker tails.',
    async run(ctx, args) {
      if (ctx.selftest === undefined) return fail(ctx, 'test: not available inside a self-test');
      if (!(await needAttached(ctx, 'test'))) return FAILED;
      return { ok: await ctx.selftest(args, ctx.sink) };
    },
  },
  {
    name: 'tcp-diag',
    usage: 'tcp-diag [port]',
    summary: 'bare TCP connect to the console host, to tell network trouble from console trouble',
    async run(ctx, args) {
      let port = ctx.diagPort;
      if (args.length > 0) {
        if (!/^[0-9]+$/.test(args[0]) || Number(args[0]) < 1 || Number(args[0]) > 65535) return fail(ctx, `tcp-diag: invalid port '${args[0]}'`);
        port = Number(args[0]);
      }
      return { ok: await ctx.tcpDiag(ctx.diagHost, port, ctx.sink) };
    },
  },
  {
    name: 'help',
    usage: 'help [command]',
    summary: 'list commands, or show one command\'s help',
    async run(ctx, args) {
      if (args.length === 0) {
        for (const l of helpLines()) ctx.sink.line(l);
        return OK;
      }
      const h = commandHelp(args[0]);
      if (h === null) return fail(ctx, `help: unknown command '${args[0]}'`);
      for (const l of h) ctx.sink.line(l);
      return OK;
    },
  },
  {
    name: 'quit',
    aliases: ['exit'],
    usage: 'quit',
    summary: 'close the session and leave cohsh',
    async run(ctx) {
      await ctx.client.close();
      ctx.sink.info('closing session');
      return { ok: true, quit: true };
    },
  },
];

const BY_NAME = new Map<string, CommandSpec>();
for (const c of COMMANDS) {
  BY_NAME.set(c.name, c);
  for (const a of c.aliases ?? []) BY_NAME.set(a, c);
}

/** Every command name and alias, for completion and `--check`. */
export function commandNames(): string[] {
  return [...BY_NAME.keys()].sort();
}

export function isCommand(name: string): boolean {
  return BY_NAME.has(name.toLowerCase());
}

export function helpLines(): string[] {
  const w = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    'commands:',
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(w)}  ${c.summary}`),
    "`help <command>` or `<command> --help` shows more.",
  ];
}

export function commandHelp(name: string): string[] | null {
  const c = BY_NAME.get(name.toLowerCase());
  if (c === undefined) return null;
  const out = [`usage: ${c.usage}`, `  ${c.summary}`];
  if (c.aliases !== undefined) out.push(`  aliases: ${c.aliases.join(', ')}`);
  if (c.details !== undefined) out.push(...c.details.split('\n').map((l) => `  ${l}`));
  return out;
}

/** Runs one command line. Blank lines succeed and do nothing. */
export async function runCommand(ctx: ShellContext, line: string): Promise<CommandOutcome> {
  const w = words(line);
  if (w.length === 0) return OK;
  const name = w[0].toLowerCase();
  const spec = BY_NAME.get(name);
  if (spec === undefined) return fail(ctx, `unknown command '${w[0]}'; type 'help' for commands`);
  const args = w.slice(1);
  if (args.length === 1 && (args[0] === '--help' || args[0] === '-h')) {
    for (const l of commandHelp(name) ?? []) ctx.sink.line(l);
    return OK;
  }
  const rest = line.trim().slice(w[0].length).trim();
  return spec.run(ctx, args, rest);
}
