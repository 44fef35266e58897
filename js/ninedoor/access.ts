// Who may walk, read or write which canonical path: the role views of spec §6 and the ticket scopes of §8.6, as pure functions.
import type { Principal } from '../secure9p/fileserver.js';
import type { TicketScope } from '../tickets/claims.js';
import { canonicalWorkerPath, workerCanonicalPath } from './shard.js';

export type Verb = 'walk' | 'read' | 'write';

/** What the views need to know about the hive: which GPUs a worker holds a lease on. */
export interface ViewFacts {
  leasedGpus(workerId: string): readonly string[];
}

/** True when `a` is a component-wise prefix of `b` (equal counts). */
export function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && isPrefix(a, b);

/** What every worker may read besides its own directory (spec §6 "Worker view"). */
const WORKER_READS: readonly (readonly string[])[] = [['proc'], ['proc', 'boot'], ['log'], ['log', 'queen.log']];
/** The GPU files a lease holder may read; of these it may write only `job` (spec §6). */
const GPU_HOLDER_READS = ['info', 'status', 'ctl', 'job'] as const;

/** `/host/*`: readable by workers when a host provider is enabled (spec §6, §13). */
const isHostPath = (p: readonly string[]) => p.length >= 2 && p[0] === 'host';

/** Whether roleAllows answers yes for every path and verb (the queen's view is the whole tree). */
export function roleSeesAll(who: Principal): boolean {
  return who.role === 'queen';
}

/**
 * The role check, on the canonical path (after bind/mount and /worker alias rewriting). The
 * queen may reach everything; node kind and gates are checked by the providers after this.
 */
export function roleAllows(who: Principal, canon: readonly string[], verb: Verb, facts: ViewFacts): boolean {
  if (roleSeesAll(who)) return true;
  if (who.role !== 'worker-heartbeat' && who.role !== 'worker-gpu') return false;
  if (who.identity === null) return false;
  const own = workerCanonicalPath(who.identity);
  const gpuReads = who.role === 'worker-gpu'
    ? facts.leasedGpus(who.identity).flatMap((g) => GPU_HOLDER_READS.map((f) => ['gpu', g, f]))
    : [];
  switch (verb) {
    case 'write':
      return same(canon, [...own, 'telemetry']) || gpuReads.some((p) => p[2] === 'job' && same(canon, p));
    case 'read':
      return WORKER_READS.some((p) => same(canon, p)) || isPrefix(own, canon) || isHostPath(canon) || gpuReads.some((p) => same(canon, p));
    case 'walk':
      // The chain down to anything readable, the own subtree, and the /worker alias directory itself.
      return isPrefix(own, canon) || isPrefix(canon, own) || same(canon, ['worker']) || canon[0] === 'host' ||
        WORKER_READS.some((p) => isPrefix(canon, p)) || gpuReads.some((p) => isPrefix(canon, p));
  }
}

/** A scope path as canonical components (`/worker/<id>` scopes cover the shard path). */
export function scopeComponents(path: string): readonly string[] {
  return canonicalWorkerPath(path.split('/').filter((c) => c !== ''));
}

/**
 * The scope that admits an access, or null (spec §8.6): its path must prefix the target; a walk
 * may also match an ancestor of a scope path (walking towards it), with any verb.
 */
export function matchScope(scopes: readonly TicketScope[], canon: readonly string[], verb: Verb): number | null {
  for (let i = 0; i < scopes.length; i++) {
    const s = scopes[i];
    const p = scopeComponents(s.path);
    if (verb === 'walk') {
      if (isPrefix(p, canon) || isPrefix(canon, p)) return i;
      continue;
    }
    if (!isPrefix(p, canon)) continue;
    if (s.verb === 'read-write' || s.verb === verb) return i;
  }
  return null;
}
