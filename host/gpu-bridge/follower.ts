// Follows leases and jobs of every published GPU over the console: enforces mem, streams and TTL host-side, runs jobs, appends their status.
import { utf8Length } from '../../js/bytes/utf8.js';
import type { Discovery, GpuFacts, GpuReading } from './discovery.js';
import { BridgeError } from './errors.js';
import { jobIdOf, JobRefusal, parseJob, type Job } from './job.js';
import { runJob, type KernelOutcome } from './kernels.js';
import { currentLease, releaseAppends, type LeaseGrant, type ReleaseReason } from './lease.js';
import type { ConsoleLink, ConsoleReply } from './link.js';
import {
  ECHO_PAYLOAD_BYTES_MAX, JOBS_QUEUED_PER_GPU_MAX, LEASE_STREAMS_MAX, MIB_BYTES, OUTBOX_APPENDS_MAX, PIPELINE_DEPTH_MAX, TELEMETRY_DEVICE,
} from './limits.js';

export interface FollowerOptions {
  /** The latest discovery (the CLI refreshes it every interval). */
  discovery(): Discovery;
  /** Wall clock in ms (injected so tests drive time). */
  nowMs(): number;
  log(line: string): void;
  /** Push GPU readings to /queen/telemetry/<TELEMETRY_DEVICE>/ (spec §10.3). */
  telemetry: boolean;
  /** The kernel runner; tests swap in a broken or slow one. */
  run?(job: Job): KernelOutcome;
}

interface HeldLease {
  grant: LeaseGrant;
  /** Earliest time the lease can have been granted: the last poll that did not show it (or first sight). */
  sinceMs: number;
  deadlineMs: number;
  /** Found ACTIVE on the first poll after start: its real age is unknown, so the TTL runs from first sight. */
  adopted: boolean;
}

interface GpuTrack {
  id: string;
  held: HeldLease | null;
  queue: Job[];
  /** Job lines already handled, by job id (or the raw line when it has none); pruned to the lines the file still holds. */
  seen: Set<string>;
  lastPollMs: number | null;
  /** Releases decided while the hive was unreachable: written when it answers again, if the lease is still ACTIVE there. */
  pendingReleases: { workerId: string; reason: ReleaseReason }[];
  ranThisStep: number;
  jobFileProblem: string | null;
}

export interface StepReport {
  gpus: number;
  jobsRun: number;
  releases: number;
  appends: number;
}

type Append = [path: string, payload: string];

const LEASE_ENDED = 'lease-ended';
const LEASE_EXPIRED = 'lease-expired';

export class Follower {
  private readonly tracks = new Map<string, GpuTrack>();
  private readonly outbox: Append[] = [];
  private segment: string | null = null;
  private telemetryOn: boolean;

  constructor(private readonly o: FollowerOptions) {
    this.telemetryOn = o.telemetry;
  }

  /** When the next lease expires (ms), so the caller's sleep never outlasts a TTL; null when none is held. */
  nextDeadlineMs(): number | null {
    let d: number | null = null;
    for (const t of this.tracks.values()) if (t.held !== null && (d === null || t.held.deadlineMs < d)) d = t.held.deadlineMs;
    return d;
  }

  /** The lease the bridge enforces on a GPU, or null. */
  held(gpuId: string): Readonly<HeldLease> | null {
    return this.tracks.get(gpuId)?.held ?? null;
  }

  queued(gpuId: string): number {
    return this.tracks.get(gpuId)?.queue.length ?? 0;
  }

  pendingAppends(): number {
    return this.outbox.length;
  }

  /** The hive restarted (or another publisher replaced our install): its leases are gone; queued jobs end, nothing is written. */
  forgetHive(): void {
    for (const t of this.tracks.values()) {
      t.queue.length = 0;
      t.held = null;
      t.pendingReleases.length = 0;
      t.seen.clear();
      t.lastPollMs = null;
    }
    this.outbox.length = 0;
    this.segment = null;
  }

  /** The hive is unreachable: leases still expire here on time; their release lines wait for the next step. */
  offlineTick(): void {
    const now = this.o.nowMs();
    for (const t of this.tracks.values()) {
      if (t.held !== null && now >= t.held.deadlineMs) {
        t.pendingReleases.push({ workerId: t.held.grant.workerId, reason: 'ttl-expired' });
        this.o.log(`lease ${t.id} ${t.held.grant.workerId} expired while the hive was unreachable; release pending`);
        this.endHeld(t, LEASE_EXPIRED);
      }
    }
  }

  /** One round: every GPU polled, leases enforced, jobs run, appends flushed, telemetry pushed. A dead link is an error; the state is kept. */
  async step(link: ConsoleLink): Promise<StepReport | BridgeError> {
    const report: StepReport = { gpus: 0, jobsRun: 0, releases: 0, appends: 0 };
    const d = this.o.discovery();
    for (const g of d.gpus) {
      const err = await this.pollGpu(link, g, report);
      if (err !== null) return err;
      report.gpus++;
    }
    // GPUs no longer discovered: their leases cannot be served; end them.
    for (const [id, t] of this.tracks) {
      if (d.gpus.some((g) => g.id === id)) continue;
      if (t.held !== null) this.release(t, 'bridge-stopped', report);
      this.tracks.delete(id);
    }
    const sent = await this.flush(link);
    report.appends = sent.count;
    if (sent.error !== null) return sent.error;
    if (this.telemetryOn) {
      const err = await this.pushTelemetry(link, d);
      if (err !== null) return err;
    }
    return report;
  }

  /** The bridge is stopping: release every lease it enforces (spec: release on kill), drain queues, flush. */
  async releaseAll(link: ConsoleLink | null, reason: ReleaseReason): Promise<BridgeError | null> {
    const report: StepReport = { gpus: 0, jobsRun: 0, releases: 0, appends: 0 };
    for (const t of this.tracks.values()) if (t.held !== null) this.release(t, reason, report);
    if (link === null) return new BridgeError('connection-lost', `${this.outbox.length} release appends not delivered: no hive connection`);
    return (await this.flush(link)).error;
  }

  private track(id: string): GpuTrack {
    let t = this.tracks.get(id);
    if (t === undefined) {
      t = { id, held: null, queue: [], seen: new Set(), lastPollMs: null, pendingReleases: [], ranThisStep: 0, jobFileProblem: null };
      this.tracks.set(id, t);
    }
    return t;
  }

  private async pollGpu(link: ConsoleLink, g: GpuFacts, report: StepReport): Promise<BridgeError | null> {
    const t = this.track(g.id);
    const first = t.lastPollMs === null;
    const paths = [`/gpu/${g.id}/lease`, `/gpu/${g.id}/ctl`, `/gpu/${g.id}/job`, ...(first ? [`/gpu/${g.id}/status`] : [])];
    const replies = await Promise.all(paths.map((p) => link.request(`CAT ${p}`)));
    for (const r of replies) if (r instanceof BridgeError) return r;
    const [lease, ctl, job, status] = replies as ConsoleReply[];
    if (lease.status !== 'OK' || ctl.status !== 'OK') {
      // Not (yet) installed on the hive: nothing to follow this round.
      this.o.log(`gpu ${g.id}: cannot read lease/ctl: ERR ${lease.status !== 'OK' ? lease.rest : ctl.rest}`);
      return null;
    }
    const now = this.o.nowMs();
    t.ranThisStep = 0;
    let hive = currentLease(g.id, lease.lines, ctl.lines).lease;

    for (const pr of t.pendingReleases.splice(0)) {
      if (hive !== null && hive.workerId === pr.workerId) {
        this.queueAppends(releaseAppends(g.id, pr.workerId, pr.reason));
        report.releases++;
        hive = null;
      }
    }
    if (t.held !== null && (hive === null || hive.workerId !== t.held.grant.workerId)) {
      this.o.log(`lease ${g.id} ${t.held.grant.workerId} ended by the hive`);
      this.endHeld(t, LEASE_ENDED);
    }
    if (t.held === null && hive !== null) this.adopt(t, g, hive, now, first, report);
    if (t.held !== null && now >= t.held.deadlineMs) this.release(t, 'ttl-expired', report);

    if (job.status === 'OK') {
      t.jobFileProblem = null;
      const done = first && status !== undefined && status.status === 'OK' ? statusJobIds(status.lines) : new Set<string>();
      this.admitNew(t, job.lines, done);
    } else if (t.jobFileProblem !== job.rest) {
      // e.g. `reason=quota detail=buffer-full`: the console streams ≤ 64 lines (spec §3.3), the job file holds more.
      t.jobFileProblem = job.rest;
      this.o.log(`gpu ${g.id}: cannot read the job file: ERR ${job.label} ${job.rest}`);
    }
    report.jobsRun += this.runQueued(t);
    t.lastPollMs = now;
    return null;
  }

  private adopt(t: GpuTrack, g: GpuFacts, l: LeaseGrant, now: number, first: boolean, report: StepReport): void {
    let violation: ReleaseReason | null = null;
    if (l.memMb > g.memoryMb) violation = 'mem-over-gpu';
    else if (l.streams < 1 || l.streams > LEASE_STREAMS_MAX) violation = 'streams-over-limit';
    if (violation !== null) {
      this.o.log(`lease ${g.id} ${l.workerId} refused: ${violation} (mem_mb=${l.memMb} of ${g.memoryMb}, streams=${l.streams} of ${LEASE_STREAMS_MAX})`);
      this.queueAppends(releaseAppends(g.id, l.workerId, violation));
      report.releases++;
      return;
    }
    // Counting the TTL from the last poll that did not show the lease errs early, never late.
    const since = t.lastPollMs ?? now;
    t.held = { grant: l, sinceMs: since, deadlineMs: since + l.ttlS * 1000, adopted: first };
    this.o.log(`lease ${g.id} ${l.workerId} mem=${l.memMb} streams=${l.streams} ttl=${l.ttlS}s${first ? ' (found at start: TTL from now)' : ''}`);
  }

  private release(t: GpuTrack, reason: ReleaseReason, report: StepReport): void {
    if (t.held === null) return;
    this.o.log(`lease ${t.id} ${t.held.grant.workerId} released: ${reason}`);
    this.queueAppends(releaseAppends(t.id, t.held.grant.workerId, reason));
    report.releases++;
    this.endHeld(t, reason === 'ttl-expired' ? LEASE_EXPIRED : LEASE_ENDED);
  }

  /** Forgets the lease; queued jobs drain as ERR (spec §11.2: after expiry queued jobs drain). */
  private endHeld(t: GpuTrack, detail: string): void {
    const worker = t.held?.grant.workerId ?? null;
    for (const j of t.queue.splice(0)) this.jobStatus(t, j.id, 'ERR', detail, worker);
    t.held = null;
  }

  private admitNew(t: GpuTrack, lines: readonly string[], done: ReadonlySet<string>): void {
    const keys = new Set<string>();
    for (const line of lines) {
      if (line.trim() === '') continue;
      let id: string | null = null;
      try {
        id = jobIdOf(JSON.parse(line));
      } catch {
        id = null;
      }
      const key = id ?? `line:${line}`;
      keys.add(key);
      if (t.seen.has(key)) continue;
      t.seen.add(key);
      if (id !== null && done.has(id)) continue; // handled before this bridge started
      this.admit(t, line);
    }
    // The job file is the bound: ids it no longer holds are forgotten.
    for (const k of t.seen) if (!keys.has(k)) t.seen.delete(k);
  }

  private admit(t: GpuTrack, line: string): void {
    const j = parseJob(line);
    const worker = t.held?.grant.workerId ?? null;
    if (j instanceof JobRefusal) return this.jobStatus(t, j.jobId ?? 'invalid', 'ERR', `invalid:${j.code}`, worker);
    if (t.held === null) return this.jobStatus(t, j.id, 'ERR', 'no-lease', null);
    if (j.memoryBytes > t.held.grant.memMb * MIB_BYTES) return this.jobStatus(t, j.id, 'ERR', 'mem-over-lease', worker);
    if (t.queue.length >= JOBS_QUEUED_PER_GPU_MAX) return this.jobStatus(t, j.id, 'ERR', 'queue-full', worker);
    t.queue.push(j);
    this.jobStatus(t, j.id, 'QUEUED', 'accepted', null);
  }

  /** Starts at most one job per leased stream this round (the streams bound); the rest stay QUEUED. */
  private runQueued(t: GpuTrack): number {
    if (t.held === null) return 0;
    const worker = t.held.grant.workerId;
    let n = 0;
    while (n < t.held.grant.streams && t.queue.length > 0) {
      const j = t.queue.shift() as Job;
      this.jobStatus(t, j.id, 'RUNNING', 'scheduled', worker);
      const started = this.o.nowMs();
      const out = (this.o.run ?? runJob)(j);
      const took = this.o.nowMs() - started;
      if (took > j.timeoutMs) this.jobStatus(t, j.id, 'ERR', 'timeout', worker);
      else if (out.ok) this.jobStatus(t, j.id, 'OK', 'completed', worker, out.result);
      else this.jobStatus(t, j.id, 'ERR', out.detail, worker);
      n++;
    }
    t.ranThisStep += n;
    return n;
  }

  /** A status line on /gpu/<id>/status, and the §10.1 record in the lease holder's telemetry ring. */
  private jobStatus(t: GpuTrack, jobId: string, state: string, detail: string, worker: string | null, result?: string): void {
    const line = JSON.stringify(result === undefined ? { job: jobId, state, detail } : { job: jobId, state, detail, result });
    this.queueAppends([[`/gpu/${t.id}/status`, line]]);
    if (worker !== null && state !== 'QUEUED') this.queueAppends([[`/worker/${worker}/telemetry`, JSON.stringify({ job: jobId, state, detail })]]);
  }

  private queueAppends(a: Append[]): void {
    for (const x of a) {
      if (utf8Length(x[1]) > ECHO_PAYLOAD_BYTES_MAX) {
        // Cannot happen with bounded ids (job ≤ 32, worker ≤ 32); guarded so a bound change shows here.
        this.o.log(`append to ${x[0]} dropped: ${utf8Length(x[1])} bytes over the ECHO bound`);
        continue;
      }
      if (this.outbox.length >= OUTBOX_APPENDS_MAX) this.o.log(`outbox full: dropped append to ${this.outbox.shift()?.[0]}`);
      this.outbox.push(x);
    }
  }

  /** ECHOes the outbox in order, ≤ PIPELINE_DEPTH_MAX in flight; an ERR drops that append (logged), a dead link keeps the rest. */
  private async flush(link: ConsoleLink): Promise<{ count: number; error: BridgeError | null }> {
    let count = 0;
    while (this.outbox.length > 0) {
      const batch = this.outbox.slice(0, PIPELINE_DEPTH_MAX);
      const replies = await Promise.all(batch.map(([p, x]) => link.request(`ECHO ${p} ${x}`)));
      for (let i = 0; i < replies.length; i++) {
        const r = replies[i];
        if (r instanceof BridgeError) {
          this.outbox.splice(0, i);
          return { count, error: r };
        }
        if (r.status !== 'OK') this.o.log(`append to ${batch[i][0]} refused: ERR ${r.label} ${r.rest}`);
        count++;
      }
      this.outbox.splice(0, batch.length);
    }
    return { count, error: null };
  }

  private reading(g: GpuFacts, d: Discovery): GpuReading {
    if (d.source !== 'mock') return g.reading;
    // Mock GPUs report what the bridge put on them: the leased memory, busy when a job ran this round.
    const t = this.tracks.get(g.id);
    return { memoryUsedMb: t?.held?.grant.memMb ?? 0, utilizationPct: (t?.ranThisStep ?? 0) > 0 ? 100 : 0, temperatureC: null, powerW: null };
  }

  /** One reading per GPU appended to the ingest device's current segment; a full segment rolls to a new one. */
  private async pushTelemetry(link: ConsoleLink, d: Discovery): Promise<BridgeError | null> {
    const base = `/queen/telemetry/${TELEMETRY_DEVICE}`;
    const ts = this.o.nowMs();
    for (const g of d.gpus) {
      const r = this.reading(g, d);
      const rec = JSON.stringify({ gpu: g.id, ts_ms: ts, mem_used_mb: r.memoryUsedMb, mem_total_mb: g.memoryMb, util_pct: r.utilizationPct, temp_c: r.temperatureC, power_w: r.powerW });
      for (let attempt = 0; attempt < 2; attempt++) {
        if (this.segment === null) {
          const seg = await this.openSegment(link, base);
          if (seg instanceof BridgeError) return seg.code === 'refused' ? this.stopTelemetry(seg.message) : seg;
          this.segment = seg;
        }
        const a = await link.request(`ECHO ${base}/seg/${this.segment} ${rec}`);
        if (a instanceof BridgeError) return a;
        if (a.status === 'OK') break;
        // A full segment (TooBig → quota/buffer-full) or an evicted one: roll once, then give up for this record.
        this.segment = null;
        if (attempt === 1) return this.stopTelemetry(`ERR ${a.label} ${a.rest}`);
      }
    }
    return null;
  }

  private async openSegment(link: ConsoleLink, base: string): Promise<string | BridgeError> {
    const c = await link.request(`ECHO ${base}/ctl {"new":"segment","mime":"application/x-ndjson"}`);
    if (c instanceof BridgeError) return c;
    if (c.status !== 'OK') return new BridgeError('refused', `ERR ${c.label} ${c.rest}`);
    const l = await link.request(`CAT ${base}/latest`);
    if (l instanceof BridgeError) return l;
    if (l.status !== 'OK' || l.lines.length === 0) return new BridgeError('refused', `CAT ${base}/latest: ${l.status} ${l.rest}`);
    return l.lines[l.lines.length - 1].trim();
  }

  private stopTelemetry(why: string): null {
    this.telemetryOn = false;
    this.o.log(`telemetry off: ${why}`);
    return null;
  }
}

/** Job ids that already have a status line (an earlier bridge run handled them). */
function statusJobIds(lines: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const l of lines) {
    try {
      const v = JSON.parse(l) as { job?: unknown; state?: unknown };
      if (typeof v.job === 'string' && v.state !== 'LEASE-ENDED') out.add(v.job);
    } catch {
      // not a job status line
    }
  }
  return out;
}
