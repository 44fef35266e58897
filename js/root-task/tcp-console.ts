// The TCP console listener: length-prefixed frames, AUTH, then console lines (PING, QUIT) per spec §2–§3.
import type { Caps, SocketId } from '../caps/index.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';

/** Spec §2/§16 bounds. */
export const FRAME_LENGTH_MIN_BYTES = 4;
export const FRAME_LENGTH_MAX_BYTES = 8192;
export const CONSOLE_LINE_BYTES_MAX = 256;
export const AUTH_DEADLINE_MS = 5000;

export interface TcpConsoleOptions {
  host: string;
  port: number;
  authToken: string;
}

export interface TcpConsole {
  port: number;
  sessions(): number;
  stop(): void;
}

interface Conn {
  sock: SocketId;
  peer: string;
  authed: boolean;
  buf: Uint8Array;
  fill: number;
  skip: number; // bytes of an oversize frame still to discard
  deadline: number;
}

export function encodeFrame(line: string): Uint8Array {
  const body = utf8Encode(line);
  const out = new Uint8Array(4 + body.length);
  const n = out.length;
  out[0] = n & 0xff;
  out[1] = (n >>> 8) & 0xff;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 24) & 0xff;
  out.set(body, 4);
  return out;
}

export function startTcpConsole(caps: Caps, opts: TcpConsoleOptions): TcpConsole {
  const conns = new Map<SocketId, Conn>();
  const send = (c: Conn, line: string): void => {
    try {
      caps.net.write(c.sock, encodeFrame(line));
    } catch {
      // A client that does not read its replies loses its session rather than our memory.
      drop(c);
    }
  };
  const drop = (c: Conn): void => {
    conns.delete(c.sock);
    caps.net.close(c.sock);
  };

  const onLine = (c: Conn, line: string): void => {
    if (!c.authed) {
      // Checks in the order of the spec §2 table.
      if (line.length !== 5 + opts.authToken.length) return void (send(c, 'ERR AUTH reason=invalid-length'), drop(c));
      if (!line.startsWith('AUTH ') || line.length === 5) return void (send(c, 'ERR AUTH reason=expected-token'), drop(c));
      if (line.slice(5) !== opts.authToken) return void (send(c, 'ERR AUTH reason=invalid-token'), drop(c));
      c.authed = true;
      send(c, 'OK AUTH');
      return;
    }
    const trimmed = line.trim();
    const verb = trimmed.split(/\s+/, 1)[0].toLowerCase();
    if (verb === '') send(c, 'ERR PARSE reason=policy detail=empty command');
    else if (verb === 'ping') {
      send(c, 'OK PING reply=pong');
      send(c, 'PONG');
    } else if (verb === 'quit') {
      send(c, 'OK QUIT');
      drop(c);
    } else send(c, 'ERR PARSE reason=policy detail=unsupported console command');
  };

  const onBytes = (c: Conn, bytes: Uint8Array): void => {
    let i = 0;
    while (i < bytes.length && conns.has(c.sock)) {
      if (c.skip > 0) {
        const n = Math.min(c.skip, bytes.length - i);
        c.skip -= n;
        i += n;
        continue;
      }
      const want = c.fill < 4 ? 4 : 4 + 0; // header first
      if (c.fill < want) {
        c.buf[c.fill++] = bytes[i++];
        continue;
      }
      const total = c.buf[0] | (c.buf[1] << 8) | (c.buf[2] << 16) | (c.buf[3] << 24);
      if (total < FRAME_LENGTH_MIN_BYTES || total > FRAME_LENGTH_MAX_BYTES || total - 4 > CONSOLE_LINE_BYTES_MAX) {
        if (!c.authed || total < FRAME_LENGTH_MIN_BYTES || total > FRAME_LENGTH_MAX_BYTES) return drop(c);
        // After AUTH an oversize line is refused and skipped; the session lives on.
        send(c, 'ERR FRAME reason=invalid-length');
        c.skip = total - 4;
        c.fill = 0;
        continue;
      }
      const need = total - c.fill;
      const take = Math.min(need, bytes.length - i);
      c.buf.set(bytes.subarray(i, i + take), c.fill);
      c.fill += take;
      i += take;
      if (c.fill === total) {
        const line = utf8Decode(c.buf, 4, total);
        c.fill = 0;
        if (line === null) {
          if (!c.authed) return drop(c);
          send(c, 'ERR PARSE reason=policy detail=invalid value for argument line');
          continue;
        }
        onLine(c, line);
      }
    }
  };

  const listener = caps.net.listen(
    { host: opts.host, port: opts.port },
    {
      onAccept(sock, peer) {
        const c: Conn = { sock, peer, authed: false, buf: new Uint8Array(4 + CONSOLE_LINE_BYTES_MAX), fill: 0, skip: 0, deadline: 0 };
        conns.set(sock, c);
        c.deadline = caps.timer.setTimeout(() => {
          if (conns.get(sock) === c && !c.authed) drop(c);
        }, AUTH_DEADLINE_MS);
      },
      onData(sock, bytes) {
        const c = conns.get(sock);
        if (c) onBytes(c, bytes);
      },
      onClose(sock) {
        const c = conns.get(sock);
        if (c) caps.timer.clear(c.deadline);
        conns.delete(sock);
      },
    },
  );
  const port = caps.net.localPort(listener);
  caps.log.write(`console ready port=${port}`);
  return {
    port,
    sessions: () => conns.size,
    stop: () => {
      caps.net.closeListener(listener);
      for (const c of [...conns.values()]) drop(c);
    },
  };
}
