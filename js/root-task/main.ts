// root-task: the first task; starts NineDoor, runs the hive policy, owns both consoles, and decides on every fault.
import type { Caps, TaskConfig } from '../caps/index.js';
import { NineDoorLink } from '../ninedoor/root-side.js';
import type { NineDoorTaskArgs } from '../ninedoor/task.js';
import type { TicketSecrets } from '../tickets/index.js';
import { CONSOLE_AUTH_TOKEN_DEV, CONSOLE_PORT_DEFAULT, CONSOLE_SESSIONS_DEFAULT } from '../console/index.js';
import { directNet, TcpConsole, startUartConsole } from './consoles.js';
import { RelayNet } from './relay-net.js';
import { ReloadService } from './reload.js';
import { linkDoorPort } from './door-port.js';
import { infoProviders } from './info.js';
import { ChannelNamespace } from './namespace.js';
import { ConsoleBackends, HiveControl, recoveryVerbs, TaskSpawnError, type TaskPort } from './policy/index.js';
import { Supervisor, BOOT_TASKS_MAX, type BootTask } from './supervisor.js';

/** What the firmware passes root-task (host/sim/main.c builds it from its flags). */
interface RootArgs {
  console?: { port?: number; bind?: string; auth_token?: string };
  ninep?: { port?: number };
  uart?: string;
}

/** root-task's own manifest config. */
interface RootManifestConfig {
  /** Manifest [[tickets]]: per-role secrets (spec §8.3). */
  tickets?: TicketSecrets;
  /** Dev images let a queen attach without a ticket (spec §3.4 rule 4, §0). */
  allow_ticketless_queen?: boolean;
  /** The NineDoor task's manifest name; absent = a hive without a namespace (test images). */
  ninedoor_task?: string;
  /** Manifest task names of the worker kinds. */
  worker_tasks?: { heartbeat?: string; gpu?: string };
  /** Whether NineDoor opens its Secure9P TCP listener (on in dev images, off in release). */
  ninep_tcp?: boolean;
  mock_gpus?: boolean;
  /** The task that owns the TCP console's sockets (net-console); absent = root-task's own sockets. */
  console_task?: string;
  /** Extra tasks started at boot and merely supervised (diagnostic and test images). */
  boot_tasks?: BootTask[];
}

interface ManifestShape {
  image_id?: string;
  profile?: string;
  tasks?: { name: string; config?: unknown }[];
  console?: { port?: number; auth_token?: string; max_sessions?: number; idle_timeout_ms?: number };
}

export const BANNER = 'Cohesix boot: root-task online';
/** How often root-task times out 9P requests NineDoor never answered. */
const NAMESPACE_EXPIRE_INTERVAL_MS = 1000;

export default function main(caps: Caps, config: TaskConfig): void {
  const args = (config.args ?? {}) as RootArgs;
  const manifest = caps.image.manifest() as ManifestShape;
  const own = (manifest.tasks ?? []).find((t) => t.name === config.task);
  const cfg = (own?.config ?? {}) as RootManifestConfig;
  const clock = { nowMs: () => caps.timer.nowMs(), wallMs: () => caps.timer.wallMs() };

  caps.console.write(`${BANNER}\r\n`);
  caps.console.write(`image ${manifest.image_id ?? '?'} profile ${manifest.profile ?? '?'}\r\n`);
  caps.log.write(BANNER);

  const supervisor = new Supervisor(caps);
  const secrets = cfg.tickets ?? {};
  const bind = args.console?.bind ?? '127.0.0.1';

  // NineDoor: its own task, reached over one channel that carries routed 9P and the policy protocol.
  let ninedoorId = 0;
  let link: NineDoorLink | null = null;
  if (cfg.ninedoor_task) {
    const ndArgs: NineDoorTaskArgs = {
      secrets,
      allow_ticketless_queen: cfg.allow_ticketless_queen ?? false,
      mock_gpus: cfg.mock_gpus ?? false,
      boot_lines: [`image ${manifest.image_id ?? '?'} profile ${manifest.profile ?? '?'}`],
      ninep: cfg.ninep_tcp && (args.ninep?.port ?? 0) > 0 ? { host: bind, port: args.ninep!.port! } : null,
    };
    const nd = supervisor.spawn({ task: cfg.ninedoor_task, label: 'ninedoor', args: ndArgs }, true);
    ninedoorId = nd.id;
    link = new NineDoorLink({
      send: (m) => caps.channel.send(nd.ep, m),
      log: (l) => caps.log.write(l),
      setTimeout: (fn, ms) => caps.timer.setTimeout(fn, ms),
      clearTimeout: (id) => caps.timer.clear(id),
    });
    supervisor.route(nd.ep, (msg) => link!.receive(msg));
  }

  const workerTask = { heartbeat: cfg.worker_tasks?.heartbeat ?? 'worker-heart', gpu: cfg.worker_tasks?.gpu ?? 'worker-gpu' };
  const taskPort: TaskPort = {
    spawnWorker(kind, label, wargs) {
      try {
        // Linked to NineDoor: the worker's endpoint 1 is its own Secure9P channel, not through root-task.
        // Quiet: the policy writes the worker's `spawned ...` line itself.
        const rec = supervisor.spawn({ task: workerTask[kind], label, args: wargs, link: ninedoorId || undefined }, true);
        return rec.id;
      } catch (e) {
        const code = (e as { code?: string }).code;
        return new TaskSpawnError(code === 'Busy' ? 'Busy' : code === 'NotFound' ? 'NotFound' : 'Io', (e as Error).message);
      }
    },
    killTask(id) {
      supervisor.kill(id, 'killed by policy', true);
    },
  };

  const stub = link ?? new NineDoorLink({ send: () => {}, log: () => {}, setTimeout: () => 0, clearTimeout: () => {} });
  const hive = new HiveControl({ nineDoor: linkDoorPort(stub), tasks: taskPort, clock, secrets });
  stub.setPolicy(hive);
  const namespace = new ChannelNamespace(stub, clock.nowMs);
  caps.timer.setInterval(() => namespace.expire(), NAMESPACE_EXPIRE_INTERVAL_MS);

  // Budgets with a ttl: the policy says when it next needs the clock.
  let ttlTimer = 0;
  const armTtl = (): void => {
    caps.timer.clear(ttlTimer);
    const next = hive.nextDeadlineMs();
    if (next === null) return;
    ttlTimer = caps.timer.setTimeout(() => {
      hive.tick(caps.timer.nowMs());
      armTtl();
    }, Math.max(0, next - caps.timer.nowMs()));
  };

  supervisor.onFault((id, fault, detail) => {
    if (hive.workerFaulted(id, fault, detail)) return true; // the policy revoked it and killed the task
    if (id === ninedoorId) {
      caps.log.write(`ninedoor faulted: ${fault} (${detail}); the namespace is down`);
      link?.lost('NineDoor faulted');
    }
    return false;
  });
  supervisor.onSpawned(() => armTtl());

  // Hot reload (dev images): RELOAD on either console swaps a task's bytecode in place.
  const reload = new ReloadService({
    profile: manifest.profile ?? 'release',
    selfId: config.id,
    tasks: caps.task,
    manifestTasks: (manifest.tasks ?? []).map((t) => t.name),
    nowMs: () => caps.timer.nowMs(),
    log: (line) => caps.log.write(line),
  });

  let ninepPort = 0;
  // The TCP console is made just below; the info verbs only read it when asked.
  let tcp: TcpConsole | null = null;
  const backends = new ConsoleBackends({
    hive,
    namespace,
    clock,
    secrets,
    allowTicketlessQueen: cfg.allow_ticketless_queen ?? false,
    reload,
    info: infoProviders(caps, {
      imageId: manifest.image_id ?? '?',
      profile: manifest.profile ?? '?',
      tcpPort: () => tcp?.port ?? 0,
      tcpSessions: () => tcp?.sessions() ?? 0,
      tcpAuthPending: () => tcp?.authPending() ?? 0,
      ninepPort: () => ninepPort,
    }),
  });
  tcp = new TcpConsole(caps, {
    host: bind,
    port: args.console?.port ?? manifest.console?.port ?? CONSOLE_PORT_DEFAULT,
    authToken: args.console?.auth_token ?? manifest.console?.auth_token ?? CONSOLE_AUTH_TOKEN_DEV,
    maxSessions: manifest.console?.max_sessions ?? CONSOLE_SESSIONS_DEFAULT,
    idleTimeoutMs: manifest.console?.idle_timeout_ms,
    makeBackend: (peer) => backends.make(`tcp:${peer}`),
    net: cfg.console_task ? new RelayNet(caps, supervisor, cfg.console_task) : directNet(caps),
  });
  const verbs = recoveryVerbs({
    hive,
    tasks: { list: () => caps.task.list() },
    taskPort,
    restart: { names: () => ['tcp-console'], restart: (name) => (name === 'tcp-console' ? tcp!.restart() : `no restartable task '${name}'`) },
    protectedTaskIds: [config.id, ninedoorId].filter((x) => x > 0),
  });
  startUartConsole(caps, backends.make('uart', [...verbs.keys()]), verbs);

  let isOnline = false;
  const online = (): void => {
    // NineDoor says ready again after a hot reload; the hive is online once.
    if (isOnline) return;
    isOnline = true;
    tcp!.start();
    hive.bootComplete();
    for (const t of (cfg.boot_tasks ?? []).slice(0, BOOT_TASKS_MAX)) {
      try {
        supervisor.spawn(t, false);
      } catch (e) {
        caps.log.write(`boot task ${t.task} not started: ${(e as Error).message}`);
      }
    }
  };
  // The hive is ONLINE once NineDoor serves; a hive without NineDoor (test images) is at once.
  if (link) link.onReady((port) => {
    ninepPort = port;
    if (port) caps.log.write(`secure9p port=${port}`);
    online();
  });
  else online();
}
