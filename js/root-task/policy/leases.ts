// GPU lease lines (spec §11.2): the ctl, gpu-lease/v1 and status lines root-task writes when a lease starts and ends.
import type { LeaseSpec } from './ctl-parse.js';

export interface Lease extends LeaseSpec {
  workerId: string;
}

export const LEASE_SCHEMA = 'gpu-lease/v1';

/** `LEASE <worker> mem=<mb> streams=<n> priority=<p>` for /gpu/<id>/ctl. */
export function leaseCtlLine(l: Lease): string {
  return `LEASE ${l.workerId} mem=${l.memMb} streams=${l.streams} priority=${l.priority}`;
}

/** `RELEASE <worker> <reason>` for /gpu/<id>/ctl. */
export function releaseCtlLine(workerId: string, reason: string): string {
  return `RELEASE ${workerId} ${reason}`;
}

/** One gpu-lease/v1 line; fields in the spec's order. */
export function leaseRecordLine(l: Lease, state: 'ACTIVE' | 'RELEASED'): string {
  return JSON.stringify({
    schema: LEASE_SCHEMA,
    state,
    gpu_id: l.gpuId,
    worker_id: l.workerId,
    mem_mb: l.memMb,
    streams: l.streams,
    ttl_s: l.ttlS,
    priority: l.priority,
  });
}

/** The status line a released lease leaves in /gpu/<id>/status. */
export function leaseEndedStatusLine(workerId: string, reason: string): string {
  return JSON.stringify({ job: workerId, state: 'LEASE-ENDED', detail: reason });
}
