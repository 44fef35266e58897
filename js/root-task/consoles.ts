// The two operator consoles of root-task: the TCP console (framed, AUTH, bounded sessions) and the UART recovery console.
import type { Caps, ListenerId } from '../caps/index.js';
import { AttachGuard, ConsoleSessionTable, UartConsoleSession, type ConsoleBackend, type ExtraVerbs } from '../console/index.js';

export interface TcpConsoleOptions {
  host: string;
  port: number;
  authToken: string;
  maxSessions: number;
  makeBackend: (peer: string) => ConsoleBackend;
}

/** The TCP console listener; restartable from the UART when the network side misbehaves. */
export class TcpConsole {
  private table: ConsoleSessionTable | null = null;
  private listener: ListenerId | null = null;
  private tickTimer = 0;
  port = 0;

  constructor(private readonly caps: Caps, private readonly o: TcpConsoleOptions) {}

  /** Returns false when the platform has no network (seL4 today): the UART console stays the operator path. */
  start(port: number = this.o.port): boolean {
    const caps = this.caps;
    const table = new ConsoleSessionTable({ authToken: this.o.authToken, maxSessions: this.o.maxSessions, makeBackend: this.o.makeBackend });
    const now = (): number => caps.timer.nowMs();
    const handlers = {
      onAccept: (sock: number, peer: string) => {
        table.accept(sock, peer, { write: (b) => caps.net.write(sock, b), close: () => caps.net.close(sock) }, now());
        this.schedule();
      },
      onData: (sock: number, bytes: Uint8Array) => {
        table.receive(sock, bytes, now());
        this.schedule();
      },
      onClose: (sock: number) => table.peerClosed(sock),
    };
    try {
      this.listener = caps.net.listen({ host: this.o.host, port }, handlers);
    } catch (e) {
      caps.log.write(`tcp console unavailable: ${(e as Error).message}`);
      return false;
    }
    this.table = table;
    this.port = caps.net.localPort(this.listener);
    // Scripts wait for this line (README: fixed names).
    caps.log.write(`console ready port=${this.port}`);
    return true;
  }

  /** Arms one timer for the table's next deadline (AUTH deadline, idle timeout). */
  private schedule(): void {
    const table = this.table;
    if (!table) return;
    const next = table.nextDeadlineMs();
    if (next === null) return;
    this.caps.timer.clear(this.tickTimer);
    this.tickTimer = this.caps.timer.setTimeout(() => {
      table.tick(this.caps.timer.nowMs());
      this.schedule();
    }, Math.max(0, next - this.caps.timer.nowMs()));
  }

  sessions(): number {
    return this.table ? this.table.size() : 0;
  }

  stop(): void {
    this.table?.closeAll('server');
    if (this.listener !== null) this.caps.net.closeListener(this.listener);
    this.caps.timer.clear(this.tickTimer);
    this.table = null;
    this.listener = null;
  }

  restart(): string {
    // The port it had, not the configured one: with port 0 (pick a free one) clients would lose the console.
    const port = this.port > 0 ? this.port : this.o.port;
    this.stop();
    return this.start(port) ? `tcp console restarted on port ${this.port}` : 'tcp console could not listen again';
  }
}

/** The UART recovery console: physical access is the credential (no AUTH). */
export function startUartConsole(caps: Caps, backend: ConsoleBackend, extraVerbs: ExtraVerbs): UartConsoleSession {
  const uart = new UartConsoleSession({ backend, guard: new AttachGuard(), write: (t) => caps.console.write(t), extraVerbs });
  caps.console.onInput((bytes) => uart.receive(bytes, caps.timer.nowMs()));
  uart.start();
  return uart;
}
