// root-task: the first task; starts NineDoor, runs the hive policy, owns both consoles, and decides on every fault.
//
// Its parts, one job each: boot-config.ts (what it starts from), ninedoor-start.ts (the NineDoor
// task and its link), task-port.ts (the policy's hands on tasks), console-start.ts (both consoles).
import type { Caps, TaskConfig } from '../caps/index.js';
import { readBootConfig } from './boot-config.js';
import { startConsoles } from './console-start.js';
import { linkDoorPort } from './door-port.js';
import { ChannelNamespace } from './namespace.js';
import { detachedNineDoorLink, startNineDoor } from './ninedoor-start.js';
import { HiveControl } from './policy/index.js';
import { ReloadService } from './reload.js';
import { UpdateService } from './update.js';
import { Supervisor, BOOT_TASKS_MAX } from './supervisor.js';
import { workerTaskPort } from './task-port.js';

export const BANNER = 'Cohesix boot: root-task online';
/** Longest the UART's first prompt waits for the hive to get ONLINE before it comes anyway. */
export const UART_PROMPT_ONLINE_WAIT_MS = 5000;
/** Printed before that late prompt: the recovery verbs answer, the namespace may not. */
export const UART_NOT_ONLINE_NOTE = 'hive not online yet: recovery verbs answer (tasks, log, restart); 9P paths may not';
/** How often root-task times out 9P requests NineDoor never answered. */
const NAMESPACE_EXPIRE_INTERVAL_MS = 1000;

/** Budgets with a ttl: the policy says when it next needs the clock; one timer, re-armed each time. */
function ttlDeadlines(caps: Caps, hive: HiveControl): () => void {
  let ttlTimer = 0;
  const arm = (): void => {
    caps.timer.clear(ttlTimer);
    const next = hive.nextDeadlineMs();
    if (next === null) return;
    ttlTimer = caps.timer.setTimeout(() => {
      hive.tick(caps.timer.nowMs());
      arm();
    }, Math.max(0, next - caps.timer.nowMs()));
  };
  return arm;
}

export default function main(caps: Caps, config: TaskConfig): void {
  const boot = readBootConfig(caps, config);
  const { manifest, cfg } = boot;
  const clock = { nowMs: () => caps.timer.nowMs(), wallMs: () => caps.timer.wallMs() };

  caps.console.write(`${BANNER}\r\n`);
  caps.console.write(`${boot.imageLine}\r\n`);
  caps.log.write(BANNER);

  const supervisor = new Supervisor(caps);
  const door = startNineDoor(caps, supervisor, boot);
  const ninedoorId = door?.id ?? 0;
  const taskPort = workerTaskPort(supervisor, boot, ninedoorId);

  const link = door?.link ?? detachedNineDoorLink();
  const hive = new HiveControl({ nineDoor: linkDoorPort(link), tasks: taskPort, clock, secrets: boot.secrets });
  link.setPolicy(hive);
  const namespace = new ChannelNamespace(link, clock.nowMs);
  caps.timer.setInterval(() => namespace.expire(), NAMESPACE_EXPIRE_INTERVAL_MS);

  const armTtl = ttlDeadlines(caps, hive);
  supervisor.onFault((id, fault, detail) => {
    if (hive.workerFaulted(id, fault, detail)) return true; // the policy revoked it and killed the task
    if (door !== null && id === door.id) {
      caps.log.write(`ninedoor faulted: ${fault} (${detail}); the namespace is down`);
      door.link.lost('NineDoor faulted');
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

  // Over-the-air update (any image, queen only): UPDATE on either console stages a signed image into the other slot.
  const update = new UpdateService({
    update: caps.update,
    nowMs: () => caps.timer.nowMs(),
    later: (ms, fn) => void caps.timer.setTimeout(fn, ms),
    log: (line) => caps.log.write(line),
  });

  let ninepPort = 0;
  const { tcp, uart } = startConsoles(caps, boot, {
    hive,
    namespace,
    clock,
    reload,
    update,
    supervisor,
    taskPort,
    protectedTaskIds: [config.id, ninedoorId].filter((x) => x > 0),
    ninepPort: () => ninepPort,
  });

  let isOnline = false;
  const online = (): void => {
    // NineDoor says ready again after a hot reload; the hive is online once.
    if (isOnline) return;
    isOnline = true;
    tcp.start();
    hive.bootComplete();
    for (const t of (cfg.boot_tasks ?? []).slice(0, BOOT_TASKS_MAX)) {
      try {
        supervisor.spawn(t, false);
      } catch (e) {
        caps.log.write(`boot task ${t.task} not started: ${(e as Error).message}`);
      }
    }
    // The UART's first prompt comes after the boot lines, not amid them (seen on seL4, where the log
    // shares the PL011): once the TCP console listens (the firmware's ONLINE signal) or said why not.
    tcp.whenSettled(() => uart.start());
  };
  // A hive that does not get online (NineDoor faulting at boot) still gives its recovery console a
  // prompt, saying why, within a bounded wait.
  caps.timer.setTimeout(() => {
    if (isOnline) return;
    caps.console.write(`${UART_NOT_ONLINE_NOTE}\n`);
    uart.start();
  }, UART_PROMPT_ONLINE_WAIT_MS);
  // The hive is ONLINE once NineDoor serves; a hive without NineDoor (test images) is at once.
  if (door !== null) {
    door.link.onReady((port) => {
      ninepPort = port;
      if (port) caps.log.write(`secure9p port=${port}`);
      online();
    });
  } else online();
}
