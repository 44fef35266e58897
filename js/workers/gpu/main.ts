// worker-gpu: attaches with its ticket, confirms its lease from /gpu/<id>/ctl, and reports job status to its ring.
import type { Caps, TaskConfig } from '../../caps/index.js';
import { NineError } from '../../secure9p/errors.js';
import { closeNineDoor, nineDoorClient } from '../link.js';
import type { NineClient } from '../../secure9p/client.js';
import { OFFSET_AT_END } from '../../secure9p/limits.js';
import { OpenFlag } from '../../secure9p/opcodes.js';
import { utf8Decode, utf8Encode } from '../../bytes/utf8.js';

/** Walks to a path and opens it; the fid stays ours. */
async function openAt(client: NineClient, path: string, flags: number): Promise<number | NineError> {
  const fid = await client.walkPath(path);
  if (fid instanceof NineError) return fid;
  const o = await client.lopen(fid, flags);
  return o instanceof NineError ? o : fid;
}

/** How often the worker re-reads its GPU's status for job lines to report. */
export const GPU_POLL_INTERVAL_MS = 1000;
/** Bytes of /gpu/<id>/status read per poll (at most one frame's worth comes back). */
const STATUS_READ_BYTES_MAX = 4096;

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
    // Spec §6: a lease holder reads info|status|ctl|job (not `lease`, which is the queen's); the grant is the ctl LEASE line.
    const ctl = await client.readText(`/gpu/${gpu}/ctl`, STATUS_READ_BYTES_MAX);
    if (ctl instanceof NineError) return stop(`lease unreadable: ${ctl.message}`);
    const mine = ctl.split('\n').some((l) => l.startsWith(`LEASE ${args.worker_id} `));
    caps.log.write(mine ? `lease on ${gpu} active` : `no LEASE line on ${gpu} for ${args.worker_id}`);
    // Status lines of this worker's jobs are mirrored into its own ring (spec §11.4 telemetry records).
    // Budget: ops = streams × 8 (spec §7) and walk/open/read/write each cost one, so both fids stay
    // open, the poll asks Tgetattr (free) for the size, and reads and writes only when status grew.
    const statusFid = await openAt(client, `/gpu/${gpu}/status`, OpenFlag.RDONLY);
    if (statusFid instanceof NineError) return stop(`status unreadable: ${statusFid.message}`);
    const ringFid = await openAt(client, ring, OpenFlag.WRONLY | OpenFlag.APPEND);
    if (ringFid instanceof NineError) return stop(`ring unwritable: ${ringFid.message}`);
    let offset = 0n;
    let busy = false;
    timer = caps.timer.setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        const a = await client.getattr(statusFid);
        if (a instanceof NineError) return stop(`${a.code}: ${a.message}`);
        if (a.size < offset) offset = 0n; // the store dropped old lines: start over from what is kept
        if (a.size === offset) return;
        const d = await client.read(statusFid, offset, Math.min(STATUS_READ_BYTES_MAX, Number(a.size - offset)));
        if (d instanceof NineError) return stop(`${d.code}: ${d.message}`);
        const text = utf8Decode(d) ?? '';
        const cut = text.lastIndexOf('\n') + 1; // whole lines only
        offset += BigInt(utf8Encode(text.slice(0, cut)).length);
        const lines = text.slice(0, cut).split('\n').filter((l) => l.startsWith('{"job"'));
        if (lines.length === 0) return;
        const w = await client.write(ringFid, OFFSET_AT_END, utf8Encode(lines.join('\n') + '\n'));
        if (w instanceof NineError) return stop(`${w.code}: ${w.message}`);
      })().finally(() => {
        busy = false;
      });
    }, GPU_POLL_INTERVAL_MS);
  })();
}
