// worker-gpu: attaches with its ticket, confirms its lease from /gpu/<id>/lease, and reports job status to its ring.
import type { Caps, TaskConfig } from '../../caps/index.js';
import { NineError } from '../../secure9p/errors.js';
import { closeNineDoor, nineDoorClient } from '../link.js';

/** How often the worker re-reads its GPU's status for job lines to report. */
export const GPU_POLL_INTERVAL_MS = 1000;
/** Bytes of /gpu/<id>/status read per poll. */
const STATUS_READ_BYTES_MAX = 32768;

interface GpuArgs {
  ticket?: string;
  worker_id?: string;
  lease?: { gpu_id: string; mem_mb: number; streams: number; ttl_s: number; priority: number };
}

export default function main(caps: Caps, config: TaskConfig): void {
  const args = (config.args ?? {}) as GpuArgs;
  if (!args.ticket || !args.worker_id || !args.lease) {
    caps.log.write('no ticket, worker id or lease: nothing to attach with');
    return;
  }
  const gpu = args.lease.gpu_id;
  const ring = `/worker/${args.worker_id}/telemetry`;
  let timer = 0;
  const stop = (why: string): void => {
    caps.timer.clear(timer);
    caps.log.write(`stopped: ${why}`);
    closeNineDoor(caps);
  };
  const client = nineDoorClient(caps, (reason) => stop(reason));
  void (async () => {
    const root = await client.connect('', args.ticket!);
    if (root instanceof NineError) return stop(`attach refused: ${root.message}`);
    const lease = await client.readText(`/gpu/${gpu}/lease`, STATUS_READ_BYTES_MAX);
    if (lease instanceof NineError) return stop(`lease unreadable: ${lease.message}`);
    const mine = lease.split('\n').filter((l) => l.includes('"state":"ACTIVE"') && l.includes(`"worker_id":"${args.worker_id}"`));
    caps.log.write(mine.length ? `lease on ${gpu} active` : `no ACTIVE lease on ${gpu} for ${args.worker_id}`);
    // Status lines of this worker's jobs are mirrored into its own ring (spec §11.4 telemetry records).
    let seen = 0;
    timer = caps.timer.setInterval(() => {
      void client.readText(`/gpu/${gpu}/status`, STATUS_READ_BYTES_MAX).then(async (text) => {
        if (text instanceof NineError) return stop(`${text.code}: ${text.message}`);
        const lines = text.split('\n').filter((l) => l.startsWith('{"job"'));
        for (const line of lines.slice(seen)) {
          const r = await client.append(ring, `${line}\n`);
          if (r instanceof NineError) return stop(`${r.code}: ${r.message}`);
        }
        seen = lines.length;
      });
    }, GPU_POLL_INTERVAL_MS);
  })();
}
