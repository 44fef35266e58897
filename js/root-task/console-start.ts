// Makes root-task's two consoles: the TCP console (started once the hive is online) and the UART recovery console (input at once, its prompt once online), over one set of backends.
import type { Caps } from '../caps/index.js';
import { CONSOLE_AUTH_TOKEN_DEV, CONSOLE_PORT_DEFAULT, CONSOLE_SESSIONS_DEFAULT } from '../console/index.js';
import type { BootConfig } from './boot-config.js';
import type { UartConsoleSession } from '../console/index.js';
import { directNet, TcpConsole, startUartConsole } from './consoles.js';
import { infoProviders } from './info.js';
import type { ChannelNamespace } from './namespace.js';
import { ConsoleBackends, recoveryVerbs, type HiveControl, type TaskPort } from './policy/index.js';
import { RelayNet } from './relay-net.js';
import type { ReloadService } from './reload.js';
import type { UpdateService } from './update.js';
import type { Supervisor } from './supervisor.js';

/** The TCP console the UART's `restart` verb can restart. */
const TCP_CONSOLE_TASK_NAME = 'tcp-console';

export interface ConsoleParts {
  hive: HiveControl;
  namespace: ChannelNamespace;
  clock: { nowMs(): number; wallMs(): number };
  reload: ReloadService;
  update: UpdateService;
  supervisor: Supervisor;
  taskPort: TaskPort;
  /** Task ids the UART may not kill: root-task itself and NineDoor. */
  protectedTaskIds: number[];
  /** The Secure9P TCP port once NineDoor said it (0: none yet, or none at all). */
  ninepPort: () => number;
}

/** Both consoles, as root-task drives them once the hive is online. */
export interface Consoles {
  /** Not yet listening: root-task starts it when the hive is online. */
  tcp: TcpConsole;
  /** Taking input already; `start()` prints its first prompt (when online, or when root-task stops waiting). */
  uart: UartConsoleSession;
}

/** Starts the UART console's input and makes the TCP console. */
export function startConsoles(caps: Caps, boot: BootConfig, p: ConsoleParts): Consoles {
  const { args, manifest, cfg } = boot;
  const tcp = new TcpConsole(caps, {
    host: boot.bind,
    port: args.console?.port ?? manifest.console?.port ?? CONSOLE_PORT_DEFAULT,
    authToken: args.console?.auth_token ?? manifest.console?.auth_token ?? CONSOLE_AUTH_TOKEN_DEV,
    maxSessions: manifest.console?.max_sessions ?? CONSOLE_SESSIONS_DEFAULT,
    idleTimeoutMs: manifest.console?.idle_timeout_ms,
    net: cfg.console_task ? new RelayNet(caps, p.supervisor, cfg.console_task) : directNet(caps),
  });
  const backends = new ConsoleBackends({
    hive: p.hive,
    namespace: p.namespace,
    clock: p.clock,
    secrets: boot.secrets,
    allowTicketlessQueen: cfg.allow_ticketless_queen ?? false,
    reload: p.reload,
    update: p.update,
    info: infoProviders(caps, {
      imageId: manifest.image_id ?? '?',
      profile: manifest.profile ?? '?',
      tcpPort: () => tcp.port,
      tcpSessions: () => tcp.sessions(),
      tcpAuthPending: () => tcp.authPending(),
      ninepPort: p.ninepPort,
    }),
  });
  tcp.setBackends((peer) => backends.make(`tcp:${peer}`));
  const verbs = recoveryVerbs({
    hive: p.hive,
    tasks: { list: () => caps.task.list() },
    taskPort: p.taskPort,
    restart: {
      names: () => [TCP_CONSOLE_TASK_NAME],
      restart: (name) => (name === TCP_CONSOLE_TASK_NAME ? tcp.restart() : `no restartable task '${name}'`),
    },
    protectedTaskIds: p.protectedTaskIds,
  });
  const uart = startUartConsole(caps, backends.make('uart', [...verbs.keys()]), verbs);
  return { tcp, uart };
}
