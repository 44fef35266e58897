// Which paths console TAIL may read and where a worker may ECHO (spec §3.3).

const TAIL_FIXED: ReadonlySet<string> = new Set(['/log/queen.log', '/proc/ingest/watch']);
/** Worker telemetry, by alias or canonical shard path (spec §6). */
const TAIL_TELEMETRY = /^(?:\/shard\/[0-9a-f]{2})?\/worker\/[^/]+\/telemetry$/;

export function isTailTarget(path: string): boolean {
  return TAIL_FIXED.has(path) || TAIL_TELEMETRY.test(path);
}

/** Non-queen sessions may ECHO only under the sidecar roots. */
const WORKER_ECHO_ROOTS = ['/bus/', '/lora/'];

export function workerMayEcho(path: string): boolean {
  return WORKER_ECHO_ROOTS.some((r) => path.startsWith(r));
}
