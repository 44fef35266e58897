// Publishes a snapshot through /gpu/bridge/ctl (spec §11.3): begin, ≤124-char b64 chunks, end, then CAT status until state=ok or state=err.
import { base64Encode } from '../../js/bytes/base64.js';
import { BridgeError } from './errors.js';
import { requestAll, tokens, type ConsoleLink } from './link.js';
import { BRIDGE_CHUNK_CHARS_MAX, PUBLISH_STATUS_POLL_MS, PUBLISH_STATUS_POLLS_MAX } from './limits.js';
import type { EncodedSnapshot } from './snapshot-build.js';

export const BRIDGE_CTL = '/gpu/bridge/ctl';
export const BRIDGE_STATUS = '/gpu/bridge/status';

/** The ctl payloads of one publish. 124 is a multiple of 4, so every chunk but the last is whole base64 quanta. */
export function publishPayloads(e: EncodedSnapshot): string[] {
  const b64 = base64Encode(e.payload);
  const out = [`begin bytes=${e.payload.length} sha256=${e.sha256}`];
  for (let i = 0; i < b64.length; i += BRIDGE_CHUNK_CHARS_MAX) out.push(`b64:${b64.slice(i, i + BRIDGE_CHUNK_CHARS_MAX)}`);
  out.push('end');
  return out;
}

export interface PublishResult {
  bytes: number;
  sha256: string;
  /** ECHO lines sent (begin + chunks + end). */
  echoes: number;
  /** Bytes of request frames sent for the publish, headers included (bench). */
  wireBytes: number;
  /** The final status line, `state=ok bytes=<n> sha256=<hex>`. */
  status: string;
}

/** One CAT of /gpu/bridge/status: its first content line. */
export async function readBridgeStatus(link: ConsoleLink): Promise<string | BridgeError> {
  const r = await link.request(`CAT ${BRIDGE_STATUS}`);
  if (r instanceof BridgeError) return r;
  if (r.status !== 'OK') return new BridgeError('refused', `CAT ${BRIDGE_STATUS} → ERR ${r.label} ${r.rest}`);
  return r.lines[0] ?? '';
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/**
 * ECHO lines in flight during a publish. One: the hive turns every line after a refused one into
 * a new error (`b64 chunk without begin`) that overwrites the real reason in its status, so only a
 * window of one reports why a publish failed. bench/gpu_bridge.mjs measures the deeper window too.
 */
export const PUBLISH_WINDOW_DEFAULT = 1;

/**
 * Sends the publish and waits (bounded) for the hive's verdict. A refused line stops the publish:
 * the hive keeps its old install and reports `state=err reason=...`, which becomes the error message.
 */
export async function publishSnapshot(
  link: ConsoleLink, e: EncodedSnapshot, payloads: readonly string[] = publishPayloads(e), window = PUBLISH_WINDOW_DEFAULT,
): Promise<PublishResult | BridgeError> {
  const lines = payloads.map((p) => `ECHO ${BRIDGE_CTL} ${p}`);
  let wireBytes = 0;
  for (const l of lines) wireBytes += 4 + Buffer.byteLength(l, 'utf8');
  const sent = await requestAll(link, lines, window);
  if (sent.failure !== null) {
    if (sent.failure.code !== 'refused') return sent.failure;
    // Only an Invalid refusal is the channel's verdict, with its reason in the status. Any other (a
    // closed gate's EPERM, a session that may not write there) never reached the channel, whose
    // status still shows the last publish (`state=idle`): the refusal itself is the reason.
    if (sent.refused === null || tokens(sent.refused).get('detail') !== 'invalid-payload') {
      return new BridgeError('publish-failed', sent.failure.message);
    }
    const st = await readBridgeStatus(link);
    const why = typeof st === 'string' ? st : sent.failure.message;
    return new BridgeError('publish-failed', why);
  }
  for (let i = 0; i < PUBLISH_STATUS_POLLS_MAX; i++) {
    const st = await readBridgeStatus(link);
    if (st instanceof BridgeError) return st;
    if (st.startsWith('state=ok ')) {
      if (st !== `state=ok bytes=${e.payload.length} sha256=${e.sha256}`) return new BridgeError('publish-failed', `hive installed something else: ${st}`);
      return { bytes: e.payload.length, sha256: e.sha256, echoes: lines.length, wireBytes, status: st };
    }
    if (st.startsWith('state=err')) return new BridgeError('publish-failed', st);
    await sleep(PUBLISH_STATUS_POLL_MS);
  }
  return new BridgeError('publish-timeout', `${BRIDGE_STATUS} not state=ok after ${PUBLISH_STATUS_POLLS_MAX} polls`);
}
