// The small ports root-task policy drives: NineDoor, the task capability, the clock, and the console's namespace view.
//
// Each is an interface with two implementations: on Node the NineDoor object itself (see
// nineDoorPort), in the firmware messages over the ordered root-task → NineDoor channel and
// the TaskCap. Policy code never reaches past these.
import type { NineError } from '../../secure9p/errors.js';
import type { TaskFault, TaskInfo } from '../../caps/index.js';
import type { CutReason, LifecycleFacts, PressureFacts, RootFacts } from '../../ninedoor/state.js';
import type { WorkerBudget, WorkerKind } from '../../ninedoor/server.js';
import type { GpuFile } from '../../ninedoor/gpu.js';
import type { NineDoor } from '../../ninedoor/server.js';
import type { HivePolicy } from '../../ninedoor/policy.js';
import type { Refusal } from '../../ninedoor/audit.js';
import type { TicketRole } from '../../tickets/claims.js';
import type { Later } from './answer.js';

export type { CutReason, TaskFault, TaskInfo };

/**
 * The part of NineDoor's API root-task drives. In the firmware each call is a fire-and-forget
 * message on one ordered channel, so calls apply in the order made. Only `setLease` answers:
 * whether the GPU exists is NineDoor's to know (the bridge installs GPUs there), and spec §7
 * makes an unknown GPU a NotFound the queen must see. Everything else is either checked by
 * root-task first (ids, the worker bound) or cannot fail.
 */
export interface NineDoorPort {
  /** New worker record and ring. Root-task guarantees the id is fresh and the table has room. */
  addWorker(id: string, kind: WorkerKind, budget: WorkerBudget): void;
  /**
   * Removes the record, its nodes and leases, and revokes its sessions. With a reason NineDoor
   * logs `revoked <id>: <reason>`; without one the revocation was already logged by NineDoor.
   * An unknown id is ignored (a revocation race: both sides saw the worker go).
   */
  removeWorker(id: string, reason?: string): void;
  setLifecycle(f: LifecycleFacts): void;
  setRoot(f: RootFacts): void;
  setPressure(f: PressureFacts): void;
  /** One line to /log/queen.log (and the firmware log). */
  log(line: string): void;
  /** A refused check (console AUTH, ATTACH, path): NineDoor's rate-bounded audit line (js/ninedoor/audit.ts). Absent: a plain log line. */
  audit?(r: Refusal): void;
  /** Records the holder the worker-gpu view uses; null clears. Unknown GPU → NotFound, held → Busy. */
  setLease(gpuId: string, workerId: string | null): Later<NineError | null>;
  /** Appends a line root-task writes to /gpu/<id>/{ctl,lease,status}. */
  appendGpu(gpuId: string, file: Exclude<GpuFile, 'info' | 'job'>, line: string): void;
}

/** On Node (tests, host tools) the port is the NineDoor object itself. */
export function nineDoorPort(door: NineDoor): NineDoorPort {
  return {
    addWorker: (id, kind, budget) => void door.addWorker(id, kind, budget),
    removeWorker: (id, reason) => void door.removeWorker(id, reason),
    setLifecycle: (f) => door.state.setLifecycle(f),
    setRoot: (f) => door.state.setRoot(f),
    setPressure: (f) => door.state.setPressure(f),
    log: (line) => door.log(line),
    audit: (r) => door.audit(r),
    setLease: (gpu, worker) => door.setLease(gpu, worker),
    appendGpu: (gpu, file, line) => void door.appendGpu(gpu, file, line),
  };
}

export type WorkerTaskKind = 'heartbeat' | 'gpu';

/** What a worker task is started with (its `config.args`); the ticket lets it attach to NineDoor itself. */
export interface WorkerArgs {
  /** `cohesix-ticket-...`, role worker-heartbeat or worker-gpu, subject = worker id, the budget as claims. */
  ticket: string;
  worker_id: string;
  /** Heartbeat: the tick budget (appends the worker may make). */
  ticks?: number;
  /** GPU: the lease it was granted. */
  lease?: { gpu_id: string; mem_mb: number; streams: number; ttl_s: number; priority: number };
}

/** Why a spawn failed at the task level (the task table or the arena pool). */
export class TaskSpawnError {
  constructor(
    readonly code: 'Busy' | 'Quota' | 'NotFound' | 'Io',
    readonly message: string,
  ) {}
}

/**
 * The task capability as root-task uses it for workers. In the firmware: TaskCap.spawn with the
 * manifest task for the kind (its arena quota, grants and CPU slice) and `label` = worker id.
 */
export interface TaskPort {
  /** The new task's id, or why not (a throw is treated the same as a returned error). */
  spawnWorker(kind: WorkerTaskKind, label: string, args: WorkerArgs): number | TaskSpawnError;
  /** Stops the task and frees its arena. Unknown ids are ignored (the task may already be gone). */
  killTask(id: number): void;
}

/** Time comes from outside: js/ never reads a clock itself. */
export interface Clock {
  /** Monotonic ms (deadlines). */
  nowMs(): number;
  /** Unix epoch ms (tickets, /proc times, NineDoor's ttl). */
  wallMs(): number;
}

/** A provider refusal as a value; the 9P client maps Rlerror errno back to these names. */
export type NsAnswer<T> = T | NineError | Promise<T | NineError>;

/**
 * One console session's attachment to NineDoor (in the firmware: a 9P client over a channel,
 * attached with the session's role and ticket). Every console file verb goes through it, so
 * NineDoor's role views, scopes, gates and budgets apply to the console exactly as to 9P.
 */
export interface NamespaceHandle {
  /** Names in a directory, sorted. */
  ls(path: string): NsAnswer<string[]>;
  /** The whole content (a bounded read). */
  cat(path: string): NsAnswer<Uint8Array>;
  /** What a ring or log retains now (a snapshot, not a follow). */
  tail(path: string): NsAnswer<Uint8Array>;
  /** Appends `payload` + newline as one write (one record). */
  echo(path: string, payload: string): NsAnswer<void>;
  /** Ends the attachment; no call follows. */
  close(): void;
}

export interface NamespacePort {
  /** Attaches as `role`; `ticket` is the token (null: a ticketless queen). */
  attach(role: TicketRole, identity: string | null, ticket: string | null): NsAnswer<NamespaceHandle>;
}

/** The task table as the UART `tasks` verb shows it (TaskCap.list in the firmware). */
export interface TaskLister {
  list(): readonly TaskInfo[];
}

/** Tasks the UART `restart` verb may restart (the network console side), by name. */
export interface RestartPort {
  /** Names `restart` accepts, e.g. `net-console`. */
  names(): readonly string[];
  /** Stops and starts it again; a line saying what happened, or why not. */
  restart(name: string): Later<string | NineError>;
}

/**
 * A HivePolicy that forwards to one made later: NineDoor needs its policy at construction and
 * HiveControl needs NineDoor's port at construction, so on Node one of them goes first through this.
 */
export function deferredPolicy(get: () => HivePolicy): HivePolicy {
  return {
    queenCtl: (text, ctx) => get().queenCtl(text, ctx),
    lifecycleCtl: (text, ctx) => get().lifecycleCtl(text, ctx),
    sessionRevoked: (r) => get().sessionRevoked?.(r),
    gpuAppend: (gpu, file, text, who) => get().gpuAppend?.(gpu, file, text, who),
  };
}
