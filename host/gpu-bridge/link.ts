// The console as gpu-bridge-host uses it: one request line → one reply (ACK, and a stream's lines), FIFO-matched, with a window helper.
import { replyTokens } from '../../js/console/reply-parse.js';
import { BridgeError } from './errors.js';
import { PIPELINE_DEPTH_MAX } from './limits.js';

export interface ConsoleReply {
  status: 'OK' | 'ERR';
  label: string;
  /** The ACK after its label (`path=... data=...`, `reason=... detail=...`). */
  rest: string;
  /** A stream's content lines (CAT, TAIL, LS, LOG), oldest first; empty for other verbs. */
  lines: string[];
}

/** A connected, authenticated, attached console session. */
export interface ConsoleLink {
  /** Sends one line; resolves with its reply, or an error (then the link is dead: `alive` is false). */
  request(line: string): Promise<ConsoleReply | BridgeError>;
  alive(): boolean;
  /** QUIT (best effort) and close. */
  close(): Promise<void>;
}

/** Verbs whose OK ACK is followed by content lines and END (spec §3.3). */
export const STREAM_VERBS: ReadonlySet<string> = new Set(['CAT', 'TAIL', 'LS', 'LOG']);

export function tokens(r: ConsoleReply): Map<string, string> {
  return replyTokens(r.rest);
}

/** `ERR <L> reason=.. detail=..` as an error value with the hive's own words. */
export function refusal(line: string, r: ConsoleReply): BridgeError {
  return new BridgeError('refused', `${line.slice(0, 80)} → ERR ${r.label} ${r.rest}`.slice(0, 300));
}

/**
 * Sends lines keeping at most `window` (≤ PIPELINE_DEPTH_MAX) in flight (the hive queues 8, oldest
 * dropped, so a deeper window could lose lines). Stops sending at the first ERR or error; answers
 * the replies in order up to the failing one. Lines already in flight when one fails still run on
 * the hive.
 */
export async function requestAll(
  link: ConsoleLink, lines: readonly string[], window = PIPELINE_DEPTH_MAX,
): Promise<{ replies: ConsoleReply[]; failure: BridgeError | null; refused: ConsoleReply | null }> {
  const depth = Math.max(1, Math.min(window, PIPELINE_DEPTH_MAX));
  const replies: ConsoleReply[] = [];
  let failure: BridgeError | null = null;
  let refused: ConsoleReply | null = null;
  let next = 0;
  const inFlight: Promise<ConsoleReply | BridgeError>[] = [];
  while ((next < lines.length || inFlight.length > 0) && failure === null) {
    while (next < lines.length && inFlight.length < depth) inFlight.push(link.request(lines[next++]));
    const i = replies.length;
    const r = await (inFlight.shift() as Promise<ConsoleReply | BridgeError>);
    if (r instanceof BridgeError) failure = r;
    else if (r.status === 'ERR') {
      failure = refusal(lines[i], r);
      refused = r;
    }
    else replies.push(r);
  }
  // Replies to lines already sent still arrive; wait for them so the link stays in step.
  for (const p of inFlight) await p;
  return { replies, failure, refused };
}
