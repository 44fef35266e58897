// worker-heart: attaches to NineDoor with its ticket and appends a heartbeat record to its telemetry ring every tick.
import type { Caps, TaskConfig, TaskHandle } from '../../caps/index.js';
import { NineError } from '../../secure9p/errors.js';
import { Appender } from '../appender.js';
import { closeNineDoor, routeNineDoor, sendToNineDoor } from '../link.js';

/** Default tick when the manifest or spawner gives none. */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 1000;
const HEARTBEAT_INTERVAL_MS_MIN = 10;
/**
 * Times a worker attaches again after NineDoor closes its session (NineDoor asks that when it is
 * hot-reloaded: the new code keeps the namespace, not the sessions). A bound, so a NineDoor that
 * keeps closing cannot keep a worker busy forever.
 */
export const HEARTBEAT_REATTACH_MAX = 8;

interface HeartArgs {
  ticket?: string;
  worker_id?: string;
  interval_ms?: number;
}

/** What a hot reload carries from this code to the next (TaskHandle). */
interface HeartState {
  tick: number;
  /** The NineDoor session is open (fids 1 and 2) with this msize; absent = not attached yet. */
  msize?: number;
}

function isHeartState(v: unknown): v is HeartState {
  const s = v as HeartState;
  return typeof v === 'object' && v !== null && Number.isSafeInteger(s.tick) && s.tick >= 0 &&
    (s.msize === undefined || Number.isSafeInteger(s.msize));
}

export default function main(caps: Caps, config: TaskConfig): TaskHandle {
  const args = (config.args ?? {}) as HeartArgs;
  const interval = Math.max(HEARTBEAT_INTERVAL_MS_MIN, Number(args.interval_ms ?? HEARTBEAT_INTERVAL_MS_DEFAULT) || HEARTBEAT_INTERVAL_MS_DEFAULT);
  let tick = 0;
  if (!args.ticket || !args.worker_id) {
    // A hive without NineDoor (diagnostic and test images): beat to the spawner over endpoint 0.
    caps.timer.setInterval(() => {
      tick++;
      try {
        caps.channel.send(0, JSON.stringify({ tick, ts_ms: Math.floor(caps.timer.wallMs()) }));
      } catch (e) {
        caps.log.write(`heartbeat ${tick} not sent: ${(e as Error).message}`);
      }
    }, interval);
    return {
      snapshot: (): HeartState => ({ tick }),
      restore: (s) => {
        if (isHeartState(s)) tick = s.tick;
      },
    };
  }
  /** The beat's interval; non-zero exactly while the session is open and beating. */
  let timer = 0;
  let resumed: HeartState | null = null;
  let reattaches = 0;
  /** Counts sessions: an append failing because its session was closed for a re-attach is not a stop. */
  let sessionGen = 0;
  const halt = (): void => {
    caps.timer.clear(timer);
    timer = 0;
  };
  const stop = (why: string): void => {
    halt();
    caps.log.write(`heartbeat stopped after ${tick} ticks: ${why}`);
    closeNineDoor(caps);
  };
  const appender = new Appender((frame) => sendToNineDoor(caps, frame), () => caps.timer.nowMs());
  const attach = async (): Promise<void> => {
    // Empty uname: the ticket names the role and the worker (spec §0 attach rules).
    const opened = await appender.open(args.ticket!, ['worker', args.worker_id!, 'telemetry']);
    if (opened instanceof NineError) return stop(`telemetry ring refused: ${opened.message}`);
    beat();
  };
  routeNineDoor(caps, appender, (reason) => {
    halt();
    if (reattaches >= HEARTBEAT_REATTACH_MAX) return stop(`${reason} (${HEARTBEAT_REATTACH_MAX} attaches already)`);
    reattaches++;
    sessionGen++;
    caps.log.write(`NineDoor session ${reason}: attaching again`);
    appender.reopenable();
    void attach();
  });
  const beat = (): void => {
    timer = caps.timer.setInterval(() => {
      tick++;
      const gen = sessionGen;
      void appender.append(`${JSON.stringify({ tick, ts_ms: Math.floor(caps.timer.wallMs()) })}\n`).then((r) => {
        // Revoked (budget, ttl, kill) or refused: the session is over, so is the worker's job.
        if (r instanceof NineError && gen === sessionGen) stop(`${r.code}: ${r.message}`);
      });
    }, interval);
  };
  // Started on the next pump turn, not here: after a hot reload, restore() runs right after main
  // and hands over the open session, which must not be attached again.
  caps.timer.setTimeout(() => {
    if (resumed?.msize !== undefined) {
      appender.resume(resumed.msize);
      return beat();
    }
    void attach();
  }, 0);
  return {
    snapshot: (): HeartState => (timer !== 0 ? { tick, msize: appender.msizeBytes() } : { tick }),
    restore: (s) => {
      if (!isHeartState(s)) return caps.log.write('reload: heartbeat state not understood; starting afresh');
      tick = s.tick;
      resumed = s;
    },
  };
}
