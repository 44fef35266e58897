// The table of TCP console sessions (spec §0 item 2): at most console.max_sessions authenticated, and apart from them a bounded pre-AUTH pool.
//
// Why two pools (issue 13 bug 2): when connections still in AUTH held session slots, four idle
// sockets (no credentials needed) locked every operator out. Now a connection takes an
// authenticated slot only when its AUTH passes (`ERR AUTH reason=busy` if none is free); until then
// it sits in a larger pool of its own, bounded in total and per source address, where a new
// connection evicts an unauthenticated one (its own source's oldest at the source's share, else
// the oldest of the source holding the most) instead of being refused. A flood thus only churns
// the flooding addresses' slots.
import { AttachGuardTable } from './attach-guard.js';
import type { CloseReason, ConsoleBackend, ExtraVerbs } from './backend.js';
import { encodeFrame } from './frame.js';
import {
  AUTH_PENDING_PER_SOURCE_MAX, AUTH_PENDING_SESSIONS_MAX, CONSOLE_SESSIONS_DEFAULT, CONSOLE_SESSIONS_HARD_MAX,
  IDLE_TIMEOUT_MS_MAX, IDLE_TIMEOUT_MS_MIN,
} from './limits.js';
import { AUTH_BUSY_LINE, TcpConsoleSession, type ConsoleTransport } from './session.js';

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

interface Entry {
  session: TcpConsoleSession;
  host: string;
}

/**
 * Keyed by the transport's connection id (NetCap's SocketId), so root-task's handlers map
 * one to one: onAccept → accept, onData → receive, onClose → peerClosed.
 */
export class ConsoleSessionTable<Id = number> {
  readonly maxSessions: number;
  readonly guards: AttachGuardTable;
  /** Every open connection, oldest first (Map keeps insertion order: eviction takes the first match). */
  private readonly live = new Map<Id, Entry>();
  private authedCount = 0;
  /** Sessions refused at AUTH because every authenticated slot was taken. */
  refusedBusy = 0;
  /** Unauthenticated connections evicted to make room for a newer one. */
  evicted = 0;

  constructor(private readonly opts: SessionTableOptions) {
    const want = opts.maxSessions ?? CONSOLE_SESSIONS_DEFAULT;
    this.maxSessions = Math.max(1, Math.min(CONSOLE_SESSIONS_HARD_MAX, Math.floor(want)));
    this.guards = opts.guards ?? new AttachGuardTable();
  }

  /** Authenticated sessions (what console.max_sessions bounds). */
  size(): number {
    return this.authedCount;
  }

  /** Connections still in AUTH. */
  pendingAuth(): number {
    return this.live.size - this.authedCount;
  }

  get(id: Id): TcpConsoleSession | undefined {
    return this.live.get(id)?.session;
  }

  /** A new connection: a session (after evicting the oldest unauthenticated one if its pool is full), or null when the id is taken. */
  accept(id: Id, peer: string, transport: ConsoleTransport, nowMs: number): TcpConsoleSession | null {
    if (this.live.has(id)) {
      refuse(transport);
      return null;
    }
    const host = peerHost(peer);
    this.makeRoom(host);
    const entry: Entry = { session: null as unknown as TcpConsoleSession, host };
    entry.session = new TcpConsoleSession({
      authToken: this.opts.authToken,
      backend: this.opts.makeBackend(peer),
      guard: this.guards.get(host, nowMs),
      transport,
      nowMs,
      extraVerbs: this.opts.extraVerbs,
      idleTimeoutMs: this.opts.idleTimeoutMs === undefined
        ? undefined
        : Math.max(IDLE_TIMEOUT_MS_MIN, Math.min(IDLE_TIMEOUT_MS_MAX, Math.floor(this.opts.idleTimeoutMs))),
      admit: () => {
        if (this.authedCount >= this.maxSessions) {
          this.refusedBusy++;
          return false;
        }
        this.authedCount++;
        return true;
      },
      onEnd: () => this.forget(id, entry),
    });
    this.live.set(id, entry);
    return entry.session;
  }

  /**
   * Evicts the oldest unauthenticated connection of `host` at its share; else, at the pool's bound,
   * the oldest of the source holding the most (so a lone operator is never the one a flood from
   * other addresses pushes out).
   */
  private makeRoom(host: string): void {
    const byHost = new Map<string, Entry[]>();
    for (const e of this.live.values()) {
      if (!e.session.authenticating()) continue;
      const l = byHost.get(e.host);
      if (l === undefined) byHost.set(e.host, [e]);
      else l.push(e);
    }
    let victim: Entry | null = null;
    const own = byHost.get(host);
    if (own !== undefined && own.length >= AUTH_PENDING_PER_SOURCE_MAX) victim = own[0];
    else if (this.pendingAuth() >= AUTH_PENDING_SESSIONS_MAX) {
      let most: Entry[] = [];
      for (const l of byHost.values()) if (l.length > most.length) most = l;
      victim = most[0] ?? null;
    }
    if (victim === null) return;
    this.evicted++;
    victim.session.evict();
  }

  private forget(id: Id, entry: Entry): void {
    if (this.live.get(id) !== entry) return;
    this.live.delete(id);
    // Counted when its AUTH passed; one that ended in AUTH never was.
    if (entry.session.wasAdmitted()) this.authedCount--;
  }

  receive(id: Id, bytes: Uint8Array, nowMs: number): void {
    this.live.get(id)?.session.receive(bytes, nowMs);
  }

  peerClosed(id: Id): void {
    this.live.get(id)?.session.peerClosed();
  }

  /** Drives every session's timers. */
  tick(nowMs: number): void {
    for (const e of [...this.live.values()]) e.session.tick(nowMs);
  }

  /** The earliest deadline of any session, or null when none is open. */
  nextDeadlineMs(): number | null {
    let best: number | null = null;
    for (const e of this.live.values()) {
      const d = e.session.nextDeadlineMs();
      if (d !== null && (best === null || d < best)) best = d;
    }
    return best;
  }

  closeAll(reason: CloseReason = 'server'): void {
    for (const e of [...this.live.values()]) e.session.close(reason);
  }
}

/** A connection id already in use (a transport bug): told busy and closed. */
function refuse(transport: ConsoleTransport): void {
  const frame = encodeFrame(AUTH_BUSY_LINE);
  try {
    if (frame instanceof Uint8Array) transport.write(frame);
    transport.close();
  } catch {
    // The peer is already gone: nothing to tell it.
  }
}
