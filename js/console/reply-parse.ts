// Client side of console replies (spec §3.2): classify a received line as ACK, END, bare PONG or plain text.
import { END_LINE, PONG_LINE } from './reply.js';

export type ReplyLine =
  | { kind: 'ack'; status: 'OK' | 'ERR'; label: string; rest: string }
  | { kind: 'end' }
  /** A bare PONG: clients skip it (spec §3.2). */
  | { kind: 'pong' }
  /** Anything else (info lines, stream content, log lines flushed at any time). */
  | { kind: 'text'; text: string };

const ACK_RE = /^(OK|ERR) ([A-Z][A-Z0-9_-]*)(?: (.*))?$/;

export function parseReplyLine(line: string): ReplyLine {
  const t = line.trim();
  if (t === END_LINE) return { kind: 'end' };
  if (t === PONG_LINE) return { kind: 'pong' };
  const m = ACK_RE.exec(t);
  if (m === null) return { kind: 'text', text: line };
  return { kind: 'ack', status: m[1] as 'OK' | 'ERR', label: m[2], rest: (m[3] ?? '').trim() };
}

/**
 * `k=v` tokens of an ACK's rest. A word without `key=` belongs to the value before it, so
 * `detail=missing required argument: path` and `error=unsupported command: x` read whole.
 */
export function replyTokens(rest: string): Map<string, string> {
  const out = new Map<string, string>();
  let key: string | null = null;
  for (const word of rest.split(' ')) {
    const m = /^([a-z][a-z0-9_]*)=(.*)$/.exec(word);
    if (m !== null && !out.has(m[1])) {
      key = m[1];
      out.set(key, m[2]);
    } else if (key !== null) {
      out.set(key, `${out.get(key)} ${word}`);
    }
  }
  return out;
}
