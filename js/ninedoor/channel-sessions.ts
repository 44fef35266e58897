// NineDoor's 9P sessions over channels (root-task's console sessions, linked workers): one per "<endpoint>:<session>", opened on first frame.
import type { Caps } from '../caps/index.js';
import type { NineDoor } from './server.js';
import { NamespaceSession } from './nssession.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME } from './wire.js';

/** The channel sessions of one NineDoor task. */
export interface ChannelSessions {
  /** Live sessions by "<ep>:<session>", for the reload snapshot. */
  readonly byKey: ReadonlyMap<string, NamespaceSession>;
  /** The session for (ep, sid), opened now when there is none; null when the door refuses one. */
  open(ep: number, sid: number): NamespaceSession | null;
  /** Ends a session; `tell` names the peer to send WIRE_CLOSE to (null: it knows, or is gone). */
  end(key: string, tell: { ep: number; sid: number } | null): void;
  /** A new peer linked on `ep`: the sessions of whoever held that endpoint before are stale. */
  relinked(ep: number): void;
  /** One routed frame (wire.ts) from `ep`. */
  route(ep: number, msg: Uint8Array): void;
}

/** Sends WIRE_CLOSE for a session to `ep`, when the peer is still there to hear it. */
export function tellClosed(caps: Caps, ep: number, sid: number): void {
  try {
    caps.channel.send(ep, encodeWire(WIRE_CLOSE, sid));
  } catch {
    // the peer is gone already
  }
}

export function channelSessions(caps: Caps, door: NineDoor): ChannelSessions {
  const sessions = new Map<string, NamespaceSession>();
  const end = (key: string, tell: { ep: number; sid: number } | null): void => {
    const ns = sessions.get(key);
    if (!ns) return;
    sessions.delete(key);
    door.endSession(ns);
    if (tell) tellClosed(caps, tell.ep, tell.sid);
  };
  const open = (ep: number, sid: number): NamespaceSession | null => {
    const key = `${ep}:${sid}`;
    const have = sessions.get(key);
    if (have) return have;
    const ns = door.openSession({
      send: (frame) => {
        try {
          caps.channel.send(ep, encodeWire(WIRE_FRAME, sid, frame));
        } catch (e) {
          // A client that does not drain its replies loses its session, never our memory.
          caps.log.write(`9p session ${key} dropped: ${(e as Error).message}`);
          end(key, null);
        }
      },
      close: (reason) => {
        caps.log.write(`9p session ${key} closed: ${reason}`);
        end(key, { ep, sid });
      },
    });
    if (!('session' in ns)) {
      caps.log.write(`9p session ${key} refused: ${ns.message}`);
      return null;
    }
    sessions.set(key, ns);
    return ns;
  };
  return {
    byKey: sessions,
    open,
    end,
    relinked(ep) {
      // Endpoints are reused: sessions of the task that held this endpoint before (revoked, killed) are stale,
      // and the new peer's session ids would otherwise find them (a revoked one answers everything Closed).
      const prefix = `${ep}:`;
      for (const key of [...sessions.keys()]) if (key.startsWith(prefix)) end(key, null);
    },
    route(ep, msg) {
      const w = decodeWire(msg);
      if (!w) return caps.log.write(`malformed routed frame on endpoint ${ep} dropped`);
      const key = `${ep}:${w.session}`;
      if (w.kind === WIRE_CLOSE) return end(key, null);
      const ns = open(ep, w.session);
      if (ns) ns.session.handleFrame(w.payload);
      else tellClosed(caps, ep, w.session);
    },
  };
}
