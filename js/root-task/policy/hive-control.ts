// HiveControl: root-task's policy behind NineDoor (spec §7, §8.5, §9, §11.2, §15): /queen/ctl, lifecycle, workers, budgets, leases, revocation, root facts.
//
// It owns the worker table, the lease table, the lifecycle machine, root reachability and the
// pressure counters; NineDoor only mirrors them (pushed through NineDoorPort on every change).
// Every decision is made here from root-task's own tables, so the ports can be fire-and-forget
// messages; the one answer it waits for is NineDoor's word on whether a GPU exists.
import { NineError } from '../../secure9p/errors.js';
import type { Answer } from '../../secure9p/fileserver.js';
import type { ControlContext, HivePolicy, RevokedSession } from '../../ninedoor/policy.js';
import type { Principal } from '../../secure9p/fileserver.js';
import { gateDeniedLine, gateOpen, type Gate, type LifecycleState } from '../../ninedoor/gates.js';
import type { CutReason, LifecycleFacts, PressureFacts, RootFacts } from '../../ninedoor/state.js';
import type { WorkerKind } from '../../ninedoor/server.js';
import { baseClaims, type TicketRole } from '../../tickets/claims.js';
import type { TicketSecrets } from '../../tickets/attach.js';
import { TicketError } from '../../tickets/errors.js';
import { mintTicket } from '../../tickets/token.js';
import { utf8Length } from '../../bytes/utf8.js';
import { then, type Later } from './answer.js';
import { ctlLines, invalidPayload, parseQueenCtlLine, type BudgetSpec, type LeaseSpec, type QueenCommand } from './ctl-parse.js';
import { decideLifecycle, transitionLine } from './lifecycle.js';
import { leaseCtlLine, leaseEndedStatusLine, leaseRecordLine, releaseCtlLine, type Lease } from './leases.js';
import {
  DEFAULT_BUDGET_OPS, DEFAULT_BUDGET_TICKS, DEFAULT_BUDGET_TTL_S, GPU_OPS_PER_STREAM, LIVE_WORKERS_MAX, OPERATOR_LINES_MAX,
  QUEEN_CTL_LINES_MAX, QUEEN_CTL_WRITE_BYTES_MAX, RECENT_LOG_LINES_MAX, WORKER_SEQ_MAX,
} from './limits.js';
import { refusalLine, type Refusal } from '../../ninedoor/audit.js';
import { TaskSpawnError, type Clock, type NineDoorPort, type TaskFault, type TaskPort, type WorkerArgs } from './ports.js';

/** Revocation reasons root-task gives (spec §8.5 names the budget ones; the fault ones are ours). */
export const REVOKE_KILLED = 'killed by queen';
export const REVOKE_TTL = 'ticket ttl expired';
/** Reason of a lease that outlived its ttl_s while its worker's budget ttl (overridden) runs on. */
export const LEASE_TTL = 'lease ttl expired';
/** A queen ctl line that ends a lease (spec §11.2): `RELEASE <worker> [reason]`. */
const RELEASE_LINE = /^RELEASE (\S+)(?: (.*))?$/;
export const FAULT_REASONS: Readonly<Record<TaskFault, string>> = {
  quota: 'memory quota exceeded',
  cpu: 'cpu budget exceeded',
  stack: 'stack overflow',
  load: 'task failed to start',
  killed: 'task killed',
};

/** Resolved budget of a worker; null = unbounded. */
export interface Budget {
  ticks: number | null;
  ops: number | null;
  ttlS: number | null;
}

export interface WorkerView {
  id: string;
  kind: WorkerKind;
  taskId: number;
  budget: Budget;
  gpuId: string | null;
  /** Monotonic ms at which the ttl revokes it; null = never. */
  deadlineMs: number | null;
}

interface WorkerRecord extends WorkerView {
  lease: Lease | null;
  /** Monotonic ms at which the lease ends (its ttl_s); null without a lease. */
  leaseDeadlineMs: number | null;
}

export interface HiveControlOptions {
  nineDoor: NineDoorPort;
  tasks: TaskPort;
  clock: Clock;
  /** Manifest [[tickets]] secrets; worker-heartbeat and worker-gpu sign the tickets workers attach with. */
  secrets: TicketSecrets;
  /** Live workers before spawn is Busy; default LIVE_WORKERS_MAX. */
  liveWorkersMax?: number;
}

const ROLE_OF_KIND: Readonly<Record<WorkerKind, TicketRole>> = { heartbeat: 'worker-heartbeat', gpu: 'worker-gpu' };
const INFINITY_MARK = '∞';
const show = (n: number | null): string => (n === null ? INFINITY_MARK : String(n));
const CREDENTIAL_REFUSALS: ReadonlySet<string> = new Set(['denied', 'expired', 'invalid-claims']);

export class HiveControl implements HivePolicy {
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly byTask = new Map<number, string>();
  /** gpu id → lease (one per GPU, spec §11.2). */
  private readonly leases = new Map<string, Lease>();
  /** n of the last worker id handed out; ids are never reused (spec §6). */
  private lastSeq = 0;
  private defaults: { ttlS: number | null; ops: number | null } = { ttlS: DEFAULT_BUDGET_TTL_S, ops: DEFAULT_BUDGET_OPS };
  private lifecycle: LifecycleFacts;
  private root: RootFacts = { reachable: false, lastSeenMs: 0, cutReason: 'none' };
  private readonly pressure: PressureFacts = { busy: 0, quota: 0, cut: 0, policy: 0 };
  /** Console sessions attached as queen, by the key their backend chose. */
  private readonly queens = new Set<string>();
  private readonly operator: string[] = [];
  private readonly recent: string[] = [];
  /** Console lines dropped from full inbound queues (spec §15). */
  inboundDropped = 0;
  /** Set while a control write waits for a port: later writes queue behind it so lines apply in order. */
  private inflight: Promise<void> | null = null;
  private readonly liveMax: number;

  constructor(private readonly o: HiveControlOptions) {
    this.liveMax = Math.max(0, Math.floor(o.liveWorkersMax ?? LIVE_WORKERS_MAX));
    this.lifecycle = { state: 'BOOTING', reason: 'boot', sinceMs: o.clock.wallMs() };
    o.nineDoor.setLifecycle(this.lifecycle);
    o.nineDoor.setRoot(this.root);
    o.nineDoor.setPressure({ ...this.pressure });
  }

  // ---- facts ----

  lifecycleState(): LifecycleState {
    return this.lifecycle.state;
  }
  lifecycleFacts(): LifecycleFacts {
    return { ...this.lifecycle };
  }
  rootFacts(): RootFacts {
    return { ...this.root };
  }
  pressureFacts(): PressureFacts {
    return { ...this.pressure };
  }
  /** Spec §15: a queen console session is active and the state is not OFFLINE. */
  rootReachable(): boolean {
    return this.root.reachable;
  }
  workerList(): WorkerView[] {
    return [...this.workers.values()].map(({ lease: _l, leaseDeadlineMs: _d, ...v }) => ({ ...v, budget: { ...v.budget } }));
  }
  workerOfTask(taskId: number): string | null {
    return this.byTask.get(taskId) ?? null;
  }
  defaultBudget(): Budget {
    return { ticks: DEFAULT_BUDGET_TICKS, ...this.defaults };
  }
  /** Lines root-task itself logged, oldest first (the UART `lastlog` fallback). */
  recentLog(): string[] {
    return [...this.recent];
  }

  /** A refused console check, on the record through NineDoor's audit bounds (docs/ninedoor.md "Audit lines"). */
  audit(r: Refusal): void {
    if (this.o.nineDoor.audit !== undefined) this.o.nineDoor.audit(r);
    else this.log(refusalLine(r));
  }

  log(line: string): void {
    this.recent.push(line);
    if (this.recent.length > RECENT_LOG_LINES_MAX) this.recent.shift();
    this.o.nineDoor.log(line);
  }

  // ---- lifecycle ----

  /** The automatic BOOTING → ONLINE of spec §9 (root-task calls it once its tasks are up). */
  bootComplete(): void {
    if (this.lifecycle.state === 'BOOTING') this.enter('ONLINE', 'boot-complete');
  }

  /** DEGRADED and OFFLINE are entered by root-task itself (no command enters them); `resume` leaves them. */
  setCondition(state: 'DEGRADED' | 'OFFLINE', reason: string): void {
    if (this.lifecycle.state !== state) this.enter(state, reason);
  }

  private enter(to: LifecycleState, reason: string): void {
    const from = this.lifecycle.state;
    this.lifecycle = { state: to, reason, sinceMs: this.o.clock.wallMs() };
    this.o.nineDoor.setLifecycle(this.lifecycle);
    this.log(transitionLine(from, to, reason));
    if (to === 'OFFLINE') this.root.cutReason = 'lifecycle_offline';
    else if (from === 'OFFLINE' && this.root.cutReason === 'lifecycle_offline' && this.queens.size > 0) this.root.cutReason = 'none';
    this.pushRoot();
  }

  /** Null when open; else Permission with the §9 gate line, logged. */
  gate(g: Gate): NineError | null {
    const s = this.lifecycle.state;
    if (gateOpen(g, s)) return null;
    const line = gateDeniedLine(g, s);
    this.log(line);
    return new NineError('Permission', line);
  }

  lifecycleCtl(text: string, ctx: ControlContext): Answer<void> {
    return this.serial(() => {
      if (ctx.who.role !== 'queen') return new NineError('Permission', 'lifecycle control is the queen\'s');
      const d = decideLifecycle(text, this.lifecycle.state, this.workers.size);
      if (d.kind === 'denied') {
        this.log(d.line);
        return d.error;
      }
      this.enter(d.to, d.reason);
      return undefined;
    });
  }

  // ---- /queen/ctl ----

  queenCtl(text: string, ctx: ControlContext): Answer<void> {
    return this.serial(() => {
      if (ctx.who.role !== 'queen') return new NineError('Permission', '/queen/ctl is the queen\'s');
      if (utf8Length(text) > QUEEN_CTL_WRITE_BYTES_MAX) return invalidPayload(`write longer than ${QUEEN_CTL_WRITE_BYTES_MAX} bytes`);
      const lines = ctlLines(text);
      if (lines.length > QUEEN_CTL_LINES_MAX) return invalidPayload(`more than ${QUEEN_CTL_LINES_MAX} lines`);
      return this.applyFrom(lines, 0, ctx);
    });
  }

  /** Lines in order; the first failure stops the rest, earlier lines stay applied (spec §7). */
  private applyFrom(lines: readonly string[], i: number, ctx: ControlContext): Later<NineError | undefined> {
    for (; i < lines.length; i++) {
      const cmd = parseQueenCtlLine(lines[i]);
      const r = cmd instanceof NineError ? cmd : this.apply(cmd, ctx);
      if (r instanceof Promise) {
        const next = i + 1;
        return r.then((e) => e ?? this.applyFrom(lines, next, ctx));
      }
      if (r !== undefined) return r;
    }
    return undefined;
  }

  private apply(c: QueenCommand, ctx: ControlContext): Later<NineError | undefined> {
    switch (c.kind) {
      case 'spawn-heartbeat':
        return this.spawnHeartbeat(c.ticks, c.budget);
      case 'spawn-gpu':
        return this.spawnGpu(c.lease, c.budget);
      case 'kill':
        return this.kill(c.workerId) ?? undefined;
      case 'budget':
        this.defaults = { ttlS: c.budget.ttlS, ops: c.budget.ops };
        this.log(`updated default budget ttl=${show(c.budget.ttlS)} ops=${show(c.budget.ops)} ticks=${DEFAULT_BUDGET_TICKS}`);
        return undefined;
      case 'bind':
        // The gate and the log line are NineDoor's (SessionView.bind); only the new-work check happens twice.
        return then(ctx.session.bind(c.from, c.to) as Later<NineError | null>, (e) => e ?? undefined);
      case 'mount':
        return then(ctx.session.mount(c.service, c.at) as Later<NineError | null>, (e) => e ?? undefined);
    }
  }

  /** Checks that need no id: gate, table room, id space. */
  private spawnPrecheck(): NineError | null {
    const shut = this.gate('new-work');
    if (shut !== null) return shut;
    if (this.workers.size >= this.liveMax) return new NineError('Busy', `worker table full (${this.liveMax} live workers)`);
    if (this.lastSeq >= WORKER_SEQ_MAX) return new NineError('Busy', 'worker ids exhausted');
    return null;
  }

  private spawnHeartbeat(ticks: number, spec: BudgetSpec | null): NineError | undefined {
    const pre = this.spawnPrecheck();
    if (pre !== null) return pre;
    // Spec §7: a present budget object replaces both ttl and ops; an omitted member is unbounded.
    const b: Budget = { ticks, ...(spec ?? this.defaults) };
    const id = `worker-${this.lastSeq + 1}`;
    const ticket = this.mint('heartbeat', id, b);
    if (ticket instanceof NineError) return ticket;
    this.lastSeq++;
    return this.start(id, 'heartbeat', b, null, { ticket, worker_id: id, ticks }, `spawned ${id} ticks=${ticks} ttl=${show(b.ttlS)} ops=${show(b.ops)}`);
  }

  private spawnGpu(l: LeaseSpec, spec: BudgetSpec | null): Later<NineError | undefined> {
    const pre = this.spawnPrecheck();
    if (pre !== null) return pre;
    const held = this.leases.get(l.gpuId);
    if (held !== undefined) return new NineError('Busy', `GPU ${l.gpuId} already leased to ${held.workerId}`);
    // Spec §7: ttl = lease ttl_s, ops = streams × 8; our choice: a present budget member overrides its value.
    const b: Budget = { ticks: null, ttlS: spec?.ttlS ?? l.ttlS, ops: spec?.ops ?? l.streams * GPU_OPS_PER_STREAM };
    const id = `worker-${this.lastSeq + 1}`;
    const ticket = this.mint('gpu', id, b);
    if (ticket instanceof NineError) return ticket;
    // Whether the GPU exists is NineDoor's to say: ask before the id is taken.
    return then(this.o.nineDoor.setLease(l.gpuId, id), (err) => {
      if (err !== null) return err;
      this.lastSeq++;
      const lease: Lease = { ...l, workerId: id };
      this.o.nineDoor.appendGpu(l.gpuId, 'ctl', leaseCtlLine(lease));
      this.o.nineDoor.appendGpu(l.gpuId, 'lease', leaseRecordLine(lease, 'ACTIVE'));
      const leaseArgs = { gpu_id: l.gpuId, mem_mb: l.memMb, streams: l.streams, ttl_s: l.ttlS, priority: l.priority };
      return this.start(id, 'gpu', b, lease, { ticket, worker_id: id, lease: leaseArgs }, `spawned ${id} gpu=${l.gpuId} ttl=${show(b.ttlS)} streams=${l.streams}`);
    });
  }

  /** Signs the ticket the worker attaches with: its role, subject = id, the budget as claims. */
  private mint(kind: WorkerKind, id: string, b: Budget): string | NineError {
    const role = ROLE_OF_KIND[kind];
    const secret = this.o.secrets[role];
    if (secret === undefined) return new NineError('Permission', `no ticket secret for ${role}`);
    const claims = {
      ...baseClaims(role, BigInt(Math.floor(this.o.clock.wallMs()))),
      subject: id,
      ticks: b.ticks === null ? null : BigInt(b.ticks),
      ops: b.ops === null ? null : BigInt(b.ops),
      ttlS: b.ttlS === null ? null : BigInt(b.ttlS),
    };
    const t = mintTicket(claims, secret);
    return t instanceof TicketError ? new NineError('Invalid', t.message) : t;
  }

  /** Record in NineDoor first (the worker attaches as soon as it runs), then the task; undo on a failed spawn. */
  private start(id: string, kind: WorkerKind, b: Budget, lease: Lease | null, args: WorkerArgs, spawnedLine: string): NineError | undefined {
    const wall = this.o.clock.wallMs();
    this.o.nineDoor.addWorker(id, kind, {
      ticks: b.ticks,
      opsMax: b.ops,
      expiresAtMs: b.ttlS === null ? null : wall + b.ttlS * 1000,
    });
    let taskId: number | TaskSpawnError;
    try {
      taskId = this.o.tasks.spawnWorker(kind, id, args);
    } catch (e) {
      const code = (e as { code?: string }).code;
      taskId = new TaskSpawnError(code === 'NotFound' || code === 'Io' || code === 'Quota' ? code : 'Busy', String((e as { message?: string }).message ?? e));
    }
    if (taskId instanceof TaskSpawnError) {
      if (lease !== null) this.releaseLines(lease, 'spawn failed');
      this.o.nineDoor.removeWorker(id);
      this.log(`spawn failed ${id}: ${taskId.code} ${taskId.message}`);
      return new NineError('Busy', `spawn failed: ${taskId.message}`);
    }
    const now = this.o.clock.nowMs();
    const rec: WorkerRecord = {
      id, kind, taskId, budget: b, gpuId: lease?.gpuId ?? null, lease,
      deadlineMs: b.ttlS === null ? null : now + b.ttlS * 1000,
      leaseDeadlineMs: lease === null ? null : now + lease.ttlS * 1000,
    };
    this.workers.set(id, rec);
    this.byTask.set(taskId, id);
    if (lease !== null) this.leases.set(lease.gpuId, lease);
    this.log(spawnedLine);
    return undefined;
  }

  private kill(id: string): NineError | null {
    if (!this.workers.has(id)) return new NineError('NotFound', `unknown worker ${id}`);
    this.log(`killed ${id}`);
    this.revoke(id, REVOKE_KILLED, 'root');
    return null;
  }

  private releaseLines(l: Lease, reason: string): void {
    this.o.nineDoor.appendGpu(l.gpuId, 'ctl', releaseCtlLine(l.workerId, reason));
    this.o.nineDoor.appendGpu(l.gpuId, 'lease', leaseRecordLine(l, 'RELEASED'));
    this.o.nineDoor.appendGpu(l.gpuId, 'status', leaseEndedStatusLine(l.workerId, reason));
  }

  /**
   * Ends a worker: lease released (lines of §11.2), record and nodes removed, sessions revoked,
   * task killed (its arena freed). `root`: root-task decided, NineDoor logs `revoked <id>: <reason>`;
   * `ninedoor`: NineDoor already revoked and logged, the record goes without a second line.
   */
  private revoke(id: string, reason: string, origin: 'root' | 'ninedoor'): boolean {
    const rec = this.workers.get(id);
    if (rec === undefined) return false;
    this.workers.delete(id);
    this.byTask.delete(rec.taskId);
    if (rec.lease !== null) {
      this.leases.delete(rec.lease.gpuId);
      this.releaseLines(rec.lease, reason);
    }
    if (origin === 'root') this.o.nineDoor.removeWorker(id, reason);
    else this.o.nineDoor.removeWorker(id);
    try {
      this.o.tasks.killTask(rec.taskId);
    } catch {
      // Already gone: its arena went with it.
    }
    return true;
  }

  /** Revokes a worker for a reason root-task's operator gave (UART). False when there is no such worker. */
  revokeWorker(id: string, reason: string): boolean {
    return this.revoke(id, reason, 'root');
  }

  // ---- events from NineDoor and the firmware ----

  sessionRevoked(r: RevokedSession): void {
    if (r.who?.role === 'queen') {
      this.root.cutReason = 'session_revoked';
      this.pushRoot();
      return;
    }
    const id = r.who?.identity;
    if (id != null) this.revoke(id, r.reason, 'ninedoor');
  }

  /** Revokes every worker whose ttl has passed and ends leases past their ttl_s (monotonic ms). Call at nextDeadlineMs() or each pump tick. */
  tick(nowMs: number): void {
    for (const rec of [...this.workers.values()]) {
      if (rec.deadlineMs !== null && nowMs >= rec.deadlineMs) this.revoke(rec.id, REVOKE_TTL, 'root');
      else if (rec.lease !== null && rec.leaseDeadlineMs !== null && nowMs >= rec.leaseDeadlineMs) {
        // The budget ttl was overridden past the lease's: the lease ends, the worker stays (spec §11.2 TTL).
        const l = rec.lease;
        this.dropLease(rec);
        this.releaseLines(l, LEASE_TTL);
        this.log(`released ${l.gpuId} from ${rec.id}: ${LEASE_TTL}`);
      }
    }
  }

  nextDeadlineMs(): number | null {
    let next: number | null = null;
    const consider = (t: number | null) => {
      if (t !== null && (next === null || t < next)) next = t;
    };
    for (const rec of this.workers.values()) {
      consider(rec.deadlineMs);
      if (rec.lease !== null) consider(rec.leaseDeadlineMs);
    }
    return next;
  }

  /** Forgets a worker's lease here and in NineDoor's view (its job writes get Permission from now on). */
  private dropLease(rec: WorkerRecord): void {
    if (rec.lease === null) return;
    this.leases.delete(rec.lease.gpuId);
    void this.o.nineDoor.setLease(rec.lease.gpuId, null);
    rec.lease = null;
    rec.leaseDeadlineMs = null;
  }

  /**
   * A line stored in /gpu/<id>/ctl or /gpu/<id>/job (NineDoor kept it and asks). ctl: a queen's
   * (the host bridge's) `RELEASE <worker> [reason]` ends that worker's lease on this GPU — the holder
   * is cleared so its job writes get Permission; the writer wrote the ctl line and writes the
   * RELEASED/LEASE-ENDED lines itself (gpu-bridge-host does), so root-task adds none. Other ctl
   * lines are kept and not acted on. job: accepted from the current lease holder only (spec §11.4);
   * the host bridge runs it.
   */
  gpuAppend(gpuId: string, file: 'ctl' | 'job', text: string, who: Principal): NineError | undefined {
    if (file === 'job') {
      const held = this.leases.get(gpuId);
      if (who.role === 'worker-gpu' && held !== undefined && held.workerId === who.identity) return undefined;
      return new NineError('Permission', held === undefined ? `GPU ${gpuId} has no lease` : `jobs on GPU ${gpuId} are ${held.workerId}'s`);
    }
    if (who.role !== 'queen') return new NineError('Permission', `/gpu/${gpuId}/ctl is the queen's`);
    for (const line of text.split('\n')) {
      const m = RELEASE_LINE.exec(line.trim());
      if (m === null) continue;
      const held = this.leases.get(gpuId);
      const rec = held === undefined ? undefined : this.workers.get(held.workerId);
      if (held === undefined || held.workerId !== m[1] || rec === undefined) continue; // already ended: nothing to do
      this.dropLease(rec);
      this.log(`released ${gpuId} from ${m[1]}: ${m[2] ?? 'by queen'}`);
    }
    return undefined;
  }

  /** A task faulted (TaskCap.onFault). True when it was a worker: revoked, logged, killed. Other tasks are the caller's. */
  workerFaulted(taskId: number, fault: TaskFault, detail: string): boolean {
    void detail;
    const id = this.byTask.get(taskId);
    if (id === undefined) return false;
    return this.revoke(id, FAULT_REASONS[fault], 'root');
  }

  // ---- console bookkeeping (spec §3.2, §15) ----

  queenAttached(key: string): void {
    this.queens.add(key);
    this.root.cutReason = 'none';
    this.root.lastSeenMs = this.o.clock.wallMs();
    this.pushRoot();
  }

  /** A queen console session ended or re-attached; `clean` (QUIT, re-ATTACH) records no cut. */
  queenDetached(key: string, clean: boolean): void {
    if (!this.queens.delete(key)) return;
    this.root.lastSeenMs = this.o.clock.wallMs();
    if (!clean) this.root.cutReason = 'network_unreachable';
    this.pushRoot();
  }

  /** A queen credential was refused at ATTACH: with no queen active the root is cut by policy. */
  queenRefused(code: string): void {
    if (!CREDENTIAL_REFUSALS.has(code) || this.queens.size > 0) return;
    this.root.cutReason = 'policy_denied';
    this.pushRoot();
  }

  queenSeen(): void {
    this.root.lastSeenMs = this.o.clock.wallMs();
    this.pushRoot();
  }

  refusal(cls: keyof PressureFacts): void {
    this.pressure[cls]++;
    this.o.nineDoor.setPressure({ ...this.pressure });
  }

  /** Console ECHO to /log/queen.log: kept for the CAT digest (spec §3.3). */
  operatorLine(line: string): void {
    this.operator.push(line);
    if (this.operator.length > OPERATOR_LINES_MAX) this.operator.shift();
  }
  operatorLines(): string[] {
    return [...this.operator];
  }

  private pushRoot(): void {
    this.root.reachable = this.queens.size > 0 && this.lifecycle.state !== 'OFFLINE';
    this.o.nineDoor.setRoot({ ...this.root });
  }

  cutReason(): CutReason {
    return this.root.cutReason;
  }

  // ---- ordering ----

  /** Runs control writes one at a time: one waiting on a port holds the next back, so lines apply in order. */
  private serial(f: () => Later<NineError | undefined>): Answer<void> {
    if (this.inflight !== null) {
      const p = this.inflight.then(f);
      this.track(p);
      return p;
    }
    const r = f();
    if (r instanceof Promise) this.track(r);
    return r;
  }

  private track(p: Promise<unknown>): void {
    const settled = p.then(() => undefined, () => undefined);
    this.inflight = settled;
    void settled.then(() => {
      if (this.inflight === settled) this.inflight = null;
    });
  }
}
