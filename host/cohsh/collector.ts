// The stream collector (spec §3.2, §3.5): match the ACK by label, collect lines until END, fail on a later ERR of the same label, skip PONG and unrelated lines.
import { parseReplyLine } from '../../js/console/reply-parse.js';
import { COLLECTOR_SKIPPED_LINES_MAX } from './limits.js';

/**
 * What a request waits for after its line is sent:
 * - `ack`: one ACK with the label (ECHO, CAT-less verbs, PING);
 * - `stream`: the ACK, content lines, `END` (TAIL, CAT, LS, LOG);
 * - `barrier`: the ACK, then the `OK PING` of a PING sent right behind the request, so a
 *   forwarding failure (a second `ERR <label>`, §3.5) cannot arrive after we moved on (ATTACH).
 */
export type CollectMode = 'ack' | 'stream' | 'barrier';

export interface Collected {
  ok: boolean;
  /** ACK lines of this request, in order (an `OK` then maybe an `ERR` of the same label). */
  acks: string[];
  /** Stream content lines (never END, never a bare PONG). */
  lines: string[];
  /** Set when the collector gave up (too many unrelated lines). */
  problem: string | null;
}

type State = 'await-ack' | 'collect' | 'await-barrier' | 'done';

/** Labels the server uses for a line it could not take at all: the answer to whatever we sent. */
const LINE_REFUSAL_LABELS: ReadonlySet<string> = new Set(['PARSE', 'FRAME']);
const BARRIER_LABEL = 'PING';

export class StreamCollector {
  private state: State = 'await-ack';
  private ok = true;
  private readonly acks: string[] = [];
  private readonly lines: string[] = [];
  private skipped = 0;
  private problem: string | null = null;

  constructor(
    readonly label: string,
    readonly mode: CollectMode,
  ) {}

  done(): boolean {
    return this.state === 'done';
  }

  /** Feeds one received line; returns true once the request is complete. */
  feed(raw: string): boolean {
    if (this.state === 'done') return true;
    const r = parseReplyLine(raw);
    switch (this.state) {
      case 'await-ack':
        if (r.kind === 'ack' && (r.label === this.label || (r.status === 'ERR' && LINE_REFUSAL_LABELS.has(r.label)))) {
          this.acks.push(raw.trim());
          if (r.status === 'ERR') {
            this.ok = false;
            this.state = this.mode === 'barrier' ? 'await-barrier' : 'done';
          } else {
            this.state = this.mode === 'stream' ? 'collect' : this.mode === 'barrier' ? 'await-barrier' : 'done';
          }
          return this.done();
        }
        return this.skip();
      case 'collect':
        if (r.kind === 'end') {
          this.state = 'done';
          return true;
        }
        if (r.kind === 'pong') return false;
        if (r.kind === 'ack' && r.status === 'ERR' && r.label === this.label) {
          this.acks.push(raw.trim());
          this.ok = false;
          this.state = 'done';
          return true;
        }
        this.lines.push(raw);
        return false;
      case 'await-barrier':
        if (r.kind === 'ack' && r.label === this.label && r.status === 'ERR') {
          this.acks.push(raw.trim());
          this.ok = false;
          return false;
        }
        if (r.kind === 'ack' && r.label === BARRIER_LABEL) {
          this.state = 'done';
          return true;
        }
        return this.skip();
    }
  }

  result(): Collected {
    return { ok: this.ok && this.problem === null, acks: [...this.acks], lines: [...this.lines], problem: this.problem };
  }

  private skip(): boolean {
    this.skipped++;
    if (this.skipped <= COLLECTOR_SKIPPED_LINES_MAX) return false;
    this.problem = `no ${this.label} reply within ${COLLECTOR_SKIPPED_LINES_MAX} unrelated lines`;
    this.ok = false;
    this.state = 'done';
    return true;
  }
}
