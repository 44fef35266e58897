// CLI: NineDoor on Node over TCP with the dev settings (ticketless queen, mock GPUs, §8.3 dev secrets), for interop tests and benches.
import { parseArgs } from 'node:util';
import { NineError } from '../../js/secure9p/errors.js';
import type { HivePolicy, ControlContext } from '../../js/ninedoor/policy.js';
import { NineDoor } from '../../js/ninedoor/server.js';
import { DEV_TICKET_SECRETS } from './dev-tickets.js';
import { nineDoorSessions, serveNinep, NINEP_TCP_DEFAULT_PORT } from './ninep-tcp.js';

/** Workers one command line may seed. */
const SEED_WORKERS_MAX = 64;
/** Log lines one command line may seed. */
const SEED_LOG_LINES_MAX = 64;
/** How long a SIGTERM/SIGINT waits for the listener to close before exiting anyway. */
const STOP_GRACE_MS = 2000;

/**
 * There is no root-task here: control writes that need one are refused with a clear Invalid.
 * bind and mount act on the writer's session only, so they work (spec §7).
 */
class ServePolicy implements HivePolicy {
  queenCtl(text: string, ctx: ControlContext): void | NineError {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        return new NineError('Invalid', 'invalid payload');
      }
      const o = v as { bind?: { from?: unknown; to?: unknown }; mount?: { service?: unknown; at?: unknown } };
      let err: NineError | null;
      if (o.bind && typeof o.bind.from === 'string' && typeof o.bind.to === 'string') err = ctx.session.bind(o.bind.from, o.bind.to);
      else if (o.mount && typeof o.mount.service === 'string' && typeof o.mount.at === 'string') err = ctx.session.mount(o.mount.service, o.mount.at);
      else err = new NineError('Invalid', 'ninedoor-serve has no root-task policy: only bind and mount apply');
      if (err !== null) return err;
    }
    return undefined;
  }
  lifecycleCtl(): NineError {
    return new NineError('Invalid', 'ninedoor-serve has no root-task policy: lifecycle is fixed at ONLINE');
  }
}

function usage(): never {
  process.stderr.write(
    'usage: ninedoor-serve [--port N] [--host ADDR] [--worker ID]... [--gpu-worker ID=GPU]... [--log LINE]... [--release] [--trace] [--quiet]\n' +
      `  --port N             TCP port (default ${NINEP_TCP_DEFAULT_PORT}; 0 picks a free one)\n` +
      '  --host ADDR          address to bind (default 127.0.0.1)\n' +
      '  --worker ID          seed a heartbeat worker (repeatable)\n' +
      '  --gpu-worker ID=GPU  seed a gpu worker holding a lease on a mock GPU (repeatable)\n' +
      '  --log LINE           put a line in /log/queen.log at start (repeatable)\n' +
      '  --release            refuse a ticketless queen (release image behaviour)\n' +
      '  --trace              log every 9P frame\n' +
      '  --quiet              do not mirror the hive log to stderr\n',
  );
  process.exit(2);
}

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string', default: String(NINEP_TCP_DEFAULT_PORT) },
        host: { type: 'string', default: '127.0.0.1' },
        worker: { type: 'string', multiple: true, default: [] },
        'gpu-worker': { type: 'string', multiple: true, default: [] },
        log: { type: 'string', multiple: true, default: [] },
        release: { type: 'boolean', default: false },
        trace: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    process.stderr.write(`ninedoor-serve: ${e instanceof Error ? e.message : String(e)}\n`);
    usage();
  }
  if (args.help) usage();
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) usage();
  if (args.worker.length + args['gpu-worker'].length > SEED_WORKERS_MAX || args.log.length > SEED_LOG_LINES_MAX) usage();

  const log = (line: string) => {
    if (!args.quiet) process.stderr.write(`[ninedoor] ${line}\n`);
  };
  const door = new NineDoor({
    policy: new ServePolicy(),
    log,
    nowMs: () => Date.now(),
    attach: { secrets: DEV_TICKET_SECRETS, allowTicketlessQueen: !args.release },
    mockGpus: true,
    trace: args.trace,
  });
  door.state.setLifecycle({ state: 'ONLINE', reason: 'ninedoor-serve', sinceMs: Date.now() });
  const fail = (what: string, e: NineError | null) => {
    if (e === null) return;
    process.stderr.write(`ninedoor-serve: ${what}: ${e.toString()}\n`);
    process.exit(1);
  };
  for (const id of args.worker) fail(`worker ${id}`, door.addWorker(id, 'heartbeat'));
  for (const spec of args['gpu-worker']) {
    const [id, gpu] = spec.split('=');
    if (!id || !gpu) usage();
    fail(`gpu worker ${id}`, door.addWorker(id, 'gpu'));
    fail(`lease ${gpu}`, door.setLease(gpu, id));
  }

  for (const line of args.log) door.log(line);

  const listener = serveNinep({ host: args.host, port, open: nineDoorSessions(door), log });
  listener.ready.then(
    () => process.stderr.write(`ninedoor ready port=${listener.port()}\n`),
    (e: unknown) => {
      process.stderr.write(`ninedoor-serve: listen: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
  const stop = () => {
    setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
    void listener.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
