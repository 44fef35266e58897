// Connects a NineClient to a 9P2000.L server over TCP on Node: FrameSplitter for replies, a timer for request deadlines.
import { connect, type Socket } from 'node:net';
import { NineClient, type ClientOptions } from '../../js/secure9p/client.js';
import { NineError } from '../../js/secure9p/errors.js';
import { FrameSplitter } from '../../js/secure9p/frames.js';

/** How long a TCP connect may take. */
export const NINEP_CONNECT_TIMEOUT_MS = 5000;
/** How often request deadlines are checked. */
export const NINEP_EXPIRE_INTERVAL_MS = 250;

export interface NinepConnection {
  client: NineClient;
  socket: Socket;
  /** Closes the socket; pending requests get Closed. */
  close(): void;
}

export function connectNinep(
  host: string, port: number, opts: Partial<Omit<ClientOptions, 'send'>> = {},
): Promise<NinepConnection | NineError> {
  return new Promise((resolve) => {
    const sock = connect({ host, port, noDelay: true });
    const splitter = new FrameSplitter();
    const client = new NineClient({ nowMs: () => Date.now(), ...opts, send: (f) => void sock.write(f) });
    const timer = setInterval(() => client.expire(), NINEP_EXPIRE_INTERVAL_MS);
    timer.unref();
    const connectTimer = setTimeout(() => {
      sock.destroy();
      resolve(new NineError('Busy', `connect to ${host}:${port} timed out after ${NINEP_CONNECT_TIMEOUT_MS} ms`, 110));
    }, NINEP_CONNECT_TIMEOUT_MS);
    const close = () => sock.destroy();
    sock.on('data', (chunk: Buffer) => {
      for (const ev of splitter.push(chunk)) {
        if (ev.kind === 'frame') client.receive(ev.bytes);
        else {
          // A reply we cannot frame: the stream is lost.
          sock.destroy();
          return;
        }
      }
    });
    sock.once('connect', () => {
      clearTimeout(connectTimer);
      resolve({ client, socket: sock, close });
    });
    sock.on('error', (e) => {
      clearTimeout(connectTimer);
      resolve(new NineError('Closed', `connect to ${host}:${port}: ${e.message}`));
    });
    sock.on('close', () => {
      clearInterval(timer);
      client.close('connection closed');
    });
  });
}
