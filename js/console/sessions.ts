// The table of concurrent TCP console sessions (spec §0 item 2): at most console.max_sessions; one more gets `ERR AUTH reason=busy`.
import { AttachGuardTable } from './attach-guard.js';
import type { CloseReason, ConsoleBackend, ExtraVerbs } from './backend.js';
import { encodeFrame } from './frame.js';
import { CONSOLE_SESSIONS_DEFAULT, CONSOLE_SESSIONS_HARD_MAX, IDLE_TIMEOUT_MS_MAX, IDLE_TIMEOUT_MS_MIN } from './limits.js';
import { errLine } from './reply.js';
import { TcpConsoleSession, type ConsoleTransport } from './session.js';

export const AUTH_BUSY_LINE = errLine('AUTH', 'reason=busy');

export interface SessionTableOptions {
  authToken: string;
  /** Manifest console.max_sessions; CONSOLE_SESSIONS_DEFAULT when absent, clamped to 1..CONSOLE_SESSIONS_HARD_MAX. */
  maxSessions?: number;
  /** Makes the per-session backend; `peer` is the transport's peer address. */
  makeBackend: (peer: string) => ConsoleBackend;
  /** ATTACH guards by source; share one table with nothing else. */
  guards?: AttachGuardTable;
  extraVerbs?: ExtraVerbs;
  /** Manifest console.idle_timeout_ms; IDLE_TIMEOUT_MS (spec §2) when absent, clamped to its bounds. */
  idleTimeoutMs?: number;
}

/** The host part of `host:port` or `[v6]:port`; the ATTACH guard is per host, not per port. */
export function peerHost(peer: string): string {
  const v6 = /^\[([^\]]*)\](?::\d+)?$/.exec(peer);
  if (v6 !== null) return v6[1];
  const colon = peer.lastIndexOf(':');
  // A bare IPv6 address has several colons and no port.
  return colon > 0 && peer.indexOf(':') === colon ? peer.slice(0, colon) : peer;
}

/**
 * Keyed by the transport's connection id (NetCap's SocketId), so root-task's handlers map
 * one to one: onAccept → accept, onData → receive, onClose → peerClosed.
 */
export class ConsoleSessionTable<Id = number> {
  readonly maxSessions: number;
  readonly guards: AttachGuardTable;
  private readonly live = new Map<Id, TcpConsoleSession>();
  /** Connections refused because the table was full. */
  refusedBusy = 0;

  constructor(private readonly opts: SessionTableOptions) {
    const want = opts.maxSessions ?? CONSOLE_SESSIONS_DEFAULT;
    this.maxSessions = Math.max(1, Math.min(CONSOLE_SESSIONS_HARD_MAX, Math.floor(want)));
    this.guards = opts.guards ?? new AttachGuardTable();
  }

  size(): number {
    return this.live.size;
  }

  get(id: Id): TcpConsoleSession | undefined {
    return this.live.get(id);
  }

  /** A new connection: a session, or null after `ERR AUTH reason=busy` and close when full (or the id is taken). */
  accept(id: Id, peer: string, transport: ConsoleTransport, nowMs: number): TcpConsoleSession | null {
    if (this.live.size >= this.maxSessions || this.live.has(id)) {
      this.refusedBusy++;
      const frame = encodeFrame(AUTH_BUSY_LINE);
      try {
        if (frame instanceof Uint8Array) transport.write(frame);
        transport.close();
      } catch {
        // The peer is already gone: nothing to tell it.
      }
      return null;
    }
    const session = new TcpConsoleSession({
      authToken: this.opts.authToken,
      backend: this.opts.makeBackend(peer),
      guard: this.guards.get(peerHost(peer), nowMs),
      transport,
      nowMs,
      extraVerbs: this.opts.extraVerbs,
      idleTimeoutMs: this.opts.idleTimeoutMs === undefined
        ? undefined
        : Math.max(IDLE_TIMEOUT_MS_MIN, Math.min(IDLE_TIMEOUT_MS_MAX, Math.floor(this.opts.idleTimeoutMs))),
      onEnd: () => this.live.delete(id),
    });
    this.live.set(id, session);
    return session;
  }

  receive(id: Id, bytes: Uint8Array, nowMs: number): void {
    this.live.get(id)?.receive(bytes, nowMs);
  }

  peerClosed(id: Id): void {
    this.live.get(id)?.peerClosed();
  }

  /** Drives every session's timers. */
  tick(nowMs: number): void {
    for (const s of [...this.live.values()]) s.tick(nowMs);
  }

  /** The earliest deadline of any session, or null when none is open. */
  nextDeadlineMs(): number | null {
    let best: number | null = null;
    for (const s of this.live.values()) {
      const d = s.nextDeadlineMs();
      if (d !== null && (best === null || d < best)) best = d;
    }
    return best;
  }

  closeAll(reason: CloseReason = 'server'): void {
    for (const s of [...this.live.values()]) s.close(reason);
  }
}
