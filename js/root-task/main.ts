// root-task: the first task; owns the consoles, starts the hive's tasks and decides what happens on a fault.
import type { Caps, TaskConfig } from '../caps/index.js';
import { Supervisor, BOOT_TASKS_MAX, type BootTask } from './supervisor.js';
import { startUartConsole } from './uart-console.js';
import { startTcpConsole, type TcpConsole } from './tcp-console.js';

/** What the firmware passes root-task (host/sim/main.c builds it from its flags). */
interface RootArgs {
  console?: { port?: number; bind?: string; auth_token?: string };
  uart?: string;
}

interface RootManifestConfig {
  boot_tasks?: BootTask[];
}

interface ManifestShape {
  image_id?: string;
  profile?: string;
  tasks?: { name: string; config?: unknown }[];
  console?: { port?: number; auth_token?: string; max_sessions?: number };
}

export const BANNER = 'Cohesix boot: root-task online';

export default function main(caps: Caps, config: TaskConfig): void {
  const args = (config.args ?? {}) as RootArgs;
  const manifest = caps.image.manifest() as ManifestShape;
  const own = (manifest.tasks ?? []).find((t) => t.name === config.task);
  const rootConfig = (own?.config ?? {}) as RootManifestConfig;

  caps.console.write(`${BANNER}\r\n`);
  caps.console.write(`image ${manifest.image_id ?? '?'} profile ${manifest.profile ?? '?'}\r\n`);
  caps.log.write(BANNER);

  const supervisor = new Supervisor(caps);
  // A platform without a network (seL4 before virtio-net) refuses the listener: the hive still
  // boots and the UART console stays the operator's way in.
  let tcp: TcpConsole;
  try {
    tcp = startTcpConsole(caps, {
      host: args.console?.bind ?? '127.0.0.1',
      port: args.console?.port ?? manifest.console?.port ?? 31337,
      authToken: args.console?.auth_token ?? manifest.console?.auth_token ?? 'changeme',
    });
  } catch (e) {
    caps.log.write(`tcp console unavailable: ${(e as Error).message}`);
    tcp = { port: 0, sessions: () => 0, stop: () => {} };
  }
  startUartConsole(caps, supervisor, tcp);

  for (const t of (rootConfig.boot_tasks ?? []).slice(0, BOOT_TASKS_MAX)) {
    try {
      supervisor.spawn(t);
    } catch (e) {
      caps.log.write(`boot task ${t.task} not started: ${(e as Error).message}`);
    }
  }
}
