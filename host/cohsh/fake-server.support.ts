// Test support: a real TCP console server on loopback built from js/console's session table over a MockHive, with hooks to script it.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConsoleSessionTable } from '../../js/console/sessions.js';
import type { ConsoleBackend } from '../../js/console/backend.js';
import { ProviderError } from '../../js/console/errors.js';
import { ReloadRefusal, type ReloadOp } from '../../js/console/reload.js';
import { MockHive } from './mock/hive.js';

/** Longest a test waits for a condition on the server side, in ms. */
export const FAKE_WAIT_MS_MAX = 5000;

export class FakeConsoleServer {
  readonly hive: MockHive;
  readonly received: string[] = [];
  connections = 0;
  /** Refuse ECHO to these paths with this provider error (scripted failures). */
  readonly failEcho = new Map<string, ProviderError>();
  /** Answers RELOAD stages when set (the mock hive has none); each stage is also kept in `reloads`. */
  reload: ((op: ReloadOp) => string | ReloadRefusal) | null = null;
  readonly reloads: ReloadOp[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | null = null;
  private table: ConsoleSessionTable<number>;
  private nextId = 1;
  port = 0;

  constructor(readonly authToken = 'changeme', hive?: MockHive) {
    this.hive = hive ?? new MockHive({ seedGpus: true });
    this.table = this.makeTable();
  }

  private makeTable(): ConsoleSessionTable<number> {
    return new ConsoleSessionTable<number>({
      authToken: this.authToken,
      makeBackend: () => this.backend(),
    });
  }

  private backend(): ConsoleBackend {
    const b = this.hive.backend();
    const echo = b.echo.bind(b);
    b.echo = (path, payload) => this.failEcho.get(path) ?? echo(path, payload);
    b.reload = (op) => {
      this.reloads.push(op);
      return this.reload === null ? new ReloadRefusal('policy', 'unsupported') : this.reload(op);
    };
    return b;
  }

  async start(port = 0): Promise<number> {
    const server = createServer((sock) => this.accept(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    return this.port;
  }

  private accept(sock: Socket): void {
    const id = this.nextId++;
    this.connections++;
    this.sockets.add(sock);
    sock.setNoDelay(true);
    const peer = `${sock.remoteAddress}:${sock.remotePort}`;
    // Record what the client sent, decoded the same way the session does.
    let pending = Buffer.alloc(0);
    this.table.accept(id, peer, {
      write: (b) => sock.write(b),
      close: () => sock.end(),
    }, performance.now());
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const n = pending.readUInt32LE(0);
        if (n < 4 || pending.length < n) break;
        this.received.push(pending.subarray(4, Math.min(n, 4 + 300)).toString('utf8'));
        pending = pending.subarray(n);
      }
      this.table.receive(id, new Uint8Array(chunk), performance.now());
    });
    sock.on('close', () => {
      this.sockets.delete(sock);
      this.table.peerClosed(id);
    });
    sock.on('error', () => undefined);
  }

  /** Drops every open connection, as a hive restart or a network cut would. */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.dropAll();
    const s = this.server;
    this.server = null;
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Resolves when `pred` holds, or rejects after FAKE_WAIT_MS_MAX. */
  async waitFor(pred: () => boolean, what: string): Promise<void> {
    const until = performance.now() + FAKE_WAIT_MS_MAX;
    while (!pred()) {
      if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}
