// Worker sharding (spec §6): label = first byte of SHA-256(worker id) >> (8 − shard bits), as two lowercase hex digits.
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8Encode } from '../bytes/utf8.js';
import { SHARD_BITS } from './limits.js';

export function shardLabel(workerId: string, shardBits: number = SHARD_BITS): string {
  const first = sha256(utf8Encode(workerId))[0];
  const v = first >> (8 - shardBits);
  return (v < 16 ? '0' : '') + v.toString(16);
}

/** Every label for a shard width, in order (created at boot). */
export function allShardLabels(shardBits: number = SHARD_BITS): string[] {
  const out: string[] = [];
  for (let i = 0; i < 1 << shardBits; i++) out.push((i < 16 ? '0' : '') + i.toString(16));
  return out;
}

/** Canonical components of a worker's directory: /shard/<ll>/worker/<id>. */
export function workerCanonicalPath(workerId: string): string[] {
  return ['shard', shardLabel(workerId), 'worker', workerId];
}

/**
 * Rewrites the alias /worker/<id>/... to /shard/<ll>/worker/<id>/... so policy is checked on the
 * canonical path; other paths come back unchanged: the same array, not a copy (every walk step
 * asks, and a copy per step was measurable inside quickjs-ng).
 */
export function canonicalWorkerPath(components: readonly string[]): readonly string[] {
  if (components.length >= 2 && components[0] === 'worker') return [...workerCanonicalPath(components[1]), ...components.slice(2)];
  return components;
}
