// worker-gpu: the lease holder. Attaches with its ticket, confirms its GPU is in its view, then holds the lease until it is killed or revoked.
//
// Its budget is ops = streams × 8 (spec §7), and walk/open/read/write each cost one, so it spends
// one op (the walk to its GPU's ctl) and then none: job lines come from the workload that holds its
// ticket (spec §11.4), and the host bridge appends RUNNING/OK/ERR records to this worker's ring
// itself (docs/gpu-bridge-host.md), so mirroring status here would only double them.
import type { Caps, TaskConfig } from '../../caps/index.js';
import { NineError } from '../../secure9p/errors.js';
import { NineClient } from '../../secure9p/client.js';
import { closeNineDoor, routeNineDoor, sendToNineDoor } from '../link.js';

/** Times the worker attaches again after NineDoor closes its session (a NineDoor hot reload asks that). */
export const GPU_WORKER_REATTACH_MAX = 8;

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
  let reattaches = 0;
  const stop = (why: string): void => {
    if (stopped) return;
    stopped = true;
    caps.log.write(`stopped: ${why}`);
    closeNineDoor(caps);
  };
  const newClient = (): NineClient => new NineClient({ send: (frame) => sendToNineDoor(caps, frame), nowMs: () => caps.timer.nowMs() });
  let client = newClient();
  const attach = async (): Promise<void> => {
    const c = client;
    const root = await c.connect('', args.ticket!);
    if (c !== client) return; // closed meanwhile; a newer attach runs
    if (root instanceof NineError) return stop(`attach refused: ${root.message}`);
    // Spec §6: the holder's view has /gpu/<id>/{info,status,ctl,job}; a walk there proves the grant reached NineDoor.
    const fid = await c.walkPath(`/gpu/${gpu}/ctl`);
    if (c !== client) return;
    if (fid instanceof NineError) return stop(`lease on ${gpu} not in view: ${fid.message}`);
    await c.clunk(fid);
    caps.log.write(`lease on ${gpu} active: mem=${args.lease!.mem_mb} streams=${args.lease!.streams} ttl=${args.lease!.ttl_s}s`);
  };
  // Replies go to whichever client is current: a re-attach after NineDoor closed the session gets a fresh one.
  routeNineDoor(caps, {
    receive: (f) => client.receive(f),
    expire: () => client.expire(),
    close: (reason) => client.close(reason),
  }, (reason) => {
    if (stopped) return;
    if (reattaches >= GPU_WORKER_REATTACH_MAX) return stop(`${reason} (${GPU_WORKER_REATTACH_MAX} attaches already)`);
    reattaches++;
    caps.log.write(`NineDoor session ${reason}: attaching again`);
    client = newClient();
    void attach();
  });
  void attach();
}
