// Supervisor: starts the manifest's boot tasks, hears their channel messages and faults, and frees faulted tasks.
import type { Caps, TaskFault, TaskInfo } from '../caps/index.js';

/** A task root-task starts at boot, from its manifest config `boot_tasks`. */
export interface BootTask {
  task: string;
  label?: string;
  args?: unknown;
}

/** Bound on boot tasks: the task table itself holds 32. */
export const BOOT_TASKS_MAX = 16;

export interface ChildRecord {
  id: number;
  ep: number;
  label: string;
  task: string;
  lastMessage: string;
  messages: number;
}

export class Supervisor {
  private readonly byId = new Map<number, ChildRecord>();
  private readonly byEp = new Map<number, ChildRecord>();

  constructor(private readonly caps: Caps) {
    caps.task.onFault((id, fault, detail) => this.faulted(id, fault, detail));
    caps.channel.onMessage((ep, msg) => this.message(ep, msg));
  }

  spawn(t: BootTask): ChildRecord {
    const label = t.label ?? t.task;
    const { id, ep } = this.caps.task.spawn({ task: t.task, label, args: t.args });
    const rec: ChildRecord = { id, ep, label, task: t.task, lastMessage: '', messages: 0 };
    this.byId.set(id, rec);
    this.byEp.set(ep, rec);
    this.caps.log.write(`spawned ${label} (task ${t.task}, id ${id})`);
    return rec;
  }

  kill(id: number, why: string): void {
    const rec = this.byId.get(id);
    this.caps.task.kill(id);
    this.forget(id);
    this.caps.log.write(`killed ${rec ? rec.label : `task ${id}`}: ${why}`);
  }

  children(): ChildRecord[] {
    return [...this.byId.values()];
  }

  tasks(): TaskInfo[] {
    return this.caps.task.list();
  }

  private forget(id: number): void {
    const rec = this.byId.get(id);
    if (!rec) return;
    this.byId.delete(id);
    this.byEp.delete(rec.ep);
  }

  private faulted(id: number, fault: TaskFault, detail: string): void {
    const rec = this.byId.get(id);
    const label = rec ? rec.label : `task ${id}`;
    // Policy: a task that broke its quota or CPU slice is removed and its arena returned at once.
    this.caps.log.write(`revoked ${label}: ${fault} (${detail})`);
    try {
      this.caps.task.kill(id);
    } catch {
      // already gone
    }
    this.forget(id);
  }

  private message(ep: number, msg: Uint8Array | string): void {
    const rec = this.byEp.get(ep);
    if (!rec) return;
    rec.messages++;
    rec.lastMessage = typeof msg === 'string' ? msg : `${msg.length} bytes`;
    this.caps.log.write(`${rec.label}: ${rec.lastMessage}`);
  }
}
