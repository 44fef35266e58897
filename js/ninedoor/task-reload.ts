// The NineDoor task's hot reload: the namespace content and every 9P session (channel and TCP) cross to the next code (handoff.ts carries them).
import type { Caps } from '../caps/index.js';
import { RELOAD_SNAPSHOT_BYTES_MAX } from '../caps/limits.js';
import { NineError } from '../secure9p/errors.js';
import { checkSessionState, principalIn } from '../secure9p/handoff.js';
import { tellClosed, type ChannelSessions } from './channel-sessions.js';
import { decodeHandoff, encodeHandoff, handoffBytesEstimate, sessionsBytesEstimate, type SessionCarry } from './handoff.js';
import { NamespaceSession } from './nssession.js';
import type { NineDoor } from './server.js';
import type { TcpSessions } from './tcp-sessions.js';

// A session that cannot cross (requests in flight, a node gone) is closed and its client attaches again.
function carry(ns: NamespaceSession): SessionCarry {
  const s9 = ns.session.exportState(NamespaceSession.handleOut);
  return s9 === null ? { ns: null, s9: null } : { ns: ns.exportState(), s9 };
}

function adopt(ns: NamespaceSession, c: SessionCarry): boolean {
  if (c.s9 === null || c.ns === null) return false;
  const s9 = checkSessionState(c.s9);
  const first = s9 === null || s9.principal === null ? null : principalIn(s9.principals[s9.principal]);
  if (s9 === null || ns.importState(c.ns, first) !== null) return false;
  return ns.session.importState(s9, (x) => ns.handleIn(x)) !== null;
}

/** The task handle's snapshot: throws (the old code runs on) when the handoff would be over its bound. */
export function snapshotDoor(door: NineDoor, channel: ChannelSessions, tcp: TcpSessions): unknown {
  const state = door.exportState();
  // Refused here, cleanly, rather than by building a text the arena cannot hold: the old code runs on.
  let fids = 0;
  for (const ns of channel.byKey.values()) fids += ns.session.liveFids().length;
  for (const t of tcp.bySocket.values()) fids += t.ns.session.liveFids().length;
  const estimate = handoffBytesEstimate(state) + sessionsBytesEstimate(channel.byKey.size + tcp.bySocket.size, fids);
  if (estimate > RELOAD_SNAPSHOT_BYTES_MAX) throw new Error(`namespace content and sessions of ~${estimate} bytes exceed the ${RELOAD_SNAPSHOT_BYTES_MAX}-byte handoff bound`);
  return encodeHandoff({
    door: state,
    channel: [...channel.byKey].map(([key, ns]) => ({ key, ...carry(ns) })),
    tcp: [...tcp.bySocket].map(([sock, t]) => ({ sock, peer: t.peer, ...t.split.exportState(), ...carry(t.ns) })),
  });
}

/** The task handle's restore, on a fresh door before any session opens; logs how many sessions crossed. */
export function restoreDoor(caps: Caps, door: NineDoor, channel: ChannelSessions, tcp: TcpSessions, state: unknown): void {
  const h = decodeHandoff(state);
  if (h instanceof NineError) throw new Error(h.message);
  const err = door.importState(h.door);
  if (err !== null) throw new Error(err.message);
  let kept = 0;
  let closed = 0;
  for (const c of h.channel) {
    const [ep, sid] = c.key.split(':').map(Number);
    const ns = channel.open(ep, sid);
    if (ns !== null && adopt(ns, c)) {
      kept++;
      continue;
    }
    closed++;
    // Routed clients (root-task's console sessions, workers) attach again on a close.
    if (ns !== null) channel.end(c.key, { ep, sid });
    else tellClosed(caps, ep, sid);
  }
  for (const t of h.tcp) {
    const entry = tcp.open(t.sock, t.peer);
    if (entry !== null && entry.split.importState(t) && adopt(entry.ns, t)) {
      kept++;
      continue;
    }
    closed++;
    caps.net.close(t.sock);
  }
  caps.log.write(`reloaded: ${h.door.workers.length} workers, ${kept} sessions kept, ${closed} closed (their clients attach again)`);
}
