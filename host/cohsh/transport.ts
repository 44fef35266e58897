// The transport seam: a console link carries one line per frame each way; tcp, mock (and later the firmware's own) implement it.
import { encodeFrame } from '../../js/console/frame.js';
import { CohshError } from './errors.js';
import { INBOX_LINES_MAX, SEND_LINE_BYTES_MAX } from './limits.js';

/** One open console connection. Lines only: framing is the transport's business. */
export interface ConsoleLink {
  /** Sends one request line; an error when the link is closed or the line cannot be framed. */
  send(line: string): CohshError | null;
  /** The next received line; null at the deadline (monotonic ms); a `connection-lost` error once closed. */
  readLine(deadlineMs: number): Promise<string | null | CohshError>;
  isOpen(): boolean;
  /** Called once when the link closes for any reason other than `close()`. */
  onLost(cb: (reason: string) => void): void;
  close(): void;
}

/**
 * What every link shares: the received-line inbox and request framing. A link says only how a
 * framed request leaves (`deliver`) and how it hangs up (`hangUp`).
 */
export abstract class FramedLink implements ConsoleLink {
  protected readonly inbox = new LineInbox();

  protected abstract deliver(frame: Uint8Array): void;
  protected abstract hangUp(): void;

  send(line: string): CohshError | null {
    if (!this.inbox.isOpen()) return new CohshError('connection-lost', 'connection lost: not connected');
    const f = encodeFrame(line, SEND_LINE_BYTES_MAX);
    if (!(f instanceof Uint8Array)) return new CohshError('check', `line too long to send: ${f.message}`);
    this.deliver(f);
    return null;
  }
  readLine(deadlineMs: number): Promise<string | null | CohshError> {
    return this.inbox.read(deadlineMs);
  }
  isOpen(): boolean {
    return this.inbox.isOpen();
  }
  onLost(cb: (reason: string) => void): void {
    this.inbox.onLost(cb);
  }
  close(): void {
    this.inbox.closeLocal();
    this.hangUp();
  }
}

export interface Transport {
  /** `tcp`, `mock`: used in stderr tags (`[cohsh][tcp]`). */
  readonly name: string;
  /** Where it connects, for messages (`127.0.0.1:31337`). */
  readonly endpoint: string;
  open(timeoutMs: number): Promise<ConsoleLink | CohshError>;
}

export function monotonicMs(): number {
  return performance.now();
}

/**
 * Received lines waiting to be read, bounded (oldest dropped: lines nobody waits for are log
 * noise between commands), plus the close state. Shared by every link implementation.
 */
export class LineInbox {
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private closedReason: string | null = null;
  private lostCb: ((reason: string) => void) | null = null;
  private closedByUs = false;
  dropped = 0;

  push(line: string): void {
    if (this.closedReason !== null) return;
    if (this.lines.length >= INBOX_LINES_MAX) {
      this.lines.shift();
      this.dropped++;
    }
    this.lines.push(line);
    this.wake();
  }

  /** The peer or the network closed the link. */
  lost(reason: string): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.wake();
    if (!this.closedByUs) this.lostCb?.(reason);
  }

  /** We closed it: no lost callback. */
  closeLocal(): void {
    this.closedByUs = true;
    this.lost('closed by cohsh');
  }

  isOpen(): boolean {
    return this.closedReason === null;
  }

  onLost(cb: (reason: string) => void): void {
    this.lostCb = cb;
  }

  async read(deadlineMs: number): Promise<string | null | CohshError> {
    for (;;) {
      const next = this.lines.shift();
      if (next !== undefined) return next;
      if (this.closedReason !== null) return new CohshError('connection-lost', `connection lost: ${this.closedReason}`);
      const left = deadlineMs - monotonicMs();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = null;
          resolve();
        }, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
  }

  private wake(): void {
    this.waiter?.();
  }
}
