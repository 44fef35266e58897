// Starts NineDoor as its own task, reached over one channel that carries routed 9P and the policy protocol.
import type { Caps } from '../caps/index.js';
import { NineDoorLink } from '../ninedoor/root-side.js';
import type { NineDoorTaskArgs } from '../ninedoor/task.js';
import type { BootConfig } from './boot-config.js';
import type { Supervisor } from './supervisor.js';

/** A running NineDoor task and root-task's link to it. */
export interface StartedNineDoor {
  /** Its task id (protected from the UART's kill). */
  id: number;
  link: NineDoorLink;
}

/** The Secure9P TCP listener NineDoor opens: dev images that ask for one with a port; else none. */
function ninepListener(boot: BootConfig): NineDoorTaskArgs['ninep'] {
  const port = boot.args.ninep?.port ?? 0;
  return boot.cfg.ninep_tcp && port > 0 ? { host: boot.bind, port } : null;
}

/** Spawns the manifest's NineDoor task; null for a hive without a namespace (test images). */
export function startNineDoor(caps: Caps, supervisor: Supervisor, boot: BootConfig): StartedNineDoor | null {
  const task = boot.cfg.ninedoor_task;
  if (!task) return null;
  const args: NineDoorTaskArgs = {
    secrets: boot.secrets,
    allow_ticketless_queen: boot.cfg.allow_ticketless_queen ?? false,
    mock_gpus: boot.cfg.mock_gpus ?? false,
    boot_lines: [boot.imageLine],
    ninep: ninepListener(boot),
  };
  const nd = supervisor.spawn({ task, label: 'ninedoor', args }, true);
  const link = new NineDoorLink({
    send: (m) => caps.channel.send(nd.ep, m),
    log: (l) => caps.log.write(l),
    setTimeout: (fn, ms) => caps.timer.setTimeout(fn, ms),
    clearTimeout: (id) => caps.timer.clear(id),
  });
  supervisor.route(nd.ep, (msg) => link.receive(msg));
  return { id: nd.id, link };
}

/** The link a hive without NineDoor gives its policy: it sends nowhere and is never ready. */
export function detachedNineDoorLink(): NineDoorLink {
  return new NineDoorLink({ send: () => {}, log: () => {}, setTimeout: () => 0, clearTimeout: () => {} });
}
