// Reads the hive's lease facts for one GPU (spec §11.2): the latest ACTIVE gpu-lease/v1 line not since released, and the release lines the bridge writes.

export const LEASE_SCHEMA = 'gpu-lease/v1';

export interface LeaseGrant {
  gpuId: string;
  workerId: string;
  memMb: number;
  streams: number;
  ttlS: number;
  priority: number;
}

const isU = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;

function parseLeaseLine(line: string): { state: 'ACTIVE'; grant: LeaseGrant } | { state: 'RELEASED'; workerId: string | null } | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (o.schema !== LEASE_SCHEMA) return null;
  if (o.state === 'RELEASED') return { state: 'RELEASED', workerId: typeof o.worker_id === 'string' ? o.worker_id : null };
  if (o.state !== 'ACTIVE') return null;
  if (typeof o.gpu_id !== 'string' || typeof o.worker_id !== 'string') return null;
  if (!isU(o.mem_mb) || !isU(o.streams) || !isU(o.ttl_s)) return null;
  const priority = o.priority === undefined ? 0 : o.priority;
  if (!isU(priority)) return null;
  return {
    state: 'ACTIVE',
    grant: { gpuId: o.gpu_id, workerId: o.worker_id, memMb: o.mem_mb as number, streams: o.streams as number, ttlS: o.ttl_s as number, priority: priority as number },
  };
}

/**
 * The current lease: the latest ACTIVE line (spec §11.2 "latest ACTIVE line = current lease"),
 * unless a later RELEASED lease line or any `RELEASE <worker>` ctl line ends it (worker ids are
 * never reused, so a RELEASE for the worker anywhere in ctl is final). Lines we cannot read are
 * skipped and counted.
 */
export function currentLease(gpuId: string, leaseLines: readonly string[], ctlLines: readonly string[]): { lease: LeaseGrant | null; unreadable: number } {
  let cur: LeaseGrant | null = null;
  let unreadable = 0;
  for (const l of leaseLines) {
    if (l.trim() === '') continue;
    const p = parseLeaseLine(l);
    if (p === null) unreadable++;
    else if (p.state === 'ACTIVE') cur = p.grant.gpuId === gpuId ? p.grant : cur;
    else if (cur !== null && (p.workerId === null || p.workerId === cur.workerId)) cur = null;
  }
  if (cur !== null) {
    const w = cur.workerId;
    if (ctlLines.some((l) => l.startsWith(`RELEASE ${w} `) || l === `RELEASE ${w}`)) cur = null;
  }
  return { lease: cur, unreadable };
}

/** Why the bridge ends a lease; also the `detail` of its LEASE-ENDED status line and the ctl RELEASE reason. */
export type ReleaseReason = 'ttl-expired' | 'mem-over-gpu' | 'streams-over-limit' | 'bridge-stopped';

/** The three appends of a release (spec §11.2), each fitting one console ECHO: [path, payload]. */
export function releaseAppends(gpuId: string, workerId: string, reason: ReleaseReason): [string, string][] {
  return [
    [`/gpu/${gpuId}/ctl`, `RELEASE ${workerId} ${reason}`],
    [`/gpu/${gpuId}/lease`, JSON.stringify({ schema: LEASE_SCHEMA, state: 'RELEASED', gpu_id: gpuId, worker_id: workerId })],
    [`/gpu/${gpuId}/status`, JSON.stringify({ job: workerId, state: 'LEASE-ENDED', detail: reason })],
  ];
}
