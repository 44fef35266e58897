// worker-gpu: the lease holder. Attaches with its ticket, confirms its GPU is in its view, then holds the lease until it is killed or revoked.
//
// Its budget is ops = streams × 8 (spec §7), and walk/open/read/write each cost one, so it spends
// one op (the walk to its GPU's ctl) and then none: job lines come from the workload that holds its
// ticket (spec §11.4), and the host bridge appends RUNNING/OK/ERR records to this worker's ring
// itself (docs/gpu-bridge-host.md), so mirroring status here would only double them.
import type { Caps, TaskConfig } from '../../caps/index.js';
import { NineError } from '../../secure9p/errors.js';
import { closeNineDoor, nineDoorClient } from '../link.js';

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
  let stopped = false;
  const stop = (why: string): void => {
    if (stopped) return;
    stopped = true;
    caps.log.write(`stopped: ${why}`);
    closeNineDoor(caps);
  };
  const client = nineDoorClient(caps, (reason) => stop(reason));
  void (async () => {
    const root = await client.connect('', args.ticket!);
    if (root instanceof NineError) return stop(`attach refused: ${root.message}`);
    // Spec §6: the holder's view has /gpu/<id>/{info,status,ctl,job}; a walk there proves the grant reached NineDoor.
    const fid = await client.walkPath(`/gpu/${gpu}/ctl`);
    if (fid instanceof NineError) return stop(`lease on ${gpu} not in view: ${fid.message}`);
    await client.clunk(fid);
    caps.log.write(`lease on ${gpu} active: mem=${args.lease!.mem_mb} streams=${args.lease!.streams} ttl=${args.lease!.ttl_s}s`);
  })();
}
