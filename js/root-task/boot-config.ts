// What root-task starts from: the firmware's args, the image manifest and root-task's own manifest config, read once at boot.
import type { Caps, TaskConfig } from '../caps/index.js';
import type { TicketSecrets } from '../tickets/index.js';
import type { BootTask } from './supervisor.js';

/** What the firmware passes root-task (host/sim/main.c builds it from its flags). */
export interface RootArgs {
  console?: { port?: number; bind?: string; auth_token?: string };
  ninep?: { port?: number };
  uart?: string;
}

/** root-task's own manifest config. */
export interface RootManifestConfig {
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

export interface ManifestShape {
  image_id?: string;
  profile?: string;
  tasks?: { name: string; config?: unknown }[];
  console?: { port?: number; auth_token?: string; max_sessions?: number; idle_timeout_ms?: number };
}

/** Everything root-task's parts read at boot. */
export interface BootConfig {
  args: RootArgs;
  manifest: ManifestShape;
  cfg: RootManifestConfig;
  /** The ticket secrets every attach is checked against (none: only a ticketless queen, where allowed). */
  secrets: TicketSecrets;
  /** The address both TCP listeners bind (loopback unless the firmware was told otherwise). */
  bind: string;
  /** `image <id> profile <profile>`: the second boot line. */
  imageLine: string;
}

/** Loopback: a dev hive is not reachable from the network unless `--bind` says so. */
const BIND_DEFAULT = '127.0.0.1';

export function readBootConfig(caps: Caps, config: TaskConfig): BootConfig {
  const args = (config.args ?? {}) as RootArgs;
  const manifest = caps.image.manifest() as ManifestShape;
  const own = (manifest.tasks ?? []).find((t) => t.name === config.task);
  const cfg = (own?.config ?? {}) as RootManifestConfig;
  return {
    args,
    manifest,
    cfg,
    secrets: cfg.tickets ?? {},
    bind: args.console?.bind ?? BIND_DEFAULT,
    imageLine: `image ${manifest.image_id ?? '?'} profile ${manifest.profile ?? '?'}`,
  };
}
