// worker-heart: sends a heartbeat record to its spawner on every tick.
import type { Caps, TaskConfig } from '../../caps/index.js';

/** Default tick when the manifest or spawner gives none. */
export const HEARTBEAT_INTERVAL_MS_DEFAULT = 1000;
const HEARTBEAT_INTERVAL_MS_MIN = 10;

interface HeartArgs {
  interval_ms?: number;
}

export default function main(caps: Caps, config: TaskConfig): void {
  const args = (config.args ?? {}) as HeartArgs;
  const interval = Math.max(HEARTBEAT_INTERVAL_MS_MIN, Number(args.interval_ms ?? HEARTBEAT_INTERVAL_MS_DEFAULT) || HEARTBEAT_INTERVAL_MS_DEFAULT);
  let tick = 0;
  caps.timer.setInterval(() => {
    tick++;
    // The record form of spec §10.1; endpoint 0 leads to whoever spawned this worker.
    const record = JSON.stringify({ tick, ts_ms: Math.floor(caps.timer.wallMs()) });
    try {
      caps.channel.send(0, record);
    } catch (e) {
      // A full inbox means the spawner is behind: drop this beat rather than queue without bound.
      caps.log.write(`heartbeat ${tick} not sent: ${(e as Error).message}`);
    }
  }, interval);
}
