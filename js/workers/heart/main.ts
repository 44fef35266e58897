// worker-heart: attaches to NineDoor with its ticket and appends a heartbeat record to its telemetry ring every tick.
import type { Caps, TaskConfig } from '../../caps/index.js';
import { NineError } from '../../secure9p/errors.js';
import { Appender } from '../appender.js';
import { closeNineDoor, routeNineDoor, sendToNineDoor } from '../link.js';

/** Default tick when the manifest or spawner gives none. */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 1000;
const HEARTBEAT_INTERVAL_MS_MIN = 10;

interface HeartArgs {
  ticket?: string;
  worker_id?: string;
  interval_ms?: number;
}

export default function main(caps: Caps, config: TaskConfig): void {
  const args = (config.args ?? {}) as HeartArgs;
  const interval = Math.max(HEARTBEAT_INTERVAL_MS_MIN, Number(args.interval_ms ?? HEARTBEAT_INTERVAL_MS_DEFAULT) || HEARTBEAT_INTERVAL_MS_DEFAULT);
  if (!args.ticket || !args.worker_id) {
    // A hive without NineDoor (diagnostic and test images): beat to the spawner over endpoint 0.
    let beats = 0;
    caps.timer.setInterval(() => {
      beats++;
      try {
        caps.channel.send(0, JSON.stringify({ tick: beats, ts_ms: Math.floor(caps.timer.wallMs()) }));
      } catch (e) {
        caps.log.write(`heartbeat ${beats} not sent: ${(e as Error).message}`);
      }
    }, interval);
    return;
  }
  let tick = 0;
  let timer = 0;
  const stop = (why: string): void => {
    caps.timer.clear(timer);
    caps.log.write(`heartbeat stopped after ${tick} ticks: ${why}`);
    closeNineDoor(caps);
  };
  const appender = new Appender((frame) => sendToNineDoor(caps, frame), () => caps.timer.nowMs());
  routeNineDoor(caps, appender, (reason) => stop(reason));
  void (async () => {
    // Empty uname: the ticket names the role and the worker (spec §0 attach rules).
    const opened = await appender.open(args.ticket!, ['worker', args.worker_id!, 'telemetry']);
    if (opened instanceof NineError) return stop(`telemetry ring refused: ${opened.message}`);
    timer = caps.timer.setInterval(() => {
      tick++;
      void appender.append(`${JSON.stringify({ tick, ts_ms: Math.floor(caps.timer.wallMs()) })}\n`).then((r) => {
        // Revoked (budget, ttl, kill) or refused: the session is over, so is the worker's job.
        if (r instanceof NineError) stop(`${r.code}: ${r.message}`);
      });
    }, interval);
  })();
}
