// Serves Secure9P sessions (NineDoor or any FileServer) over TCP on Node: one FrameSplitter and one Session per connection, bounded send queue.
import { createServer, type Server, type Socket } from 'node:net';
import { NineError } from '../../js/secure9p/errors.js';
import type { FileServer } from '../../js/secure9p/fileserver.js';
import { FrameSplitter } from '../../js/secure9p/frames.js';
import type { AttachPolicy } from '../../js/secure9p/principal.js';
import { Session } from '../../js/secure9p/session.js';
import { MSIZE_MAX_BYTES, TAGS_IN_FLIGHT_MAX } from '../../js/secure9p/limits.js';
import type { NineDoor, SessionTransport } from '../../js/ninedoor/server.js';

/** Spec §0: the Secure9P listener's default port. */
export const NINEP_TCP_DEFAULT_PORT = 5640;
/** Connections served at once; one more is closed at once. NineDoor's own SESSIONS_MAX (256) is the outer bound. */
export const NINEP_CONNECTIONS_MAX = 32;
/**
 * Reply bytes queued for a client before we stop reading its requests: a full tag window of
 * full frames. Reading resumes on drain, so a slow reader slows down instead of growing us.
 */
export const NINEP_SEND_PAUSE_BYTES = TAGS_IN_FLIGHT_MAX * MSIZE_MAX_BYTES;
/** Reply bytes queued past which the connection is dropped (the client sends without ever reading). */
export const NINEP_SEND_QUEUE_BYTES_MAX = 4 * NINEP_SEND_PAUSE_BYTES;
/** A connection silent this long is closed; 9P has no keepalive, so this is the bound on an idle wait. */
export const NINEP_IDLE_TIMEOUT_MS = 10 * 60 * 1000;

/** What the listener needs of one session: whole frames in, oversize refusals, and an end. */
export interface ServedSession {
  session: Session<unknown>;
  /** The transport is gone (NineDoor: endSession). */
  end(): void;
}

/** Makes a session for a new connection, or refuses it (NineDoor at SESSIONS_MAX). */
export type SessionFactory = (t: SessionTransport) => ServedSession | NineError;

export interface NinepTcpOptions {
  host?: string;
  /** 0 picks a free port; listening() reports it. */
  port: number;
  open: SessionFactory;
  log?(line: string): void;
  idleTimeoutMs?: number;
}

export interface NinepListener {
  /** The bound port (after ready resolves). */
  port(): number;
  ready: Promise<void>;
  connections(): number;
  close(): Promise<void>;
}

export function serveNinep(o: NinepTcpOptions): NinepListener {
  const log = o.log ?? (() => undefined);
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (sock) => accept(sock));

  function accept(sock: Socket): void {
    if (sockets.size >= NINEP_CONNECTIONS_MAX) {
      log(`9p tcp: refused ${sock.remoteAddress}:${sock.remotePort}: more than ${NINEP_CONNECTIONS_MAX} connections`);
      sock.destroy();
      return;
    }
    sockets.add(sock);
    sock.setNoDelay(true);
    sock.setTimeout(o.idleTimeoutMs ?? NINEP_IDLE_TIMEOUT_MS, () => {
      log('9p tcp: idle timeout');
      sock.destroy();
    });
    const splitter = new FrameSplitter();
    let dead = false;
    const t: SessionTransport = {
      send: (frame) => {
        if (dead) return;
        sock.write(frame);
        if (sock.writableLength > NINEP_SEND_QUEUE_BYTES_MAX) {
          log(`9p tcp: dropping a client that does not read (${sock.writableLength} bytes queued)`);
          sock.destroy();
        } else if (sock.writableLength >= NINEP_SEND_PAUSE_BYTES) sock.pause();
      },
      close: (reason) => {
        log(`9p tcp: closing: ${reason}`);
        sock.destroy();
      },
    };
    const served = o.open(t);
    if (served instanceof NineError) {
      log(`9p tcp: refused: ${served.message}`);
      sockets.delete(sock);
      sock.destroy();
      return;
    }
    sock.on('drain', () => sock.resume());
    sock.on('data', (chunk: Buffer) => {
      for (const ev of splitter.push(chunk)) {
        if (dead) return;
        if (ev.kind === 'frame') {
          served.session.handleFrame(ev.bytes);
          splitter.setMsize(served.session.msize());
        } else if (ev.kind === 'oversize') served.session.refuseOversize(ev.tag, ev.declaredBytes);
        else t.close?.(ev.reason);
      }
    });
    sock.on('error', () => undefined); // 'close' follows and does the cleanup
    sock.on('close', () => {
      dead = true;
      sockets.delete(sock);
      served.end();
    });
  }

  const ready = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    ready,
    port: () => {
      const a = server.address();
      return typeof a === 'object' && a !== null ? a.port : o.port;
    },
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sessions onto a NineDoor: openSession per connection, endSession when it goes. */
export function nineDoorSessions(door: NineDoor): SessionFactory {
  return (t) => {
    const ns = door.openSession(t);
    if (ns instanceof NineError) return ns;
    return { session: ns.session as Session<unknown>, end: () => door.endSession(ns) };
  };
}

/** Sessions onto any FileServer (MemFs in tests): a plain Session per connection. */
export function fileServerSessions<N>(fs: FileServer<N>, attach: AttachPolicy, nowMs: () => number): SessionFactory {
  return (t) => {
    const session = new Session<N>({ fs, send: t.send, close: t.close, nowMs, attach });
    return { session: session as unknown as Session<unknown>, end: () => session.revoke('session ended') };
  };
}
