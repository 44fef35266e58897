// Root-task's side of UPDATE: who may stage an over-the-air image, resuming after a dropped connection, and the restart once it is installed.
import type { UpdateCap, UpdateStatus } from '../caps/index.js';
import { isCapError } from '../caps/index.js';
import { UPDATE_CHUNK_BYTES_MAX, UpdateRefusal, type UpdateOp } from '../console/update.js';

/** Largest image an update stages, in bytes: boot's bound (firmware/image.h IMAGE_BYTES_MAX, bindings/update.c; checked by host/node/limits.test.ts). */
export const UPDATE_IMAGE_BYTES_MAX = 16 * 1024 * 1024;
/**
 * A staged upload nobody touched for this long may be replaced by a different image, in ms. Within
 * it, a different image is refused (`update-in-progress`) so that a dropped uploader can resume.
 */
export const UPDATE_STAGE_IDLE_MS = 30_000;
/** Between the COMMIT answer and the restart, in ms: time for the answer to leave through the console relay. */
export const UPDATE_RESTART_DELAY_MS = 300;

export interface UpdateServiceOptions {
  update: UpdateCap;
  nowMs(): number;
  /** Runs fn once after ms (the restart waits for the COMMIT answer to go out). */
  later(ms: number, fn: () => void): void;
  log(line: string): void;
}

/** A CapError from the update capability → the refusal an operator reads. */
function refusalOfCapError(e: unknown, stage: string): UpdateRefusal {
  const message = e instanceof Error ? e.message : String(e);
  if (!isCapError(e)) return new UpdateRefusal('policy', 'internal', '', message);
  switch (e.code) {
    case 'ECAP':
      return new UpdateRefusal('policy', 'unsupported', '', 'root-task is not granted the update capability');
    case 'NotFound':
      return stage === 'begin' ? new UpdateRefusal('policy', 'no-slots', '', message) : new UpdateRefusal('policy', 'no-staged-update', '', message);
    case 'TooBig':
      return new UpdateRefusal('quota', 'too-big', `max=${UPDATE_IMAGE_BYTES_MAX}`, message);
    case 'Busy':
      return new UpdateRefusal('busy', 'restart-pending', '', message);
    case 'Io':
      return new UpdateRefusal('policy', 'io', '', message);
    default:
      return new UpdateRefusal('policy', 'invalid-payload', '', message);
  }
}

export class UpdateService {
  /** The console session that may send DATA and COMMIT; null once it went (the staged bytes stay, resumable). */
  private owner: string | null = null;
  private touchedMs = 0;
  private restarting = false;

  constructor(private readonly o: UpdateServiceOptions) {}

  handle(session: string, op: UpdateOp): string | UpdateRefusal {
    let st: UpdateStatus;
    try {
      st = this.o.update.status();
    } catch (e) {
      return refusalOfCapError(e, 'status');
    }
    if (op.op === 'status') {
      const staged = st.staged === null ? 'none' : `${st.staged.received}/${st.staged.bytes}`;
      return `stage=status running=${st.running ?? '-'} target=${st.target ?? '-'} staged=${staged} installed=${st.installed || this.restarting ? 1 : 0}`;
    }
    if (!st.slots) return new UpdateRefusal('policy', 'no-slots', '', 'this hive did not boot from A/B slots');
    if (this.restarting || st.installed) return new UpdateRefusal('busy', 'restart-pending', `slot=${st.target ?? '-'}`);
    try {
      switch (op.op) {
        case 'begin':
          return this.begin(session, st, op.bytes, op.digest);
        case 'data':
          return this.data(session, st, op.offset, op.chunk);
        case 'commit':
          return this.commit(session);
        case 'abort':
          if (this.owner !== session) return new UpdateRefusal('policy', 'no-staged-update');
          this.o.update.abort();
          this.owner = null;
          return 'stage=abort';
      }
    } catch (e) {
      return refusalOfCapError(e, op.op);
    }
  }

  /** The session ended: it no longer owns the upload, but the bytes stay staged for a resume. */
  abandon(session: string): void {
    if (this.owner === session) this.owner = null;
  }

  private begin(session: string, st: UpdateStatus, bytes: number, digest: string): string | UpdateRefusal {
    const now = this.o.nowMs();
    const same = st.staged !== null && st.staged.bytes === bytes && st.staged.digest === digest;
    // Another image while one is being sent (or may still be resumed): refused, the staged one untouched.
    if (st.staged !== null && !same && this.owner !== session && now - this.touchedMs < UPDATE_STAGE_IDLE_MS) {
      return new UpdateRefusal('busy', 'update-in-progress', `received=${st.staged.received} bytes=${st.staged.bytes}`);
    }
    if (bytes > st.bytesMax) return new UpdateRefusal('quota', 'too-big', `max=${st.bytesMax}`);
    const r = this.o.update.begin(bytes, digest);
    this.owner = session;
    this.touchedMs = now;
    if (r.resumed) this.o.log(`update: resuming the upload into slot ${r.slot} at ${r.offset} of ${bytes} bytes`);
    else this.o.log(`update: receiving ${bytes} bytes into slot ${r.slot}`);
    return `stage=begin slot=${r.slot} bytes=${bytes} offset=${r.offset} chunk_max=${UPDATE_CHUNK_BYTES_MAX}`;
  }

  private data(session: string, st: UpdateStatus, offset: number, chunk: Uint8Array): string | UpdateRefusal {
    if (this.owner !== session || st.staged === null) return new UpdateRefusal('policy', 'no-staged-update');
    // In order, no gaps (the device checks it too): a lost line shows up here, never as a corrupt image.
    if (offset !== st.staged.received) return new UpdateRefusal('policy', 'out-of-order', `expected=${st.staged.received}`);
    if (offset + chunk.length > st.staged.bytes) return new UpdateRefusal('policy', 'invalid-payload', `bytes=${st.staged.bytes}`, 'past the announced size');
    const received = this.o.update.write(offset, chunk);
    this.touchedMs = this.o.nowMs();
    return `stage=data received=${received}`;
  }

  private commit(session: string): string | UpdateRefusal {
    if (this.owner !== session) return new UpdateRefusal('policy', 'no-staged-update');
    const r = this.o.update.commit();
    if (r.refused !== undefined) {
      this.o.log(`update refused (${r.refused}): ${r.error}`);
      if (r.refused === 'incomplete') return new UpdateRefusal('policy', 'incomplete', '', r.error);
      this.owner = null;
      return new UpdateRefusal('policy', r.refused, '', r.error);
    }
    this.owner = null;
    this.restarting = true;
    this.o.log(`update: image ${r.imageId} installed in slot ${r.slot}; restarting into it in ${UPDATE_RESTART_DELAY_MS} ms`);
    this.o.later(UPDATE_RESTART_DELAY_MS, () => {
      try {
        this.o.update.restart();
      } catch (e) {
        this.o.log(`update: restart failed: ${(e as Error).message}`);
      }
    });
    return `stage=commit slot=${r.slot} image=${r.imageId} restart_ms=${UPDATE_RESTART_DELAY_MS}`;
  }
}
