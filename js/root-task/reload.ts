// Root-task's side of RELOAD (dev images): one staged upload at a time, checked, then swapped into the named tasks.
import type { ReloadResult, TaskInfo } from '../caps/index.js';
import { isCapError } from '../caps/index.js';
import { toHex } from '../bytes/utf8.js';
import { RELOAD_CHUNK_BYTES_MAX, ReloadRefusal, type ReloadOp } from '../console/reload.js';

/** Largest .qbc a RELOAD stages in root-task's arena (the biggest bundle, NineDoor, is ~120 KiB). */
export const RELOAD_STAGE_BYTES_MAX = 512 * 1024;
/** A staged upload untouched this long may be taken over by another session, in ms. */
export const RELOAD_STAGE_IDLE_MS = 30_000;
/** Where a .qbc header keeps its SHA-256, in bytes (engine/port/qbc.h QBC_DIGEST_OFFSET; checked by host/node/limits.test.ts). */
export const QBC_DIGEST_OFFSET = 72;
/** That SHA-256's length in bytes. */
export const QBC_DIGEST_BYTES = 32;

/** What the service needs of the task capability. */
export interface ReloadTasks {
  list(): TaskInfo[];
  reload(id: number, qbc: Uint8Array): ReloadResult;
  setBundle(task: string, qbc: Uint8Array): void;
}

export interface ReloadServiceOptions {
  /** The image's build profile: only `dev` reloads. */
  profile: string;
  /** root-task's own id: it holds the consoles, so it cannot swap itself. */
  selfId: number;
  tasks: ReloadTasks;
  /** The manifest's task names: a target naming one with no instance running sets the bundle only. */
  manifestTasks: readonly string[];
  nowMs(): number;
  log(line: string): void;
}

interface Stage {
  owner: string;
  target: string;
  digest: string;
  buf: Uint8Array;
  received: number;
  touchedMs: number;
}

/** CapError from the firmware's reload → the refusal an operator reads. */
function refusalOfCapError(e: unknown): ReloadRefusal {
  const message = e instanceof Error ? e.message : String(e);
  if (!isCapError(e)) return new ReloadRefusal('policy', 'internal', '', message);
  switch (e.code) {
    case 'Busy':
      return new ReloadRefusal('busy', 'busy', '', message);
    case 'NotFound':
      return new ReloadRefusal('policy', 'invalid-target', '', message);
    case 'Io':
      // The new code failed to load, start or restore (or snapshot() failed): the old code runs on.
      return new ReloadRefusal('policy', 'rolled-back', '', message);
    default:
      return new ReloadRefusal('policy', 'refused', '', message);
  }
}

export class ReloadService {
  private stage: Stage | null = null;

  constructor(private readonly o: ReloadServiceOptions) {}

  /** A release image refuses every stage, to anyone, and changes nothing. */
  gate(): ReloadRefusal | null {
    return this.o.profile === 'dev' ? null : new ReloadRefusal('policy', 'release-image');
  }

  /** Runs one stage for console session `session`: the OK detail, or why not. */
  handle(session: string, op: ReloadOp): string | ReloadRefusal {
    const gate = this.gate();
    if (gate !== null) return gate;
    switch (op.op) {
      case 'begin':
        return this.begin(session, op.target, op.bytes, op.digest);
      case 'data':
        return this.data(session, op.offset, op.chunk);
      case 'commit':
        return this.commit(session);
      case 'abort':
        // Only the session that staged an upload can drop it.
        if (this.stage?.owner !== session) return new ReloadRefusal('policy', 'no-staged-reload');
        this.stage = null;
        return 'stage=abort';
    }
  }

  /** The session ended: its staged upload goes. */
  abandon(session: string): void {
    if (this.stage?.owner === session) this.stage = null;
  }

  /** Tasks a target names: a label, or every running instance of a manifest task. */
  private targets(target: string): { tasks: TaskInfo[]; isTaskName: boolean } {
    const all = this.o.tasks.list().filter((t) => t.state === 'running');
    const byName = all.filter((t) => t.task === target);
    if (byName.length > 0) return { tasks: byName, isTaskName: true };
    return { tasks: all.filter((t) => t.label === target), isTaskName: false };
  }

  private begin(session: string, target: string, bytes: number, digest: string): string | ReloadRefusal {
    const now = this.o.nowMs();
    const s = this.stage;
    if (s !== null && s.owner !== session && now - s.touchedMs < RELOAD_STAGE_IDLE_MS) {
      return new ReloadRefusal('busy', 'reload-in-progress', `target=${s.target}`);
    }
    if (bytes > RELOAD_STAGE_BYTES_MAX) return new ReloadRefusal('quota', 'too-big', `max=${RELOAD_STAGE_BYTES_MAX}`);
    if (bytes <= QBC_DIGEST_OFFSET + QBC_DIGEST_BYTES) return new ReloadRefusal('policy', 'invalid-payload', '', 'shorter than a .qbc header');
    const { tasks } = this.targets(target);
    if (tasks.some((t) => t.id === this.o.selfId)) {
      return new ReloadRefusal('policy', 'not-reloadable', `target=${target}`, 'root-task holds the consoles: flash a new image instead');
    }
    if (tasks.length === 0 && !this.isManifestTask(target)) return new ReloadRefusal('policy', 'invalid-target', `target=${target}`);
    this.stage = { owner: session, target, digest, buf: new Uint8Array(bytes), received: 0, touchedMs: now };
    return `stage=begin target=${target} bytes=${bytes} chunk_max=${RELOAD_CHUNK_BYTES_MAX}`;
  }

  private data(session: string, offset: number, chunk: Uint8Array): string | ReloadRefusal {
    const s = this.stage;
    if (s === null || s.owner !== session) return new ReloadRefusal('policy', 'no-staged-reload');
    // In order, no gaps: a lost or repeated line shows up here, not as a corrupt file later.
    if (offset !== s.received) return new ReloadRefusal('policy', 'out-of-order', `expected=${s.received}`);
    if (offset + chunk.length > s.buf.length) return new ReloadRefusal('policy', 'invalid-payload', `bytes=${s.buf.length}`, 'past the announced size');
    s.buf.set(chunk, offset);
    s.received += chunk.length;
    s.touchedMs = this.o.nowMs();
    return `stage=data received=${s.received}`;
  }

  private commit(session: string): string | ReloadRefusal {
    const s = this.stage;
    if (s === null || s.owner !== session) return new ReloadRefusal('policy', 'no-staged-reload');
    this.stage = null;
    if (s.received !== s.buf.length) return new ReloadRefusal('policy', 'incomplete', `received=${s.received} bytes=${s.buf.length}`);
    if (toHex(s.buf.subarray(QBC_DIGEST_OFFSET, QBC_DIGEST_OFFSET + QBC_DIGEST_BYTES)) !== s.digest) {
      return new ReloadRefusal('policy', 'hash-mismatch', '', 'the file does not carry the announced digest');
    }
    const { tasks, isTaskName } = this.targets(s.target);
    if (tasks.some((t) => t.id === this.o.selfId)) return new ReloadRefusal('policy', 'not-reloadable', `target=${s.target}`);
    let restored = 0;
    let ms = 0;
    let swapped = 0;
    for (const t of tasks) {
      let r: ReloadResult;
      try {
        r = this.o.tasks.reload(t.id, s.buf);
      } catch (e) {
        this.o.log(`reload of ${t.label} refused: ${(e as Error).message}`);
        const refusal = refusalOfCapError(e);
        // Instances swapped before this one keep the new code (each swap is whole on its own): say how many.
        if (swapped === 0) return refusal;
        this.o.log(`reload of ${s.target}: ${swapped} of ${tasks.length} instances run the new code`);
        return new ReloadRefusal(refusal.cls, refusal.detail, `swapped=${swapped} of=${tasks.length}`, refusal.error);
      }
      swapped++;
      ms += r.ms;
      if (r.restored) restored++;
      const state = r.restored ? `state restored (${r.snapshotBytes} bytes)` : r.stateDropped ? 'state dropped: the new code has no restore()' : 'no state';
      this.o.log(`reloaded ${t.label} (id ${t.id}) in ${r.ms.toFixed(2)} ms, ${state}`);
    }
    // A manifest task name also changes what later spawns of it run.
    if (isTaskName || tasks.length === 0) {
      try {
        this.o.tasks.setBundle(s.target, s.buf);
      } catch (e) {
        return refusalOfCapError(e);
      }
    }
    return `stage=commit target=${s.target} tasks=${tasks.length} restored=${restored} ms=${ms.toFixed(2)}`;
  }

  private isManifestTask(name: string): boolean {
    return this.o.manifestTasks.includes(name);
  }
}
