// cohsh: the operator shell's entry point; flags → mint, check, script or interactive shell over the chosen transport; returns the exit status.
import { readFileSync, statSync } from 'node:fs';
import { parseOptions, USAGE, type Options } from './args.js';
import { ConsoleClient } from './client.js';
import { commandNames, isCommand, runCommand, type CommandOutcome, type ShellContext } from './commands.js';
import { complete } from './complete.js';
import { CohshError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from './errors.js';
import { History, historyPath } from './history.js';
import { BANNER, DETACHED_HINT, runInteractive } from './interactive.js';
import { COMPLETION_LS_TIMEOUT_MS, SCRIPT_FILE_BYTES_MAX } from './limits.js';
import { acquireConsoleLock, type ConsoleLock } from './lock.js';
import { CommandRecord, TextSink, useColour, type Io } from './output.js';
import { formatFailure, runScript } from './script-run.js';
import { parseScript, ScriptSyntaxError } from './script.js';
import { TcpTransport } from './tcp-transport.js';
import type { Transport } from './transport.js';
import type { MockHive } from './mock/hive.js';
import { DEFAULT_AUTH_TOKEN } from './args.js';

export interface MainEnv {
  env: NodeJS.ProcessEnv;
  io: Io;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  /** stdin and stdout are a terminal: readline in terminal mode, colour allowed. */
  tty: boolean;
  /** Test hook: the mock transport's hive (a fresh one when absent). */
  mockHive?: MockHive;
}

const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

function readBounded(file: string, maxBytes: number): string | CohshError {
  try {
    if (statSync(file).size > maxBytes) return new CohshError('io', `${file} is over ${maxBytes} bytes`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    return new CohshError('io', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function fail(io: Io, e: CohshError): number {
  io.err(`cohsh: ${e.message}\n`);
  if (e.code === 'usage') io.err("run 'cohsh --help' for usage\n");
  return e.exitCode();
}

async function makeTransport(o: Options, m: MainEnv): Promise<Transport | CohshError> {
  if (o.transport === 'qemu') return new CohshError('unavailable', "transport qemu is not available on this build; boot the host firmware (npm start) and use --transport tcp, or use --transport mock");
  if (o.transport === 'mock') {
    // The in-process hive pulls in the whole console server: only load it when asked for.
    const [{ MockHive }, { MockTransport }] = await Promise.all([import('./mock/hive.js'), import('./mock/transport.js')]);
    return new MockTransport(m.mockHive ?? new MockHive({ seedGpus: o.mockSeedGpu }), DEFAULT_AUTH_TOKEN);
  }
  return new TcpTransport(o.tcpHost, o.tcpPort);
}

/** Runs cohsh with `argv` (without node and script); resolves with the exit status. */
export async function run(argv: readonly string[], m: MainEnv): Promise<number> {
  const { io, env } = m;
  const o = parseOptions(argv, env);
  if (o instanceof CohshError) return fail(io, o);
  if (o.help) {
    io.out(USAGE);
    return EXIT_OK;
  }
  if (o.mintTicket) {
    const role = o.role as NonNullable<Options['role']>;
    // Loaded on use: minting needs BLAKE3, the shell's start-up does not.
    const { mintRoleTicket, resolveSecret, subjectRequired } = await import('./mint.js');
    // The subject first: a missing one is the mistake to report, whatever the secret lookup says.
    const missing = subjectRequired(role, o.ticketSubject);
    if (missing !== null) return fail(io, missing);
    const secret = resolveSecret({ role, secretFlag: o.ticketSecret, configFlag: o.ticketConfig, env });
    if (secret instanceof CohshError) return fail(io, secret);
    const t = mintRoleTicket(role, o.ticketSubject, secret, Date.now());
    if (t instanceof CohshError) return fail(io, t);
    io.out(`${t}\n`);
    return EXIT_OK;
  }
  if (o.check !== null) {
    const text = readBounded(o.check, SCRIPT_FILE_BYTES_MAX);
    if (text instanceof CohshError) return fail(io, text);
    const s = parseScript(text, isCommand);
    if (s instanceof ScriptSyntaxError) {
      io.err(`${o.check}: ${s.toString()}\n`);
      return EXIT_FAILURE;
    }
    io.out(`check ok: ${o.check}\n`);
    return EXIT_OK;
  }
  if (o.recordTrace !== null || o.replayTrace !== null) {
    return fail(io, new CohshError('unavailable', '--record-trace/--replay-trace are not available on this build'));
  }
  const transport = await makeTransport(o, m);
  if (transport instanceof CohshError) return fail(io, transport);

  // Read the script before taking the lock or connecting: a typo should cost nothing.
  let scriptText: string | null = null;
  if (o.script !== null) {
    const t = readBounded(o.script, SCRIPT_FILE_BYTES_MAX);
    if (t instanceof CohshError) return fail(io, t);
    scriptText = t;
  }

  let lock: ConsoleLock | null = null;
  if (o.transport === 'tcp' && env.COHSH_CONSOLE_LOCK !== '0') {
    const l = acquireConsoleLock(o.tcpHost, o.tcpPort);
    if (l instanceof CohshError) return fail(io, l);
    lock = l;
  }
  const interactive = scriptText === null;
  const client = new ConsoleClient({
    transport,
    authToken: o.authToken,
    retry: { maxAttempts: o.retryMaxAttempts, backoffMs: o.retryBackoffMs, ceilingMs: o.retryCeilingMs, timeoutMs: o.retryTimeoutMs },
    heartbeatMs: interactive ? o.heartbeatIntervalMs : 0,
    reconnect: interactive,
    attachBarrier: interactive,
    diag: (l) => io.err(`${l}\n`),
  });
  const text = new TextSink(io, useColour(m.tty, env));
  const base: ShellContext = {
    client,
    sink: text,
    diagHost: o.tcpHost,
    diagPort: o.tcpPort,
    telemetryPush: async (args, ctx) => (await import('./telemetry-push.js')).telemetryPush(args, ctx),
    tcpDiag: async (host, port, sink) => (await import('./tcp-diag.js')).tcpDiag(host, port, sink),
  };
  base.selftest = async (args, sink) => (await import('./selftest.js')).runSelftest({ ...base, sink }, args, sink);

  const exec = async (line: string, followSignal?: () => AbortSignal): Promise<{ out: CommandOutcome; rec: CommandRecord }> => {
    const rec = new CommandRecord(o.json ? null : text);
    const out = await runCommand({ ...base, sink: rec, followSignal }, line);
    if (o.json && line.trim() !== '') io.out(`${rec.toJson(line.trim(), out.ok)}\n`);
    return { out, rec };
  };
  const startAttach = o.role === null ? null : `attach ${o.role}${o.ticket === null ? '' : ` ${o.ticket}`}`;

  try {
    if (scriptText !== null) {
      const stmts = parseScript(scriptText, isCommand);
      if (stmts instanceof ScriptSyntaxError) {
        io.err(`${o.script}: ${stmts.toString()}\n`);
        return EXIT_FAILURE;
      }
      // The banner and the detached hint, as the shell and the reference cohsh print them in scripts too.
      if (!o.json) io.out(`${BANNER}\n`);
      if (startAttach !== null && !(await exec(startAttach)).out.ok) return EXIT_FAILURE;
      if (startAttach === null && !o.json) io.out(`${DETACHED_HINT}\n`);
      const r = await runScript(stmts, {
        exec: async (line) => {
          const { out, rec } = await exec(line);
          return { ok: out.ok, response: rec.response(), quit: out.quit };
        },
        sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
      });
      if (!r.ok) {
        io.err(`${formatFailure(r.failure)}\n`);
        return EXIT_FAILURE;
      }
      return EXIT_OK;
    }

    if (!o.json) io.out(`${BANNER}\n`);
    let attached = false;
    if (startAttach !== null) {
      attached = (await exec(startAttach)).out.ok;
      if (attached && o.transport === 'tcp') await exec('log');
    }
    if (!attached && !o.json) io.out(`${DETACHED_HINT}\n`);
    const history = new History(historyPath(env)).load();
    return await runInteractive({
      input: m.stdin,
      output: m.stdout,
      terminal: m.tty,
      history,
      exec: async (line, followSignal) => (await exec(line, followSignal)).out,
      complete: (line) =>
        complete(line, commandNames(), async (dir) => {
          if (client.attachment() === null) return null;
          const timeout = new Promise<null>((res) => setTimeout(() => res(null), COMPLETION_LS_TIMEOUT_MS).unref());
          const r = await Promise.race([client.request(`LS ${dir}`, 'LS', 'stream'), timeout]);
          return r === null || r instanceof CohshError || !r.ok ? null : r.lines;
        }),
      close: () => client.close(),
      note: (t) => io.out(`${t}\n`),
    });
  } finally {
    await client.close();
    lock?.release();
  }
}

/** Entry point for bin/cohsh. */
export async function main(argv: readonly string[]): Promise<number> {
  const tty = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const code = await run(argv, { env: process.env, io: processIo, stdin: process.stdin, stdout: process.stdout, tty });
  return code === EXIT_USAGE || code === EXIT_FAILURE || code === EXIT_OK ? code : EXIT_FAILURE;
}
