// ConsoleLink over TCP (node:net): spec §2 framing from js/console, AUTH then ATTACH queen, replies matched first-in first-out.
import { createConnection, type Socket } from 'node:net';
import { encodeFrame, FrameDecoder } from '../../js/console/frame.js';
import { FRAME_REQUEST_PAYLOAD_BYTES_MAX } from '../../js/console/limits.js';
import { parseReplyLine } from '../../js/console/reply-parse.js';
import { BridgeError } from './errors.js';
import { STREAM_VERBS, type ConsoleLink, type ConsoleReply } from './link.js';
import { CONNECT_TIMEOUT_MS, REQUEST_TIMEOUT_MS, STREAM_LINES_MAX } from './limits.js';

export interface ConnectOptions {
  host: string;
  port: number;
  authToken: string;
  /** Attach role; the bridge always publishes as queen (spec §11.3). */
  role?: string;
}

interface Pending {
  verb: string;
  ack: ConsoleReply | null;
  resolve: (r: ConsoleReply | BridgeError) => void;
  timer: ReturnType<typeof setTimeout>;
}

class TcpLink implements ConsoleLink {
  private readonly decoder = new FrameDecoder('client');
  private readonly pending: Pending[] = [];
  private dead: BridgeError | null = null;

  constructor(private readonly sock: Socket) {
    sock.on('data', (b: Buffer) => this.onBytes(new Uint8Array(b.buffer, b.byteOffset, b.length)));
    sock.on('close', () => this.fail(new BridgeError('connection-lost', 'the hive closed the console connection')));
    sock.on('error', (e) => this.fail(new BridgeError('connection-lost', `console socket: ${e.message}`)));
  }

  alive(): boolean {
    return this.dead === null;
  }

  request(line: string): Promise<ConsoleReply | BridgeError> {
    if (this.dead !== null) return Promise.resolve(this.dead);
    const frame = encodeFrame(line, FRAME_REQUEST_PAYLOAD_BYTES_MAX);
    // Over 256 bytes is a bug in the caller (paths and payloads are bounded before this); refuse it locally.
    if (!(frame instanceof Uint8Array)) return Promise.resolve(new BridgeError('refused', `request line too long: ${frame.message}`));
    const verb = line.trim().split(/\s+/, 1)[0].toUpperCase();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // FIFO matching is lost once a reply is missing: the link cannot be trusted any more.
        this.fail(new BridgeError('request-timeout', `no reply to ${line.slice(0, 60)} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.push({ verb, ack: null, resolve, timer });
      this.sock.write(frame);
    });
  }

  async close(): Promise<void> {
    if (this.dead !== null) return;
    // QUIT is best effort: a clean quit records no root cut on the hive (spec §15).
    await this.request('QUIT');
    this.fail(new BridgeError('connection-lost', 'closed by gpu-bridge-host'));
  }

  private onBytes(b: Uint8Array): void {
    for (const ev of this.decoder.push(b)) {
      if (ev.kind === 'fatal') return this.fail(new BridgeError('connection-lost', `console framing: ${ev.message}`));
      if (ev.kind === 'frame') this.onLine(ev.text);
      // A non-UTF-8 reply frame carries nothing we can match; skip it.
    }
  }

  private onLine(text: string): void {
    const head = this.pending[0];
    if (head === undefined) return; // log lines the hive flushes between commands
    const p = parseReplyLine(text);
    if (head.ack === null) {
      if (p.kind !== 'ack') return; // text before the ACK: flushed log lines, bare PONG
      head.ack = { status: p.status, label: p.label, rest: p.rest, lines: [] };
      if (p.status === 'ERR' || !STREAM_VERBS.has(head.verb) || head.verb === 'QUIT') this.finish(head.ack);
      return;
    }
    // Inside a stream: END closes it; a second ERR with the same label is a forwarding failure (spec §3.5).
    if (p.kind === 'end') return this.finish(head.ack);
    if (p.kind === 'pong') return;
    if (p.kind === 'ack' && p.status === 'ERR' && p.label === head.ack.label) {
      return this.finish({ status: 'ERR', label: p.label, rest: p.rest, lines: [] });
    }
    if (head.ack.lines.length >= STREAM_LINES_MAX) {
      return this.fail(new BridgeError('connection-lost', `stream for ${head.verb} went past ${STREAM_LINES_MAX} lines without END`));
    }
    head.ack.lines.push(text);
  }

  private finish(r: ConsoleReply): void {
    const head = this.pending.shift() as Pending;
    clearTimeout(head.timer);
    head.resolve(r);
  }

  private fail(e: BridgeError): void {
    if (this.dead !== null) return;
    this.dead = e;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.resolve(e);
    }
    this.sock.destroy();
  }
}

function open(host: string, port: number): Promise<Socket | BridgeError> {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(new BridgeError('connect-failed', `no connection to ${host}:${port} within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      resolve(new BridgeError('connect-failed', `cannot connect to ${host}:${port}: ${e.message}`));
    });
  });
}

/** Connects, authenticates and attaches; an error value names the step that failed. */
export async function connectConsole(o: ConnectOptions): Promise<ConsoleLink | BridgeError> {
  const sock = await open(o.host, o.port);
  if (sock instanceof BridgeError) return sock;
  const link = new TcpLink(sock);
  const auth = await link.request(`AUTH ${o.authToken}`);
  if (auth instanceof BridgeError) return auth.code === 'connection-lost' ? new BridgeError('auth-failed', `AUTH: ${auth.message}`) : auth;
  if (auth.status !== 'OK' || auth.label !== 'AUTH') {
    await link.close();
    return new BridgeError('auth-failed', `${auth.status} ${auth.label} ${auth.rest}`.trim());
  }
  const role = o.role ?? 'queen';
  const att = await link.request(`ATTACH ${role}`);
  if (att instanceof BridgeError) return att;
  if (att.status !== 'OK') {
    await link.close();
    return new BridgeError('attach-failed', `ERR ${att.label} ${att.rest}`);
  }
  return link;
}
