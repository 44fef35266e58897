// The NineDoor firmware task: serves the namespace over its channels (root-task, linked workers) and, when enabled, TCP.
import type { Caps, SocketId, TaskConfig, TaskHandle } from '../caps/index.js';
import { FrameSplitter, type FrameSink } from '../secure9p/frames.js';
import type { TicketSecrets } from '../tickets/index.js';
import { applyDoorCommand, RemotePolicy, type ReplyMessage } from './remote.js';
import { NineDoor } from './index.js';
import { NamespaceSession } from './nssession.js';
import { NineError } from '../secure9p/errors.js';
import { RELOAD_SNAPSHOT_BYTES_MAX } from '../caps/limits.js';
import { checkSessionState, principalIn } from '../secure9p/handoff.js';
import { decodeHandoff, encodeHandoff, handoffBytesEstimate, sessionsBytesEstimate, type SessionCarry } from './handoff.js';
import { decodeWire, encodeWire, WIRE_CLOSE, WIRE_FRAME } from './wire.js';

/** What root-task hands NineDoor at spawn. */
export interface NineDoorTaskArgs {
  secrets: TicketSecrets;
  allow_ticketless_queen: boolean;
  mock_gpus?: boolean;
  boot_lines?: string[];
  /** Secure9P TCP listener (spec §0: dev images); absent or port 0 = none. */
  ninep?: { host: string; port: number } | null;
  trace?: boolean;
}

/** Sessions the TCP listener serves at once; more connections are closed at accept. */
export const NINEP_TCP_SESSIONS_MAX = 16;

export default function main(caps: Caps, config: TaskConfig): TaskHandle {
  const args = config.args as NineDoorTaskArgs;
  const policy = new RemotePolicy({
    send: (json) => caps.channel.send(0, json),
    setTimeout: (fn, ms) => caps.timer.setTimeout(fn, ms),
    clearTimeout: (id) => caps.timer.clear(id),
  });
  const door = new NineDoor({
    policy,
    log: (line) => caps.log.write(line),
    nowMs: () => caps.timer.wallMs(),
    attach: { secrets: args.secrets, allowTicketlessQueen: args.allow_ticketless_queen },
    mockGpus: args.mock_gpus ?? false,
    bootLines: args.boot_lines,
    trace: args.trace ?? false,
  });

  // Channel sessions, keyed "<ep>:<session>".
  const channelSessions = new Map<string, NamespaceSession>();
  const endChannelSession = (key: string, tell: { ep: number; sid: number } | null): void => {
    const ns = channelSessions.get(key);
    if (!ns) return;
    channelSessions.delete(key);
    door.endSession(ns);
    if (tell) {
      try {
        caps.channel.send(tell.ep, encodeWire(WIRE_CLOSE, tell.sid));
      } catch {
        // the peer is gone already
      }
    }
  };
  const channelSession = (ep: number, sid: number): NamespaceSession | null => {
    const key = `${ep}:${sid}`;
    const have = channelSessions.get(key);
    if (have) return have;
    const ns = door.openSession({
      send: (frame) => {
        try {
          caps.channel.send(ep, encodeWire(WIRE_FRAME, sid, frame));
        } catch (e) {
          // A client that does not drain its replies loses its session, never our memory.
          caps.log.write(`9p session ${key} dropped: ${(e as Error).message}`);
          endChannelSession(key, null);
        }
      },
      close: (reason) => {
        caps.log.write(`9p session ${key} closed: ${reason}`);
        endChannelSession(key, { ep, sid });
      },
    });
    if (!('session' in ns)) {
      caps.log.write(`9p session ${key} refused: ${ns.message}`);
      return null;
    }
    channelSessions.set(key, ns);
    return ns;
  };

  caps.channel.onLink((ep, _peer, label) => {
    if (args.trace) caps.log.write(`linked ${label} on endpoint ${ep}`);
    // Endpoints are reused: sessions of the task that held this endpoint before (revoked, killed) are stale,
    // and the new peer's session ids would otherwise find them (a revoked one answers everything Closed).
    const prefix = `${ep}:`;
    for (const key of [...channelSessions.keys()]) if (key.startsWith(prefix)) endChannelSession(key, null);
  });
  caps.channel.onMessage((ep, msg) => {
    if (typeof msg === 'string') {
      // Only root-task (endpoint 0) speaks the policy protocol; a worker's text is refused.
      if (ep !== 0) return caps.log.write(`control text from endpoint ${ep} ignored`);
      let m: { op?: string; method?: unknown; args?: unknown; id?: unknown };
      try {
        m = JSON.parse(msg) as typeof m;
      } catch {
        return caps.log.write('control message from root-task is not JSON: ignored');
      }
      if (m.op === 'reply') policy.onReply(m as unknown as ReplyMessage);
      else if (m.op === 'door') {
        const err = applyDoorCommand(door, m.method, m.args);
        // A command with an id wants its answer (setLease: only NineDoor knows the GPUs).
        if (typeof m.id === 'number') caps.channel.send(0, JSON.stringify({ op: 'door-reply', id: m.id, error: err }));
        else if (err) caps.log.write(`door command ${String(m.method)} refused: ${err.code}: ${err.message}`);
      } else caps.log.write(`control op ${JSON.stringify(m.op)} from root-task ignored`);
      return;
    }
    const w = decodeWire(msg);
    if (!w) return caps.log.write(`malformed routed frame on endpoint ${ep} dropped`);
    const key = `${ep}:${w.session}`;
    if (w.kind === WIRE_CLOSE) return endChannelSession(key, null);
    const ns = channelSession(ep, w.session);
    if (ns) ns.session.handleFrame(w.payload);
    else {
      try {
        caps.channel.send(ep, encodeWire(WIRE_CLOSE, w.session));
      } catch {
        // nobody to tell
      }
    }
  });

  let tcpPort = 0;
  interface TcpSession {
    ns: NamespaceSession;
    /** ns.session, read once: onData reaches it for every chunk. */
    session: NamespaceSession['session'];
    split: FrameSplitter;
    sink: FrameSink;
    peer: string;
  }
  const tcp = new Map<SocketId, TcpSession>();
  /** The connection the last chunk came from, and its entry: a client sends on one socket over and over. */
  let lastSock: SocketId | null = null;
  let lastTcp: TcpSession | undefined;
  /** A 9P session for a TCP connection (accepted now, or carried over a hot reload). */
  const openTcp = (sock: SocketId, peer: string): TcpSession | null => {
    if (tcp.size >= NINEP_TCP_SESSIONS_MAX) {
      caps.log.write(`9p tcp ${peer} refused: ${NINEP_TCP_SESSIONS_MAX} sessions open`);
      caps.net.close(sock);
      return null;
    }
    // net.write copies what it queues: the session lends its reply buffer (sendPart), uncopied.
    const sendPart = (buf: Uint8Array, length: number): void => {
      try {
        caps.net.write(sock, buf, length);
      } catch (e) {
        caps.log.write(`9p tcp ${peer} dropped: ${(e as Error).message}`);
        caps.net.close(sock);
      }
    };
    const ns = door.openSession({
      send: (frame) => sendPart(frame, frame.length),
      sendPart,
      close: (reason) => {
        caps.log.write(`9p tcp ${peer} closed: ${reason}`);
        caps.net.close(sock);
      },
    });
    if (!('session' in ns)) {
      caps.log.write(`9p tcp ${peer} refused: ${ns.message}`);
      caps.net.close(sock);
      return null;
    }
    // Made once per connection: the splitter hands each frame straight to the session, with no
    // event objects per chunk (they cost as much as the splitting inside quickjs-ng).
    const session = ns.session;
    const sink: FrameSink = {
      frame: (frame) => session.handleFrame(frame),
      oversize: (tag, _type, declaredBytes) => session.refuseOversize(tag, declaredBytes),
      fatal: (reason) => {
        caps.log.write(`9p tcp stream unusable: ${reason}`);
        caps.net.close(sock);
      },
    };
    const entry = { ns, session, split: new FrameSplitter(), sink, peer };
    tcp.set(sock, entry);
    lastSock = null;
    return entry;
  };
  if (args.ninep && args.ninep.port > 0) {
    const listener = caps.net.listen({ host: args.ninep.host, port: args.ninep.port }, {
      onAccept(sock, peer) {
        openTcp(sock, peer);
      },
      onData(sock, bytes) {
        if (sock !== lastSock) {
          lastTcp = tcp.get(sock);
          lastSock = sock;
        }
        const c = lastTcp;
        if (!c) return;
        // A chunk that is one whole small request (nearly every one) goes straight to the
        // session, which checks its size; anything else goes through the splitter.
        if (c.split.idle() && c.session.handleSmall(bytes)) return;
        c.split.feed(bytes, c.sink);
      },
      onClose(sock) {
        const c = tcp.get(sock);
        if (!c) return;
        tcp.delete(sock);
        lastSock = null;
        door.endSession(c.ns);
      },
    });
    tcpPort = caps.net.localPort(listener);
    caps.log.write(`secure9p ready port=${tcpPort}`);
  }
  caps.channel.send(0, JSON.stringify({ op: 'ready', ninep_port: tcpPort }));

  // Hot reload: the namespace content and every 9P session cross to the next code (handoff.ts).
  // A session that cannot (requests in flight, a node gone) is closed and its client attaches again.
  const carry = (ns: NamespaceSession): SessionCarry => {
    const s9 = ns.session.exportState(NamespaceSession.handleOut);
    return s9 === null ? { ns: null, s9: null } : { ns: ns.exportState(), s9 };
  };
  const adopt = (ns: NamespaceSession, c: SessionCarry): boolean => {
    if (c.s9 === null || c.ns === null) return false;
    const s9 = checkSessionState(c.s9);
    const first = s9 === null || s9.principal === null ? null : principalIn(s9.principals[s9.principal]);
    if (s9 === null || ns.importState(c.ns, first) !== null) return false;
    return ns.session.importState(s9, (x) => ns.handleIn(x)) !== null;
  };
  return {
    snapshot: () => {
      const state = door.exportState();
      // Refused here, cleanly, rather than by building a text the arena cannot hold: the old code runs on.
      let fids = 0;
      for (const ns of channelSessions.values()) fids += ns.session.liveFids().length;
      for (const t of tcp.values()) fids += t.ns.session.liveFids().length;
      const estimate = handoffBytesEstimate(state) + sessionsBytesEstimate(channelSessions.size + tcp.size, fids);
      if (estimate > RELOAD_SNAPSHOT_BYTES_MAX) throw new Error(`namespace content and sessions of ~${estimate} bytes exceed the ${RELOAD_SNAPSHOT_BYTES_MAX}-byte handoff bound`);
      return encodeHandoff({
        door: state,
        channel: [...channelSessions].map(([key, ns]) => ({ key, ...carry(ns) })),
        tcp: [...tcp].map(([sock, t]) => ({ sock, peer: t.peer, ...t.split.exportState(), ...carry(t.ns) })),
      });
    },
    restore: (state) => {
      const h = decodeHandoff(state);
      if (h instanceof NineError) throw new Error(h.message);
      const err = door.importState(h.door);
      if (err !== null) throw new Error(err.message);
      let kept = 0;
      let closed = 0;
      for (const c of h.channel) {
        const [ep, sid] = c.key.split(':').map(Number);
        const ns = channelSession(ep, sid);
        if (ns !== null && adopt(ns, c)) {
          kept++;
          continue;
        }
        closed++;
        // Routed clients (root-task's console sessions, workers) attach again on a close.
        if (ns !== null) endChannelSession(c.key, { ep, sid });
        else {
          try {
            caps.channel.send(ep, encodeWire(WIRE_CLOSE, sid));
          } catch {
            // that peer is gone
          }
        }
      }
      for (const t of h.tcp) {
        const entry = openTcp(t.sock, t.peer);
        if (entry !== null && entry.split.importState(t) && adopt(entry.ns, t)) {
          kept++;
          continue;
        }
        closed++;
        caps.net.close(t.sock);
      }
      caps.log.write(`reloaded: ${h.door.workers.length} workers, ${kept} sessions kept, ${closed} closed (their clients attach again)`);
    },
  };
}
