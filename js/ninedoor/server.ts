// NineDoor: builds the spec §6 tree, owns worker records, sessions and the hive log, and opens Secure9P sessions onto it.
import { utf8Decode, utf8Encode, utf8Length } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import type { Principal } from '../secure9p/fileserver.js';
import { nameProblem } from '../secure9p/names.js';
import type { AttachPolicy } from '../secure9p/principal.js';
import { Session } from '../secure9p/session.js';
import { BridgeChannel } from './bridge.js';
import { GATE_DENIED_PREFIX, gateDeniedLine, gateOpen, type Gate } from './gates.js';
import { GpuRoot, mockGpuNodes, type GpuFile } from './gpu.js';
import { IngestRoot, type IngestEvictPolicy } from './ingest.js';
import {
  QUEEN_LOG_LINE_BYTES_MAX, QUEEN_LOG_AUDIT_BYTES_MAX, QUEEN_LOG_RETAINED_BYTES_MAX, RING_BYTES_PER_WORKER, SERVICES_MAX, SESSIONS_MAX,
  WORKER_ID_BYTES_MAX, WORKERS_MAX,
} from './limits.js';
import { AUDIT_PREFIX, RefusalAudit, TICKET_DENY_PREFIX, WrapNotices, reasonCode, type Refusal } from './audit.js';
import { parseRole } from '../tickets/claims.js';
import { TicketError } from '../tickets/errors.js';
import { peekTicketRole } from '../tickets/token.js';
import { AppendFile, ControlFile, DirNode, GeneratedFile, ReadOnlyFile, RingFile, type NsNode } from './nodes.js';
import { NamespaceSession, type DoorInternals, type Handle, type WorkerFacts } from './nssession.js';
import type { HivePolicy, LogSink } from './policy.js';
import { TelemetryRing } from './ring.js';
import { allShardLabels, shardLabel } from './shard.js';
import type { GpuSnapshot } from './snapshot.js';
import { HiveState, type WorkerKind } from './state.js';
import { SELFTEST_NAMES, selftestScript } from './selftests.js';
import { LineStore } from './store.js';
import { parseAbsPath } from './binds.js';
import type { DoorState } from './handoff.js';

/** The role a refused ticket claims (unverified: the audit line's "asked for"), or null. */
function claimedRole(aname: string): string | null {
  if (aname === '') return null;
  const r = peekTicketRole(aname);
  return r instanceof TicketError ? null : r;
}

/** First line of /proc/boot (spec §6). */
export const BOOT_FIRST_LINE = 'Cohesix boot: root-task online';

// Declared beside the other hive facts, so handoff.ts need not import the server that imports it.
export type { WorkerKind } from './state.js';

/** The record half of a worker's session budget (spec §8.5); null or absent = unbounded. */
export interface WorkerBudget {
  opsMax?: number | null;
  /** Wall-clock (Unix ms) after which the worker's sessions are revoked with `ticket ttl expired`. */
  expiresAtMs?: number | null;
  ticks?: number | null;
}

export interface NineDoorOptions {
  policy: HivePolicy;
  /** Every line NineDoor keeps in /log/queen.log is mirrored here (firmware log, UART). */
  log: LogSink;
  /** Wall clock, Unix ms: js/ never reads a clock itself. */
  nowMs(): number;
  /** Ticket secrets and whether a ticketless queen may attach (dev images). */
  attach: AttachPolicy;
  /** Lines of /proc/boot after the first. */
  bootLines?: readonly string[];
  /** Spec §10.3's device-full policy; default evict-oldest. */
  ingestEvict?: IngestEvictPolicy;
  /** Seed GPU-0/GPU-1 before any publish (dev profile, spec §11.1). */
  mockGpus?: boolean;
  /** Trace every 9P frame to the log sink (lib9p's chatty9p). */
  trace?: boolean;
}

/** How a transport talks to its session. */
export interface SessionTransport {
  send(frame: Uint8Array): void;
  /** Optional: sends buf[0, length), copied before it returns (SessionOptions.sendPart). */
  sendPart?(buf: Uint8Array, length: number): void;
  /** The stream cannot be resynchronised: drop the connection. */
  close?(reason: string): void;
}

interface WorkerRecord extends WorkerFacts {
  id: string;
  dir: DirNode;
  ring: RingFile;
  sessions: Set<NamespaceSession>;
}

/** /worker: lists current worker ids; walks through it are rewritten to the shard path before they get here. */
class WorkerAliasDir extends DirNode {
  constructor(private readonly workers: Map<string, WorkerRecord>) {
    super();
  }
  override child(name: string): NsNode | undefined {
    return this.workers.get(name)?.dir;
  }
  override names(): string[] {
    return [...this.workers.keys()].sort();
  }
}

export class NineDoor {
  /** Lifecycle, root reachability and pressure as root-task last pushed them. */
  readonly state = new HiveState();
  readonly root = new DirNode();
  /** Audit lines (and the spec's `ui-ticket outcome=deny` lines) hold a share of it, so a flood never evicts operator lines. */
  private readonly queenLog = new LineStore(QUEEN_LOG_RETAINED_BYTES_MAX, QUEEN_LOG_LINE_BYTES_MAX, {
    prefixes: [AUDIT_PREFIX, TICKET_DENY_PREFIX],
    bytesMax: QUEEN_LOG_AUDIT_BYTES_MAX,
  });
  private readonly refusals = new RefusalAudit();
  private readonly wraps = new WrapNotices();
  private readonly workers = new Map<string, WorkerRecord>();
  private readonly sessions = new Map<number, NamespaceSession>();
  private readonly services = new Map<string, string>([['logs', '/log']]);
  private readonly shardDirs = new Map<string, DirNode>();
  private nextSessionId = 1;
  /** Highest n of a `worker-<n>` root-task has added: ids are never reused, so the next spawn gets n + 1. */
  private highestWorkerSeq = 0;
  readonly gpu: GpuRoot;
  readonly bridge: BridgeChannel;
  readonly ingest: IngestRoot;
  private readonly internals: DoorInternals;

  constructor(private readonly o: NineDoorOptions) {
    this.gpu = new GpuRoot((gpuId, file, text, io) => this.o.policy.gpuAppend?.(gpuId, file, text, io.who));
    this.bridge = new BridgeChannel((s) => this.installGpus(s));
    this.ingest = new IngestRoot(o.ingestEvict ?? 'evict-oldest', (l) => this.log(l));
    this.internals = this.makeInternals();
    this.build();
    if (o.mockGpus) this.gpu.installNodes(mockGpuNodes());
  }

  // ---- the tree ----

  private build(): void {
    const r = this.root;
    const gpu = r.add('gpu', this.gpu);
    const bridge = gpu.add('bridge', new DirNode());
    bridge.add('ctl', new ControlFile((text) => this.bridge.write(text) ?? undefined, 'host-publish'));
    bridge.add('status', new GeneratedFile(() => `${this.bridge.status()}\n`));
    // Spec §6 lists kmesg and trace in the root; their content is [LATER], so they stand empty.
    r.add('kmesg', new ReadOnlyFile());
    r.add('trace', new DirNode());
    const log = r.add('log', new DirNode());
    log.add('queen.log', new AppendFile(this.queenLog, null, (data) => {
      // A queen's own appends reach the firmware log too, one line at a time.
      for (const line of (utf8Decode(data) ?? '').split('\n')) if (line !== '') this.o.log(line);
    }));
    this.buildProc(r.add('proc', new DirNode()));
    const queen = r.add('queen', new DirNode());
    queen.add('ctl', new ControlFile((text, io) => this.o.policy.queenCtl(text, { who: io.who, session: io.session })));
    queen.add('lifecycle', new DirNode()).add('ctl', new ControlFile((text, io) => this.o.policy.lifecycleCtl(text, { who: io.who, session: io.session })));
    queen.add('telemetry', this.ingest);
    const shard = r.add('shard', new DirNode());
    for (const ll of allShardLabels()) this.shardDirs.set(ll, shard.add(ll, new DirNode()).add('worker', new DirNode()));
    r.add('worker', new WorkerAliasDir(this.workers));
  }

  private buildProc(proc: DirNode): void {
    const s = this.state;
    proc.add('boot', new ReadOnlyFile(utf8Encode([BOOT_FIRST_LINE, ...(this.o.bootLines ?? [])].join('\n') + '\n')));
    const gen = (dir: DirNode, name: string, render: () => string) => dir.add(name, new GeneratedFile(() => render() + '\n'));
    const lc = proc.add('lifecycle', new DirNode());
    gen(lc, 'state', () => `state=${s.lifecycle.state}`);
    gen(lc, 'reason', () => `reason=${s.lifecycle.reason}`);
    gen(lc, 'since', () => `since_ms=${s.lifecycle.sinceMs}`);
    const root = proc.add('root', new DirNode());
    gen(root, 'reachable', () => `reachable=${s.root.reachable ? 'yes' : 'no'}`);
    gen(root, 'last_seen_ms', () => `last_seen_ms=${s.root.lastSeenMs}`);
    gen(root, 'cut_reason', () => `cut_reason=${s.root.cutReason}`);
    const pressure = proc.add('pressure', new DirNode());
    for (const k of ['busy', 'quota', 'cut', 'policy'] as const) gen(pressure, k, () => `${k}=${s.pressure[k]}`);
    const session = proc.add('9p', new DirNode()).add('session', new DirNode());
    // No session drains today (close is immediate), so draining is always 0.
    gen(session, 'active', () => `active=${this.activeSessions()} draining=0`);
    // Spec §4.6: the self-test scripts; the view rules leave /proc/tests to the queen (workers read only /proc and /proc/boot).
    const tests = proc.add('tests', new DirNode());
    for (const name of SELFTEST_NAMES) tests.add(name, new GeneratedFile(() => selftestScript(name, `worker-${this.highestWorkerSeq + 1}`)));
  }

  private makeInternals(): DoorInternals {
    return {
      root: this.root,
      nowMs: () => this.o.nowMs(),
      gate: (g) => this.gate(g),
      log: (l) => this.log(l),
      audit: (r) => this.audit(r),
      auditLine: (key, line) => this.auditLine(key, line),
      lookup: (canon) => this.lookup(canon),
      worker: (id) => this.workers.get(id),
      service: (name) => this.services.get(name),
      leasedGpus: (id) => this.gpu.leasedBy(id),
      enrol: (s, id) => this.workers.get(id)?.sessions.add(s),
      revoked: (s, reason) => this.sessionRevoked(s, reason),
    };
  }

  lookup(canon: readonly string[]): NsNode | undefined {
    let n: NsNode | undefined = this.root;
    for (const name of canon) {
      if (!(n instanceof DirNode)) return undefined;
      n = n.child(name);
    }
    return n;
  }

  // ---- log and gates ----

  /** Appends one line to /log/queen.log and mirrors it to the sink; an overlong line is cut to the bound. */
  log(line: string): void {
    let l = line.replace(/\n/g, ' ');
    if (utf8Length(l) >= QUEEN_LOG_LINE_BYTES_MAX) l = l.slice(0, QUEEN_LOG_LINE_BYTES_MAX / 4);
    this.queenLog.append(utf8Encode(l));
    this.o.log(l);
  }

  /**
   * A refused authentication or authorization check (9P here, console ones from root-task): one
   * `[audit] refused ...` line, rate-bounded and summarised by RefusalAudit (docs/ninedoor.md).
   */
  audit(r: Refusal): void {
    for (const l of this.refusals.refusal(r, this.o.nowMs())) this.log(l);
  }

  /** A refusal line the spec words itself, under the same bounds, counted under `key`. */
  auditLine(key: string, line: string): void {
    for (const l of this.refusals.admit(key, line, this.o.nowMs())) this.log(l);
  }

  /** Lines kept in /log/queen.log, oldest first (console LOG shows the newest 64). */
  logLines(): string[] {
    return this.queenLog.lines();
  }

  /** Null when the gate is open in the current lifecycle state; else Permission, with the §9 line logged. */
  gate(g: Gate): NineError | null {
    const state = this.state.lifecycle.state;
    if (gateOpen(g, state)) return null;
    const line = gateDeniedLine(g, state);
    this.log(line);
    return new NineError('Permission', line);
  }

  // ---- sessions ----

  /** A new client (console, worker channel, 9P TCP): its Session speaks 9P2000.L onto this namespace. */
  openSession(t: SessionTransport): NamespaceSession | NineError {
    if (this.sessions.size >= SESSIONS_MAX) return new NineError('Busy', `more than ${SESSIONS_MAX} sessions`);
    const ns = new NamespaceSession(this.nextSessionId++, this.internals);
    ns.session = new Session<Handle>({
      fs: ns,
      send: t.send,
      sendPart: t.sendPart,
      close: t.close,
      // The session's own `revoked ...` line is dropped: NineDoor logs revocations once, with the worker id.
      log: (l) => {
        if (!l.startsWith('revoked ')) this.o.log(l);
      },
      trace: this.o.trace,
      nowMs: () => this.o.nowMs(),
      attach: this.o.attach,
      // A closed gate's refusal already wrote its §9 line (gate()): one line per refusal.
      refused: (op, who, uname, aname, reason) => {
        if (reason.startsWith(GATE_DENIED_PREFIX)) return;
        this.audit({
          src: '9p',
          op,
          role: who?.role ?? parseRole(uname.split(':')[0]) ?? claimedRole(aname),
          subject: who?.identity ?? who?.claims?.subject ?? uname,
          path: op === 'attach' ? '/' : null,
          reason: reasonCode(reason),
        });
      },
      onRevoke: (reason) => {
        if (!ns.quiet) this.sessionRevoked(ns, reason);
        this.unenrol(ns);
      },
    });
    this.sessions.set(ns.id, ns);
    return ns;
  }

  /** The transport is gone: the session's fids close and it stops counting as active. */
  endSession(ns: NamespaceSession): void {
    if (ns.ended) return;
    ns.revokeQuietly('session ended');
    ns.ended = true;
    this.sessions.delete(ns.id);
    this.unenrol(ns);
  }

  private unenrol(ns: NamespaceSession): void {
    for (const id of ns.identities) this.workers.get(id)?.sessions.delete(ns);
  }

  activeSessions(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.attached()) n++;
    return n;
  }

  session(id: number): NamespaceSession | undefined {
    return this.sessions.get(id);
  }

  /** A session revoked itself (budget, ttl, ticks): one log line, the worker's other sessions follow, root-task is told. */
  private sessionRevoked(ns: NamespaceSession, reason: string): void {
    const who = ns.who();
    this.log(`revoked ${who?.identity ?? who?.role ?? 'session'}: ${reason}`);
    for (const id of ns.identities) {
      for (const other of this.workers.get(id)?.sessions ?? []) if (other !== ns) other.revokeQuietly(reason);
    }
    this.o.policy.sessionRevoked?.({ sessionId: ns.id, who, reason });
  }

  // ---- workers (called by root-task policy) ----

  /** Creates /shard/<ll>/worker/<id>/telemetry and the /worker/<id> alias. Id taken → Busy. */
  addWorker(id: string, kind: WorkerKind, budget: WorkerBudget = {}): NineError | null {
    const bad = nameProblem(id);
    if (bad !== null || utf8Length(id) > WORKER_ID_BYTES_MAX) return new NineError('Invalid', `bad worker id: ${bad ?? 'too long'}`);
    if (this.workers.has(id)) return new NineError('Busy', `worker id ${id} exists`);
    if (this.workers.size >= WORKERS_MAX) return new NineError('Busy', `more than ${WORKERS_MAX} workers`);
    const seq = /^worker-([1-9][0-9]{0,8})$/.exec(id);
    if (seq !== null) this.highestWorkerSeq = Math.max(this.highestWorkerSeq, Number(seq[1]));
    const dir = new DirNode();
    const ring = dir.add('telemetry', new RingFile(new TelemetryRing((l) => this.log(l), RING_BYTES_PER_WORKER, (dropped, base) => {
      const line = this.wraps.wrapped(id, dropped, base, this.o.nowMs());
      if (line !== null) this.log(line);
    })));
    dir.mtimeMs = this.o.nowMs();
    (this.shardDirs.get(shardLabel(id)) as DirNode).add(id, dir);
    this.workers.set(id, {
      id, kind, dir, ring, sessions: new Set(),
      opsMax: budget.opsMax ?? null, expiresAtMs: budget.expiresAtMs ?? null, ticks: budget.ticks ?? null,
    });
    return null;
  }

  /**
   * Removes the worker's nodes, clears its GPU leases and revokes its sessions. With a reason
   * (kill: `killed by queen`) logs `revoked <id>: <reason>`; without one the revocation was
   * already logged (root-task answering sessionRevoked). Unknown id → NotFound.
   */
  removeWorker(id: string, reason?: string): NineError | null {
    const rec = this.workers.get(id);
    if (rec === undefined) return new NineError('NotFound', `unknown worker ${id}`);
    this.workers.delete(id);
    this.wraps.forget(id);
    this.shardDirs.get(shardLabel(id))?.children.delete(id);
    rec.dir.gone = true;
    rec.ring.gone = true;
    this.gpu.releaseAll(id);
    if (reason !== undefined) this.log(`revoked ${id}: ${reason}`);
    for (const s of [...rec.sessions]) s.revokeQuietly(reason ?? 'worker removed');
    return null;
  }

  workerIds(): string[] {
    return [...this.workers.keys()].sort();
  }

  /** A worker's ring, for console TAIL and root-task; null when there is no such worker. */
  workerRing(id: string): TelemetryRing | null {
    return this.workers.get(id)?.ring.ring ?? null;
  }

  // ---- GPUs (root-task policy and the bridge) ----

  /** Installs a decoded snapshot: /gpu/<id>/*, /gpu/models/*, /gpu/telemetry/schema.json. */
  installGpus(s: GpuSnapshot): NineError | null {
    const err = this.gpu.installNodes(s.nodes);
    if (err !== null) return err;
    this.gpu.installModels(s);
    return null;
  }

  /** Records a lease for the worker-gpu view (one per GPU); null worker clears it. Unknown GPU → NotFound, held → Busy. */
  setLease(gpuId: string, workerId: string | null): NineError | null {
    return this.gpu.setLease(gpuId, workerId);
  }

  /** Appends a line root-task writes (LEASE/RELEASE ctl lines, gpu-lease/v1 lines, status lines). */
  appendGpu(gpuId: string, file: Exclude<GpuFile, 'info'>, line: string): NineError | null {
    const g = this.gpu.gpu(gpuId);
    if (g === undefined) return new NineError('NotFound', `unknown GPU ${gpuId}`);
    const n = (g.file(file) as AppendFile).store.append(utf8Encode(line));
    return n instanceof NineError ? n : null;
  }

  // ---- hot reload ----

  /** What the next code of NineDoor needs to serve the same namespace content (handoff.ts carries it). */
  exportState(): DoorState {
    return {
      queenLog: this.queenLog.bytes(),
      lifecycle: { ...this.state.lifecycle },
      root: { ...this.state.root },
      pressure: { ...this.state.pressure },
      highestWorkerSeq: this.highestWorkerSeq,
      services: [...this.services],
      workers: [...this.workers.values()].map((w) => ({
        id: w.id, kind: w.kind, opsMax: w.opsMax, expiresAtMs: w.expiresAtMs, ticks: w.ticks,
        ringBase: w.ring.ring.base(), ring: w.ring.ring.retained(),
      })),
      gpus: this.gpu.gpuIds().map((id) => {
        const g = this.gpu.gpu(id)!;
        return {
          id, info: g.info.bytes(), ctl: g.ctl.store.bytes(), lease: g.lease.store.bytes(), status: g.status.store.bytes(),
          job: g.job.store.bytes(), holder: this.gpu.leaseHolder(id),
        };
      }),
      models: this.gpu.lastModels(),
      bridgeStatus: this.bridge.status(),
      ingest: this.ingest.exportDevices(),
    };
  }

  /** Installs what exportState() gave an earlier code; run on a fresh NineDoor before any session opens. */
  importState(d: DoorState): NineError | null {
    this.queenLog.reset(d.queenLog);
    this.state.setLifecycle(d.lifecycle);
    this.state.setRoot(d.root);
    this.state.setPressure(d.pressure);
    for (const [name, path] of d.services) this.services.set(name, path);
    for (const w of d.workers) {
      const err = this.addWorker(w.id, w.kind, { opsMax: w.opsMax, expiresAtMs: w.expiresAtMs, ticks: w.ticks });
      if (err !== null) return err;
      this.workers.get(w.id)!.ring.ring.reinstate(w.ringBase, w.ring);
    }
    this.highestWorkerSeq = Math.max(this.highestWorkerSeq, d.highestWorkerSeq);
    const nodes = d.gpus.map((g) => ({ id: g.id, info: g.info, ctl: g.ctl, lease: g.lease, status: g.status }));
    const err = this.gpu.installNodes(nodes);
    if (err !== null) return err;
    for (const g of d.gpus) {
      const jobErr = this.gpu.gpu(g.id)!.job.store.reset(g.job);
      if (jobErr !== null) return jobErr;
      if (g.holder !== null) this.gpu.setLease(g.id, g.holder);
    }
    if (d.models !== null) this.gpu.installModels(d.models);
    this.bridge.restoreStatus(d.bridgeStatus);
    return this.ingest.importDevices(d.ingest);
  }

  // ---- mount services ----

  /** Names a canonical path that `{"mount":{"service":...}}` may alias (`logs` → /log is built in). */
  registerService(name: string, path: string): NineError | null {
    if (nameProblem(name) !== null) return new NineError('Invalid', `bad service name ${name}`);
    const p = parseAbsPath(path, 'service path');
    if (p instanceof NineError) return p;
    if (!this.services.has(name) && this.services.size >= SERVICES_MAX) return new NineError('TooBig', `more than ${SERVICES_MAX} services`);
    this.services.set(name, path);
    return null;
  }
}
