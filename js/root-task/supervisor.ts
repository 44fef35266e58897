// Supervisor: root-task's view of the tasks it started: spawn, kill, route their channel messages, hear their faults.
import type { Caps, TaskFault, TaskInfo } from '../caps/index.js';

/** A task root-task starts at boot, from its manifest config `boot_tasks`. */
export interface BootTask {
  task: string;
  label?: string;
  args?: unknown;
  /** Also link the task to this running task id (workers to NineDoor). */
  link?: number;
}

/** Bound on boot tasks: the task table itself holds 32. */
export const BOOT_TASKS_MAX = 16;

export interface ChildRecord {
  id: number;
  ep: number;
  label: string;
  task: string;
  /** Killed silently by the policy (workers: HiveControl writes their log lines). */
  quiet: boolean;
}

type FaultHandler = (id: number, fault: TaskFault, detail: string) => boolean;

export class Supervisor {
  private readonly byId = new Map<number, ChildRecord>();
  private readonly routes = new Map<number, (msg: Uint8Array | string) => void>();
  private readonly gone = new Map<number, (why: string) => void>();
  private faultHandler: FaultHandler = () => false;
  private spawned: () => void = () => {};

  constructor(private readonly caps: Caps) {
    caps.task.onFault((id, fault, detail) => this.faulted(id, fault, detail));
    caps.channel.onMessage((ep, msg) => this.message(ep, msg));
  }

  /** First say on a fault; returning true means it was handled (the task is already gone). */
  onFault(h: FaultHandler): void {
    this.faultHandler = h;
  }

  onSpawned(h: () => void): void {
    this.spawned = h;
  }

  /** `fn` hears once when task `id` is killed or faults (the net-console relay uses it). */
  onGone(id: number, fn: (why: string) => void): void {
    this.gone.set(id, fn);
  }

  /** Messages on endpoint `ep` go to `fn` (NineDoor's channel). */
  route(ep: number, fn: (msg: Uint8Array | string) => void): void {
    this.routes.set(ep, fn);
  }

  spawn(t: BootTask, quiet = false): ChildRecord {
    const label = t.label ?? t.task;
    const { id, ep } = this.caps.task.spawn({ task: t.task, label, args: t.args, link: t.link });
    const rec: ChildRecord = { id, ep, label, task: t.task, quiet };
    this.byId.set(id, rec);
    if (!quiet) this.caps.log.write(`spawned ${label} (task ${t.task}, id ${id})`);
    this.spawned();
    return rec;
  }

  kill(id: number, why: string, quiet = false): void {
    const rec = this.byId.get(id);
    try {
      this.caps.task.kill(id);
    } catch (e) {
      if (!rec) throw e;
    }
    this.forget(id, `killed (${why})`);
    if (!quiet) this.caps.log.write(`killed ${rec ? rec.label : `task ${id}`}: ${why}`);
  }

  children(): ChildRecord[] {
    return [...this.byId.values()];
  }

  tasks(): TaskInfo[] {
    return this.caps.task.list();
  }

  private forget(id: number, why = 'gone'): void {
    const rec = this.byId.get(id);
    if (!rec) return;
    this.byId.delete(id);
    this.routes.delete(rec.ep);
    const fn = this.gone.get(id);
    this.gone.delete(id);
    fn?.(why);
  }

  private faulted(id: number, fault: TaskFault, detail: string): void {
    if (this.faultHandler(id, fault, detail)) {
      this.forget(id, `faulted (${fault})`);
      return;
    }
    const rec = this.byId.get(id);
    const label = rec ? rec.label : `task ${id}`;
    // Policy: a task that broke its quota or CPU slice is removed and its arena returned at once.
    this.caps.log.write(`revoked ${label}: ${fault} (${detail})`);
    try {
      this.caps.task.kill(id);
    } catch {
      // already gone
    }
    this.forget(id, `faulted (${fault})`);
  }

  private message(ep: number, msg: Uint8Array | string): void {
    const route = this.routes.get(ep);
    if (route) return route(msg);
    const rec = [...this.byId.values()].find((r) => r.ep === ep);
    if (!rec) return;
    const text = typeof msg === 'string' ? msg : `${msg.length} bytes`;
    this.caps.log.write(`${rec.label}: ${text}`);
  }
}
