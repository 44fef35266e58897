// NineDoor's 9P sessions over TCP (dev images, spec §0): the listener, one splitter and session per connection, the last-socket cache.
import type { Caps, SocketId } from '../caps/index.js';
import { FrameSplitter, type FrameSink } from '../secure9p/frames.js';
import type { NamespaceSession } from './nssession.js';
import type { NineDoor } from './server.js';

/** Sessions the TCP listener serves at once; more connections are closed at accept. */
export const NINEP_TCP_SESSIONS_MAX = 16;

/** One TCP connection's session. */
export interface TcpSession {
  ns: NamespaceSession;
  /** ns.session, read once: onData reaches it for every chunk. */
  session: NamespaceSession['session'];
  split: FrameSplitter;
  sink: FrameSink;
  peer: string;
}

/** The TCP sessions of one NineDoor task. */
export interface TcpSessions {
  /** Live sessions by socket, for the reload snapshot. */
  readonly bySocket: ReadonlyMap<SocketId, TcpSession>;
  /** A 9P session for a TCP connection (accepted now, or carried over a hot reload); null when refused (the socket is closed). */
  open(sock: SocketId, peer: string): TcpSession | null;
  /** Listens on host:port and serves every connection; returns the port bound. */
  listen(host: string, port: number): number;
}

export function tcpSessions(caps: Caps, door: NineDoor): TcpSessions {
  const tcp = new Map<SocketId, TcpSession>();
  /** The connection the last chunk came from, and its entry: a client sends on one socket over and over. */
  let lastSock: SocketId | null = null;
  let lastTcp: TcpSession | undefined;
  const open = (sock: SocketId, peer: string): TcpSession | null => {
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
  const listen = (host: string, port: number): number => {
    const listener = caps.net.listen({ host, port }, {
      onAccept(sock, peer) {
        open(sock, peer);
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
    return caps.net.localPort(listener);
  };
  return { bySocket: tcp, open, listen };
}
