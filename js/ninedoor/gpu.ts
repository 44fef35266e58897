// /gpu (spec §11.1–§11.2): per-GPU nodes populated from outside, models and telemetry schema installs, and the lease-holder table views read.
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import type { Answer } from '../secure9p/fileserver.js';
import {
  GPU_CTL_BYTES_MAX, GPU_INFO_BYTES_MAX, GPU_JOB_BYTES_MAX, GPU_JOB_RECORD_BYTES_MAX, GPU_LEASE_BYTES_MAX, GPU_STATUS_BYTES_MAX, GPUS_MAX,
} from './limits.js';
import { checkJobDescriptor, JobDescriptorRefusal } from './gpu-job.js';
import { AppendFile, DirNode, ReadOnlyFile, type IoContext, type WriteCheck } from './nodes.js';
import type { GpuNodeSpec, GpuSnapshot } from './snapshot.js';
import { LineStore } from './store.js';

export type GpuFile = 'info' | 'ctl' | 'lease' | 'job' | 'status';

/** Called after a ctl or job line is stored, so root-task (or the host bridge) can act on it. */
export type GpuAppendHook = (gpuId: string, file: 'ctl' | 'job', text: string, io: IoContext) => Answer<void>;

/** A write whose every non-empty line passes `check` (its refusal message, or null): Invalid, nothing kept, otherwise. */
const eachLine = (what: string, check: (line: string) => string | null): WriteCheck => (data) => {
  const t = utf8Decode(data);
  if (t === null) return new NineError('Invalid', `${what} line is not UTF-8`);
  for (const line of t.split('\n')) {
    if (line === '') continue;
    const refused = check(line);
    if (refused !== null) return new NineError('Invalid', refused);
  }
  return null;
};

/** Lease and status lines must each be a JSON object (spec §11.2, §11.4). */
const jsonLines = (what: string): WriteCheck => eachLine(what, (line) => {
  try {
    const v: unknown = JSON.parse(line);
    return typeof v !== 'object' || v === null || Array.isArray(v) ? `${what} line is not a JSON object` : null;
  } catch {
    return `${what} line is not JSON`;
  }
});

/** Job lines must each be a §11.4 descriptor (fields, bytes_hash format, payload hash). */
const jobLines: WriteCheck = eachLine('job', (line) => {
  const r = checkJobDescriptor(line);
  return r instanceof JobDescriptorRefusal ? `job line refused: ${r.code}: ${r.message}` : null;
});

const utf8Only: WriteCheck = (data) => (utf8Decode(data) === null ? new NineError('Invalid', 'ctl line is not UTF-8') : null);

export class GpuDir extends DirNode {
  readonly info = new ReadOnlyFile();
  readonly ctl: AppendFile;
  readonly lease = new AppendFile(new LineStore(GPU_LEASE_BYTES_MAX, GPU_LEASE_BYTES_MAX), jsonLines('lease'));
  readonly job: AppendFile;
  readonly status = new AppendFile(new LineStore(GPU_STATUS_BYTES_MAX, GPU_STATUS_BYTES_MAX), jsonLines('status'));

  constructor(readonly gpuId: string, hook: GpuAppendHook, holder: () => string | null = () => null) {
    super();
    this.ctl = new AppendFile(new LineStore(GPU_CTL_BYTES_MAX, GPU_CTL_BYTES_MAX), utf8Only, (d, io) => hook(gpuId, 'ctl', utf8Decode(d) ?? '', io));
    // Spec §6/§11.4: only the current lease holder submits jobs. Checked before the line is kept, so
    // the host bridge (which cannot tell writers apart) never sees a job the holder did not write.
    const holderOnly: WriteCheck = (_d, io) => {
      const h = holder();
      if (h !== null && io.who.role === 'worker-gpu' && io.who.identity === h) return null;
      return new NineError('Permission', h === null ? `GPU ${gpuId} has no lease` : `jobs on GPU ${gpuId} are its lease holder's`);
    };
    this.job = new AppendFile(
      new LineStore(GPU_JOB_BYTES_MAX, GPU_JOB_RECORD_BYTES_MAX),
      (d, io) => io.gate('worker-job') ?? holderOnly(d, io) ?? jobLines(d, io),
      (d, io) => hook(gpuId, 'job', utf8Decode(d) ?? '', io),
    );
    this.add('info', this.info);
    this.add('ctl', this.ctl);
    this.add('lease', this.lease);
    this.add('job', this.job);
    this.add('status', this.status);
  }

  /** Replaces the host-owned files with a new publish; `job` is the workers' and is kept. */
  load(spec: GpuNodeSpec): NineError | null {
    if (spec.info.length > GPU_INFO_BYTES_MAX) return new NineError('TooBig', `info exceeds ${GPU_INFO_BYTES_MAX} bytes`);
    this.info.set(spec.info);
    return this.ctl.store.reset(spec.ctl) ?? this.lease.store.reset(spec.lease) ?? this.status.store.reset(spec.status);
  }

  file(f: GpuFile): AppendFile | ReadOnlyFile {
    return f === 'info' ? this.info : this[f];
  }
}

/** The dev profile's mock GPUs (spec §11.1), present before any publish. */
export function mockGpuNodes(): GpuNodeSpec[] {
  const mk = (id: string, name: string, memoryMb: number, smCount: number): GpuNodeSpec => ({
    id,
    info: utf8Encode(JSON.stringify({ id, name, memory_mb: memoryMb, sm_count: smCount, driver_version: '555.0', runtime_version: '12.4' })),
    ctl: utf8Encode(`LEASE ${id}\n`),
    lease: new Uint8Array(0),
    status: new Uint8Array(0),
  });
  return [mk('GPU-0', 'Mock 4090', 24576, 144), mk('GPU-1', 'Mock 4060', 8192, 64)];
}

/** /gpu: the bridge directory is added by the server; GPU dirs, models and telemetry come and go with installs. */
export class GpuRoot extends DirNode {
  private readonly gpus = new Map<string, GpuDir>();
  /** gpu id → worker id holding its lease (one lease per GPU, spec §11.2). */
  private readonly holders = new Map<string, string>();
  /** The models part of the last install, so a hot reload can install it again. */
  private models: GpuSnapshot | null = null;

  constructor(private readonly hook: GpuAppendHook) {
    super();
  }

  /** Installs GPU nodes: existing ids are reloaded in place (open fids stay valid), absent ones leave the tree. */
  installNodes(specs: readonly GpuNodeSpec[]): NineError | null {
    if (specs.length > GPUS_MAX) return new NineError('TooBig', `more than ${GPUS_MAX} GPUs`);
    const keep = new Set(specs.map((s) => s.id));
    for (const [id, dir] of this.gpus) {
      if (keep.has(id)) continue;
      dir.gone = true;
      for (const n of dir.children.values()) n.gone = true;
      this.gpus.delete(id);
      this.children.delete(id);
      this.holders.delete(id);
    }
    for (const s of specs) {
      let dir = this.gpus.get(s.id);
      if (dir === undefined) {
        const gid = s.id;
        dir = new GpuDir(gid, this.hook, () => this.holders.get(gid) ?? null);
        this.gpus.set(s.id, dir);
        this.add(s.id, dir);
      }
      const err = dir.load(s);
      if (err !== null) return err;
    }
    return null;
  }

  /** Installs /gpu/models/{available/<id>/manifest.toml,active} and /gpu/telemetry/schema.json, replacing earlier ones. */
  installModels(s: GpuSnapshot): void {
    this.models = { nodes: [], models: s.models, active: s.active, telemetrySchema: s.telemetrySchema };
    const models = new DirNode();
    const available = models.add('available', new DirNode());
    for (const m of s.models) available.add(m.id, new DirNode()).add('manifest.toml', new ReadOnlyFile(m.manifest));
    models.add('active', new ReadOnlyFile(utf8Encode(`${s.active}\n`)));
    const telemetry = new DirNode();
    telemetry.add('schema.json', new ReadOnlyFile(s.telemetrySchema));
    for (const old of ['models', 'telemetry']) {
      const o = this.children.get(old);
      if (o !== undefined) o.gone = true;
    }
    this.add('models', models);
    this.add('telemetry', telemetry);
  }

  lastModels(): GpuSnapshot | null {
    return this.models;
  }

  gpu(id: string): GpuDir | undefined {
    return this.gpus.get(id);
  }

  gpuIds(): string[] {
    return [...this.gpus.keys()].sort();
  }

  /** Records (or, with null, clears) the lease holder the worker-gpu view uses. */
  setLease(gpuId: string, workerId: string | null): NineError | null {
    if (!this.gpus.has(gpuId)) return new NineError('NotFound', `unknown GPU ${gpuId}`);
    if (workerId === null) {
      this.holders.delete(gpuId);
      return null;
    }
    const held = this.holders.get(gpuId);
    if (held !== undefined && held !== workerId) return new NineError('Busy', `GPU ${gpuId} already leased to ${held}`);
    this.holders.set(gpuId, workerId);
    return null;
  }

  leaseHolder(gpuId: string): string | null {
    return this.holders.get(gpuId) ?? null;
  }

  leasedBy(workerId: string): string[] {
    return [...this.holders].filter(([, w]) => w === workerId).map(([g]) => g).sort();
  }

  releaseAll(workerId: string): string[] {
    const gone = this.leasedBy(workerId);
    for (const g of gone) this.holders.delete(g);
    return gone;
  }
}
