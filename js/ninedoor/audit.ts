// Audit lines for refusals and telemetry ring wraps: one format, rate-bounded per key and in all, floods summarised (issue 13, bugs 9-10).
import {
  AUDIT_FIELD_CHARS_MAX, AUDIT_INTERVAL_MS, AUDIT_KEYS_MAX, AUDIT_LINES_PER_INTERVAL_MAX, AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX,
  RING_WRAP_NOTICE_INTERVAL_MS,
} from './limits.js';

/** Every line of this module starts so; queen.log holds such lines to their own share (QUEEN_LOG_AUDIT_BYTES_MAX). */
export const AUDIT_PREFIX = '[audit] ';
/** Spec §8.6's ticket denial lines (nssession.ts writes them): audit lines in all but the prefix, held to the same share. */
export const TICKET_DENY_PREFIX = 'ui-ticket outcome=deny';

/** One refused authentication or authorization check. */
export interface Refusal {
  /** Where it came in: `console` (TCP/UART console) or `9p` (a Secure9P session). */
  src: string;
  /** What was refused: auth, attach, walk, read, write. */
  op: string;
  /** The role asked for or held; null when none yet. */
  role: string | null;
  /** Who: ticket subject or worker id, else the peer or uname; null when unknown. */
  subject: string | null;
  /** The namespace path; null when the check had none (AUTH, ATTACH). */
  path: string | null;
  /** A stable code: permission, traversal, ticket-expired, invalid-token, ... */
  reason: string;
}

/** A field as one token: `-` for none, whitespace and controls as `_`, `=` kept, cut to AUDIT_FIELD_CHARS_MAX. */
export function auditField(v: string | null): string {
  if (v === null || v === '') return '-';
  const s = v.replace(/[\s\x00-\x1f\x7f]/g, '_');
  return s.length > AUDIT_FIELD_CHARS_MAX ? `${s.slice(0, AUDIT_FIELD_CHARS_MAX - 1)}~` : s;
}

/** A message as a reason code: `ticket expired` → `ticket-expired`. */
export function reasonCode(message: string): string {
  const s = message.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return auditField(s.slice(0, 48));
}

/** The key a refusal is counted under: its source, op and reason (never the subject, which an attacker picks). */
function keyOf(r: Refusal): string {
  return `src=${auditField(r.src)} op=${auditField(r.op)} reason=${auditField(r.reason)}`;
}

export function refusalLine(r: Refusal): string {
  return `${AUDIT_PREFIX}refused src=${auditField(r.src)} op=${auditField(r.op)} role=${auditField(r.role)} ` +
    `subject=${auditField(r.subject)} path=${auditField(r.path)} reason=${auditField(r.reason)}`;
}

const OVERFLOW_KEY = 'src=* op=* reason=*';

/**
 * Rate bound for refusal lines. Within one interval a key writes at most
 * AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX full lines and all keys at most AUDIT_LINES_PER_INTERVAL_MAX;
 * the rest are counted, and the first event after the interval writes one
 * `[audit] refusals suppressed count=<n> <key> interval_ms=<ms>` line per key that lost any.
 * Platform-free: the caller passes the clock.
 */
export class RefusalAudit {
  private windowStartMs: number | null = null;
  private linesThisWindow = 0;
  /** key → [full lines written, suppressed] in this window. */
  private readonly keys = new Map<string, [number, number]>();

  /** The lines to write for this refusal now (maybe none). */
  refusal(r: Refusal, nowMs: number): string[] {
    return this.admit(keyOf(r), refusalLine(r), nowMs);
  }

  /** As refusal, for a line the spec words itself (`ui-ticket outcome=deny ...`), counted under `key`. */
  admit(key: string, line: string, nowMs: number): string[] {
    const out = this.flush(nowMs);
    if (this.windowStartMs === null) this.windowStartMs = nowMs;
    let k = key;
    if (!this.keys.has(k) && this.keys.size >= AUDIT_KEYS_MAX - 1) k = OVERFLOW_KEY;
    const c = this.keys.get(k) ?? [0, 0];
    this.keys.set(k, c);
    if (c[0] < AUDIT_LINES_PER_KEY_PER_INTERVAL_MAX && this.linesThisWindow < AUDIT_LINES_PER_INTERVAL_MAX) {
      c[0]++;
      this.linesThisWindow++;
      out.push(line);
    } else {
      c[1]++;
    }
    return out;
  }

  /** Summaries of an interval that has ended (empty while it runs); the next event starts a new one. */
  flush(nowMs: number): string[] {
    if (this.windowStartMs === null || nowMs - this.windowStartMs < AUDIT_INTERVAL_MS) return [];
    const out: string[] = [];
    for (const [key, [, suppressed]] of this.keys) {
      if (suppressed > 0) out.push(`${AUDIT_PREFIX}refusals suppressed count=${suppressed} ${key} interval_ms=${AUDIT_INTERVAL_MS}`);
    }
    this.keys.clear();
    this.linesThisWindow = 0;
    this.windowStartMs = null;
    return out;
  }

  /** Refusals counted but not yet summarised. */
  pending(): number {
    let n = 0;
    for (const [, s] of this.keys.values()) n += s;
    return n;
  }
}

interface WrapTally {
  sinceMs: number;
  wraps: number;
  droppedBytes: number;
}

/**
 * Telemetry ring wraps, one line per worker per RING_WRAP_NOTICE_INTERVAL_MS: the first wrap of a
 * window writes `[audit] telemetry ring wrap dropped_bytes=<n> new_base=<n> worker=<id> wraps=<n>`
 * counting every wrap since the last line; wraps inside the window are only counted. A heartbeat
 * worker wraps its ring on every append once full, which filled queen.log with wrap lines before.
 * One tally per live worker (NineDoor forgets it when the worker goes), so WORKERS_MAX bounds it.
 */
export class WrapNotices {
  private readonly tallies = new Map<string, WrapTally>();

  wrapped(worker: string, droppedBytes: number, newBase: number, nowMs: number): string | null {
    const t = this.tallies.get(worker);
    if (t !== undefined && nowMs - t.sinceMs < RING_WRAP_NOTICE_INTERVAL_MS) {
      t.wraps++;
      t.droppedBytes += droppedBytes;
      return null;
    }
    const wraps = (t?.wraps ?? 0) + 1;
    const dropped = (t?.droppedBytes ?? 0) + droppedBytes;
    this.tallies.set(worker, { sinceMs: nowMs, wraps: 0, droppedBytes: 0 });
    return `${AUDIT_PREFIX}telemetry ring wrap dropped_bytes=${dropped} new_base=${newBase} worker=${auditField(worker)} wraps=${wraps}`;
  }

  forget(worker: string): void {
    this.tallies.delete(worker);
  }
}
