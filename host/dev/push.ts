// Pushes a rebuilt bundle into the running hive with cohsh's own reload path, and says in one line what the hive made of it.
import { ConsoleClient } from '../cohsh/client.js';
import { CohshError } from '../cohsh/errors.js';
import { RETRY_BACKOFF_MS_DEFAULT, RETRY_CEILING_MS_DEFAULT, RETRY_MAX_ATTEMPTS_DEFAULT, RETRY_TIMEOUT_MS_DEFAULT } from '../cohsh/limits.js';
import { CommandRecord } from '../cohsh/output.js';
import { runReload } from '../cohsh/reload.js';
import { TcpTransport } from '../cohsh/tcp-transport.js';
import { replyTokens } from '../../js/console/reply-parse.js';

/** root-task's manifest name: it holds the consoles, so a RELOAD cannot swap it (js/root-task/reload.ts). */
export const ROOT_TASK = 'root-task';
/** Idle PING on the push connection, in ms: keeps it attached between saves without a reconnect per push. */
const PUSH_HEARTBEAT_MS = 15_000;

/** Where the time from save to live code went, in ms. */
export interface PushTimings {
  /** The first change event of this build. */
  savedAtMs: number;
  rollupMs: number;
  cohcMs: number;
}

/** What one push came to: the line to print, and the figures a benchmark wants. */
export interface PushOutcome {
  ok: boolean;
  line: string;
  /** The swap as the hive timed it (COMMIT's ms=), when it held. */
  swapMs: number | null;
  /** BEGIN to COMMIT's answer, in ms. */
  uploadMs: number;
}

const round = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(0));

/** The line for a COMMIT ACK or a refusal (pure: the unit tests pin these). */
export function describePush(task: string, acks: readonly string[], errors: readonly string[], saveToLiveMs: number, t: PushTimings, uploadMs: number): PushOutcome {
  const commit = acks.find((a) => a.startsWith('OK RELOAD stage=commit'));
  const breakdown = `rollup ${round(t.rollupMs)} ms, cohc ${round(t.cohcMs)} ms, upload ${round(uploadMs)} ms`;
  if (commit !== undefined) {
    const k = replyTokens(commit.replace(/^OK RELOAD ?/, ''));
    const swap = Number(k.get('ms') ?? NaN);
    const tasks = Number(k.get('tasks') ?? 0);
    const restored = Number(k.get('restored') ?? 0);
    if (tasks === 0) {
      return { ok: true, swapMs: null, uploadMs, line: `[dev] ${task}: no instance running; later spawns run the new code (save → live ${round(saveToLiveMs)} ms; ${breakdown})` };
    }
    const state = restored === tasks ? '' : restored === 0 ? `, ${tasks === 1 ? 'its' : 'their'} state was not carried (no snapshot/restore)` : `, state carried in ${restored} of ${tasks}`;
    return {
      ok: true, swapMs: swap, uploadMs,
      line: `[dev] ${task} reloaded in ${round(swap)} ms (save → live ${round(saveToLiveMs)} ms; ${breakdown})${tasks > 1 ? ` into ${tasks} instances` : ''}${state}`,
    };
  }
  const err = acks.find((a) => a.startsWith('ERR'));
  if (err !== undefined) {
    const k = replyTokens(err.replace(/^ERR RELOAD ?/, ''));
    const detail = k.get('detail') ?? '';
    const why = (k.get('error') ?? '') === '' ? '' : `: ${err.slice(err.indexOf('error=') + 'error='.length)}`;
    if (detail === 'rolled-back') return { ok: false, swapMs: null, uploadMs, line: `[dev] ${task} NOT reloaded: the new code failed and was rolled back; the old code runs on${why}` };
    if (detail === 'not-reloadable') return { ok: false, swapMs: null, uploadMs, line: rootTaskLine(task) };
    if (detail === 'release-image') return { ok: false, swapMs: null, uploadMs, line: `[dev] ${task} NOT reloaded: the hive runs a release image, which refuses reloads` };
    return { ok: false, swapMs: null, uploadMs, line: `[dev] ${task} NOT reloaded; the old code runs on (${err})` };
  }
  return { ok: false, swapMs: null, uploadMs, line: `[dev] ${task} NOT reloaded: ${errors.join('; ') || 'no answer from the hive'}` };
}

export function rootTaskLine(task: string): string {
  return `[dev] ${task} changed, but it holds the consoles and cannot be hot-reloaded: restart (Ctrl-C, then npm run dev) to run it`;
}

/** One console connection, attached as queen, reused for every push. */
export class Pusher {
  private readonly client: ConsoleClient;
  private attached = false;

  constructor(host: string, port: number, authToken: string, diag: (line: string) => void) {
    this.client = new ConsoleClient({
      transport: new TcpTransport(host, port),
      authToken,
      retry: { maxAttempts: RETRY_MAX_ATTEMPTS_DEFAULT, backoffMs: RETRY_BACKOFF_MS_DEFAULT, ceilingMs: RETRY_CEILING_MS_DEFAULT, timeoutMs: RETRY_TIMEOUT_MS_DEFAULT },
      heartbeatMs: PUSH_HEARTBEAT_MS,
      reconnect: true,
      attachBarrier: true,
      diag,
    });
  }

  private async attach(): Promise<string | null> {
    if (this.attached && this.client.attachment() !== null) return null;
    const r = await this.client.attach('queen', null);
    if (r instanceof CohshError) return r.message;
    if (r.attachment === null) return `attach refused: ${r.collected.acks.join(' ')}`;
    this.attached = true;
    return null;
  }

  /** Uploads `qbc` as `cohsh reload <task> <qbc>` does and describes the result. */
  async push(task: string, qbc: string, t: PushTimings, now: () => number): Promise<PushOutcome> {
    if (task === ROOT_TASK) return { ok: false, swapMs: null, uploadMs: 0, line: rootTaskLine(task) };
    const e = await this.attach();
    if (e !== null) return { ok: false, swapMs: null, uploadMs: 0, line: `[dev] ${task} NOT reloaded: ${e}` };
    const rec = new CommandRecord(null);
    const t0 = now();
    await runReload(this.client, rec, task, qbc);
    const t1 = now();
    return describePush(task, rec.acks, rec.errors, t1 - t.savedAtMs, t, t1 - t0);
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
