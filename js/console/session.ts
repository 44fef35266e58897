// One TCP console session (spec §2): AUTH deadline and rows, framing rules per phase, idle timeout, QUIT, replies as frames.
//
// The transport drives it: bytes in (`receive`), frames out (`ConsoleTransport.write`), time in
// (`tick`, and the `nowMs` passed with each call), peer gone (`peerClosed`). It never reads a
// clock and never sets a timer; `nextDeadlineMs` says when the next `tick` matters.
import { utf8Encode, utf8Length } from '../bytes/utf8.js';
import type { AttachGuard } from './attach-guard.js';
import type { AuthRefusalRow, CloseReason, ConsoleBackend, ExtraVerbs } from './backend.js';
import { ConsoleDispatcher } from './dispatch.js';
import { encodeFrame, FrameDecoder, type FrameEvent } from './frame.js';
import { AUTH_DEADLINE_MS, FRAME_REPLY_PAYLOAD_BYTES_MAX, IDLE_TIMEOUT_MS, INBOUND_BACKLOG_BYTES_MAX } from './limits.js';
import { errLine, okLine } from './reply.js';
import { ParseError } from './request.js';
import { CommandRunner } from './runner.js';
import { truncateUtf8 } from './text.js';

/** Where a session's bytes go. `write` may throw (a full send buffer): the session then ends. */
export interface ConsoleTransport {
  write(bytes: Uint8Array): void;
  /** Close after flushing what was written. Called once, when the session ends. */
  close(): void;
  /**
   * Stop (true) or resume (false) reading the peer: TCP back-pressure while the inbound queue is
   * full (issue 13 bug 3). Absent: the transport cannot pause, and the backlog bound applies alone.
   */
  pauseReads?(paused: boolean): void;
}

export type TcpPhase = 'await-auth' | 'authed' | 'attached' | 'closed';

const AUTH_PREFIX = 'AUTH ';
/** The table has no authenticated slot (spec §0 item 2), or an unauthenticated connection was evicted. */
export const AUTH_BUSY_LINE = errLine('AUTH', 'reason=busy');
/** The reply to a frame over the bound after AUTH (spec §2, §15). */
export const FRAME_INVALID_LENGTH_LINE = errLine('FRAME', 'reason=invalid-length');
/** Bytes kept coming past INBOUND_BACKLOG_BYTES_MAX although reads were paused: the session is cut with this. */
export const BACKLOG_FULL_LINE = errLine('FRAME', 'reason=busy detail=backlog-full');
/** Our choice for a non-UTF-8 frame after AUTH: a parse refusal, session kept (spec §15 "bad input"). */
export const INVALID_UTF8_LINE = new ParseError('invalid-value', 'line').line();

export interface TcpSessionOptions {
  /** The configured AUTH token (manifest; `changeme` on dev images). */
  authToken: string;
  backend: ConsoleBackend;
  /** This peer's ATTACH guard (AttachGuardTable.get(peerHost)). */
  guard: AttachGuard;
  transport: ConsoleTransport;
  /** When the connection was accepted: the AUTH deadline runs from here. */
  nowMs: number;
  extraVerbs?: ExtraVerbs;
  /** Input-less time after which an authenticated session is closed; IDLE_TIMEOUT_MS (spec §2) when absent. */
  idleTimeoutMs?: number;
  /** Called once when the session ends, after the transport is closed (the session table uses it). */
  onEnd?: (reason: CloseReason) => void;
  /**
   * Called when AUTH passes, before `OK AUTH`: false when no authenticated slot is free (the
   * session then gets `ERR AUTH reason=busy` and ends). Absent: always admitted.
   */
  admit?: () => boolean;
}

/** Compares in time that does not depend on where equal-length strings differ (the length row already tells lengths). */
function sameSecret(a: string, b: string): boolean {
  const x = utf8Encode(a);
  const y = utf8Encode(b);
  if (x.length !== y.length) return false;
  let d = 0;
  for (let i = 0; i < x.length; i++) d |= x[i] ^ y[i];
  return d === 0;
}

export class TcpConsoleSession {
  private readonly decoder = new FrameDecoder('server');
  private readonly dispatcher: ConsoleDispatcher;
  private readonly runner: CommandRunner;
  private authed = false;
  private ended: CloseReason | null = null;
  private readonly authDeadlineMs: number;
  private lastInputMs: number;
  /**
   * Received bytes not yet decoded, oldest first (issue 13 bug 3): frames are decoded only while
   * the inbound queue has room, so pipelined lines wait here, and the socket is paused, instead
   * of being dropped.
   */
  private readonly backlog: Uint8Array[] = [];
  private backlogBytes = 0;
  private draining = false;
  private paused = false;
  /** Times reads were paused (the back-pressure counter). */
  private pauses = 0;

  constructor(private readonly opts: TcpSessionOptions) {
    this.authDeadlineMs = opts.nowMs + AUTH_DEADLINE_MS;
    this.lastInputMs = opts.nowMs;
    this.dispatcher = new ConsoleDispatcher(opts.backend, opts.guard, (l) => this.writeLine(l), opts.extraVerbs);
    // Once the runner is settled with room, decode what waits in the backlog.
    this.runner = new CommandRunner(this.dispatcher, opts.backend, () => this.end('quit'), () => {}, () => this.drain());
  }

  phase(): TcpPhase {
    if (this.ended !== null) return 'closed';
    if (!this.authed) return 'await-auth';
    return this.dispatcher.attachedAs() === null ? 'authed' : 'attached';
  }

  /** Why it ended, or null while open. */
  closeReason(): CloseReason | null {
    return this.ended;
  }

  /** The dispatcher, for root-task to read who is attached. */
  attachment(): ReturnType<ConsoleDispatcher['attachedAs']> {
    return this.dispatcher.attachedAs();
  }

  /** Inbound queue counters (spec §15): queued and dropped lines, backlog bytes and read pauses. */
  queueCounters(): { queued: number; dropped: number; waiting: number; backlogBytes: number; pauses: number } {
    const q = this.runner.queue;
    return { queued: q.queued, dropped: q.dropped, waiting: q.length, backlogBytes: this.backlogBytes, pauses: this.pauses };
  }

  /** When `tick` next has something to do (monotonic ms), or null once closed. */
  nextDeadlineMs(): number | null {
    if (this.ended !== null) return null;
    return this.authed ? this.lastInputMs + this.idleTimeoutMs() + 1 : this.authDeadlineMs;
  }

  private idleTimeoutMs(): number {
    return this.opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  }

  receive(bytes: Uint8Array, nowMs: number): void {
    if (this.ended !== null) return;
    this.lastInputMs = nowMs;
    if (this.backlogBytes + bytes.length > INBOUND_BACKLOG_BYTES_MAX) {
      // Only a transport that kept reading after the pause gets here: say so, then cut it.
      this.writeLine(BACKLOG_FULL_LINE);
      this.opts.backend.note({ kind: 'refusal', cls: 'busy', label: 'FRAME' });
      this.end('backlog-full');
      return;
    }
    if (bytes.length > 0) {
      this.backlog.push(bytes);
      this.backlogBytes += bytes.length;
    }
    this.drain();
  }

  /** Decodes backlog frames while the runner has room; pauses the transport while bytes must wait. */
  private drain(): void {
    if (this.draining) return; // a synchronous reply inside the loop below: the loop goes on anyway
    this.draining = true;
    try {
      while (this.ended === null && this.backlog.length > 0) {
        if (this.authed && !this.runner.hasRoom()) break;
        const head = this.backlog[0];
        const step = this.decoder.next(head, 0);
        this.backlogBytes -= step.consumed;
        if (step.consumed >= head.length) this.backlog.shift();
        else this.backlog[0] = head.subarray(step.consumed);
        if (step.event !== null) this.onFrameEvent(step.event, this.lastInputMs);
        else if (step.consumed === 0) break; // cannot happen (null event means the chunk ran out); guards the loop
      }
    } finally {
      this.draining = false;
    }
    this.setPaused(this.ended === null && this.backlog.length > 0);
  }

  private setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) this.pauses++;
    try {
      this.opts.transport.pauseReads?.(paused);
    } catch {
      // The connection is already gone; its close follows.
    }
  }

  tick(nowMs: number): void {
    if (this.ended !== null) return;
    if (!this.authed) {
      if (nowMs >= this.authDeadlineMs) this.end('auth-timeout');
    } else if (nowMs - this.lastInputMs > this.idleTimeoutMs()) {
      this.end('idle');
    }
  }

  /** The transport saw EOF or a reset. */
  peerClosed(): void {
    this.end('peer-closed', false);
  }

  /** Still in AUTH (the table's pre-AUTH pool counts these). */
  authenticating(): boolean {
    return this.ended === null && !this.authed;
  }

  /** AUTH passed and the table admitted it (it held an authenticated slot, even once ended). */
  wasAdmitted(): boolean {
    return this.authed;
  }

  /** The pre-AUTH pool is full and this is its oldest: told busy, then closed. */
  evict(): void {
    if (!this.authenticating()) return;
    this.writeLine(AUTH_BUSY_LINE);
    this.end('auth-evicted');
  }

  /** Root-task ends the session (shutdown, console task restart). */
  close(reason: CloseReason = 'server'): void {
    this.end(reason);
  }

  private onFrameEvent(ev: FrameEvent, nowMs: number): void {
    switch (ev.kind) {
      case 'fatal':
        this.end('frame-error');
        return;
      case 'oversize':
        this.runner.submit({ kind: 'reply', line: FRAME_INVALID_LENGTH_LINE }, nowMs);
        return;
      case 'invalid-utf8':
        this.runner.submit({ kind: 'reply', line: INVALID_UTF8_LINE }, nowMs);
        return;
      case 'frame':
        if (this.authed) this.runner.submit({ kind: 'line', text: ev.text }, nowMs);
        else this.authenticate(ev.text);
    }
  }

  /** The rows of spec §2, in order. */
  private authenticate(text: string): void {
    const token = this.opts.authToken;
    let refusal: AuthRefusalRow | null = null;
    if (utf8Length(text) !== AUTH_PREFIX.length + utf8Length(token)) refusal = 'invalid-length';
    else if (!text.startsWith(AUTH_PREFIX) || text.slice(AUTH_PREFIX.length).trim() === '') refusal = 'expected-token';
    else if (!sameSecret(text.slice(AUTH_PREFIX.length).trim(), token)) refusal = 'invalid-token';
    if (refusal !== null) {
      // The row goes on the record (issue 13 bug 10); the client's reply is the spec's, unchanged.
      this.opts.backend.note({ kind: 'auth-refused', reason: refusal });
      this.writeLine(errLine('AUTH', `reason=${refusal}`));
      this.end('auth-failed');
      return;
    }
    // Only an authenticated session counts against console.max_sessions (issue 13 bug 2).
    if (this.opts.admit !== undefined && !this.opts.admit()) {
      this.writeLine(AUTH_BUSY_LINE);
      this.end('busy');
      return;
    }
    this.authed = true;
    this.decoder.setAuthenticated();
    this.writeLine(okLine('AUTH'));
  }

  private writeLine(line: string): void {
    if (this.ended !== null) return;
    const frame = encodeFrame(truncateUtf8(line, FRAME_REPLY_PAYLOAD_BYTES_MAX));
    // Cannot fail after truncation; checked anyway so a bound change cannot send a bad frame.
    if (!(frame instanceof Uint8Array)) return;
    try {
      this.opts.transport.write(frame);
    } catch {
      // A peer that does not read fills its bounded send buffer: drop it rather than stall the pump.
      this.end('slow-peer');
    }
  }

  private end(reason: CloseReason, closeTransport = true): void {
    if (this.ended !== null) return;
    this.ended = reason;
    this.runner.stop();
    this.backlog.length = 0;
    this.backlogBytes = 0;
    if (closeTransport) {
      try {
        this.opts.transport.close();
      } catch {
        // Already gone: nothing more to release.
      }
    }
    this.opts.backend.closed(reason);
    this.opts.onEnd?.(reason);
  }
}
