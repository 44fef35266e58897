// The two operator consoles of root-task: the TCP console (framed, AUTH, bounded sessions) and the UART recovery console.
import type { Caps, ListenerId } from '../caps/index.js';
import { AttachGuard, ConsoleSessionTable, UartConsoleSession, type ConsoleBackend, type ExtraVerbs } from '../console/index.js';

/** What the TCP console hears from its network side. */
export interface ConsoleNetHandlers {
  onAccept(sock: number, peer: string): void;
  onData(sock: number, bytes: Uint8Array): void;
  onClose(sock: number): void;
  /** Listening, on this port. */
  onReady(port: number): void;
  /** The network side is gone (could not listen, or its task died): every session is over. */
  onDown(reason: string): void;
}

/** The TCP console's network side: root-task's own sockets, or the net-console relay task. */
export interface ConsoleNet {
  listen(host: string, port: number, h: ConsoleNetHandlers): void;
  /** Throws when the bytes cannot be queued (the session then ends as a slow peer). */
  write(sock: number, bytes: Uint8Array): void;
  close(sock: number): void;
  /** Stop (true) or resume (false) reading the connection: back-pressure while its session's queue is full. */
  pauseReads(sock: number, paused: boolean): void;
  stop(): void;
}

/** root-task's own sockets (images without a net-console task). */
export function directNet(caps: Caps): ConsoleNet {
  let listener: ListenerId | null = null;
  return {
    listen(host, port, h) {
      try {
        listener = caps.net.listen({ host, port }, { onAccept: h.onAccept, onData: h.onData, onClose: h.onClose });
      } catch (e) {
        return h.onDown((e as Error).message);
      }
      h.onReady(caps.net.localPort(listener));
    },
    write: (sock, bytes) => caps.net.write(sock, bytes),
    close: (sock) => caps.net.close(sock),
    pauseReads: (sock, paused) => caps.net.pauseReads(sock, paused),
    stop() {
      if (listener !== null) caps.net.closeListener(listener);
      listener = null;
    },
  };
}

export interface TcpConsoleOptions {
  host: string;
  port: number;
  authToken: string;
  maxSessions: number;
  /** Manifest console.idle_timeout_ms; the spec's 300 s when absent. */
  idleTimeoutMs?: number;
  net: ConsoleNet;
}

/** The TCP console: the protocol here, the sockets behind a ConsoleNet; restartable from the UART. */
export class TcpConsole {
  private table: ConsoleSessionTable | null = null;
  private tickTimer = 0;
  private makeBackend: ((peer: string) => ConsoleBackend) | null = null;
  /** Listening, or known not to be, since the first start: what the UART's first prompt waits for. */
  private settled = false;
  private onSettled: (() => void) | null = null;
  port = 0;

  constructor(private readonly caps: Caps, private readonly o: TcpConsoleOptions) {}

  /**
   * Names who answers each session. Apart from the constructor because the backends' info verbs
   * read this console's figures (netstats): the console exists first, then its backends.
   */
  setBackends(makeBackend: (peer: string) => ConsoleBackend): void {
    this.makeBackend = makeBackend;
  }

  /** Runs fn once the first start has its answer (listening, or down with the reason logged); at once if it has. */
  whenSettled(fn: () => void): void {
    if (this.settled) fn();
    else this.onSettled = fn;
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    const fn = this.onSettled;
    this.onSettled = null;
    fn?.();
  }

  start(port: number = this.o.port): void {
    const caps = this.caps;
    const makeBackend = this.makeBackend;
    // A wiring bug, not a runtime condition: root-task sets the backends before anything starts.
    if (makeBackend === null) throw new Error('tcp console started before setBackends');
    const table = new ConsoleSessionTable({ authToken: this.o.authToken, maxSessions: this.o.maxSessions, idleTimeoutMs: this.o.idleTimeoutMs, makeBackend });
    const now = (): number => caps.timer.nowMs();
    const net = this.o.net;
    this.table = table;
    net.listen(this.o.host, port, {
      onAccept: (sock, peer) => {
        table.accept(sock, peer, { write: (b) => net.write(sock, b), close: () => net.close(sock), pauseReads: (p) => net.pauseReads(sock, p) }, now());
        this.schedule();
      },
      onData: (sock, bytes) => {
        table.receive(sock, bytes, now());
        this.schedule();
      },
      onClose: (sock) => table.peerClosed(sock),
      onReady: (p) => {
        this.port = p;
        // Scripts wait for this line (README: fixed names).
        caps.log.write(`console ready port=${p}`);
        this.settle();
      },
      onDown: (reason) => {
        caps.log.write(`tcp console unavailable: ${reason}`);
        if (this.table === table) this.drop();
        this.settle();
      },
    });
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

  /** Authenticated sessions (console.max_sessions bounds these). */
  sessions(): number {
    return this.table ? this.table.size() : 0;
  }

  /** Connections still in AUTH (AUTH_PENDING_SESSIONS_MAX bounds these). */
  authPending(): number {
    return this.table ? this.table.pendingAuth() : 0;
  }

  private drop(): void {
    const table = this.table;
    this.table = null;
    this.caps.timer.clear(this.tickTimer);
    table?.closeAll('server');
  }

  stop(): void {
    this.drop();
    this.o.net.stop();
  }

  restart(): string {
    // The port it had, not the configured one: with port 0 (pick a free one) clients would lose the console.
    const port = this.port > 0 ? this.port : this.o.port;
    this.stop();
    this.start(port);
    return `tcp console restarting on port ${port}`;
  }
}

/**
 * The UART recovery console: physical access is the credential (no AUTH). It takes input at once;
 * its first prompt waits for the caller's `start()` (root-task: the hive ONLINE, or a bounded wait).
 */
export function startUartConsole(caps: Caps, backend: ConsoleBackend, extraVerbs: ExtraVerbs): UartConsoleSession {
  const uart = new UartConsoleSession({ backend, guard: new AttachGuard(), write: (t) => caps.console.write(t), extraVerbs });
  caps.console.onInput((bytes) => uart.receive(bytes, caps.timer.nowMs()));
  return uart;
}
