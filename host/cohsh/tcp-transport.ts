// TCP console transport (spec §2): node:net socket, u32 LE frames via js/console's encoder and client-mode decoder.
import { connect, type Socket } from 'node:net';
import { FrameDecoder } from '../../js/console/frame.js';
import { CohshError } from './errors.js';
import { FramedLink, type ConsoleLink, type Transport } from './transport.js';

/** A connect error as the message an operator can act on. */
export function describeConnectError(endpoint: string, e: NodeJS.ErrnoException): CohshError {
  switch (e.code) {
    case 'ECONNREFUSED':
      return new CohshError('connect-refused', `connection refused: ${endpoint} (is the hive running? check --tcp-host/--tcp-port)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CohshError('connect-failed', `cannot resolve host for ${endpoint}: ${e.code}`);
    case 'ETIMEDOUT':
      return new CohshError('connect-failed', `connect to ${endpoint} timed out`);
    default:
      return new CohshError('connect-failed', `cannot connect to ${endpoint}: ${e.code ?? e.message}`);
  }
}

class TcpLink extends FramedLink {
  private readonly decoder = new FrameDecoder('client');

  constructor(private readonly socket: Socket) {
    super();
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const ev of this.decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))) {
        if (ev.kind === 'frame') this.inbox.push(ev.text);
        else if (ev.kind === 'fatal') {
          this.inbox.lost(`bad frame from server: ${ev.message}`);
          socket.destroy();
          return;
        }
        // A non-UTF-8 frame from the server is skipped: clients tolerate stray lines (§2).
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => this.inbox.lost(e.code ?? e.message));
    socket.on('close', () => this.inbox.lost('closed by server'));
  }

  protected deliver(frame: Uint8Array): void {
    this.socket.write(frame);
  }

  protected hangUp(): void {
    this.socket.end();
    this.socket.destroy();
  }
}

export class TcpTransport implements Transport {
  readonly name = 'tcp';
  readonly endpoint: string;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    this.endpoint = `${host}:${port}`;
  }

  open(timeoutMs: number): Promise<ConsoleLink | CohshError> {
    return new Promise((resolve) => {
      const socket = connect({ host: this.host, port: this.port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(new CohshError('connect-failed', `connect to ${this.endpoint} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(describeConnectError(this.endpoint, e));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new TcpLink(socket));
      });
    });
  }
}
