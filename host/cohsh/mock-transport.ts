// `--transport mock`: an in-process hive; each link is a real js/console TCP session (same framing, AUTH and dispatch) fed in memory.
import { AttachGuard } from '../../js/console/attach-guard.js';
import { encodeFrame, FrameDecoder } from '../../js/console/frame.js';
import { TcpConsoleSession } from '../../js/console/session.js';
import { CohshError } from './errors.js';
import { SEND_LINE_BYTES_MAX } from './limits.js';
import { MockHive } from './mock-hive.js';
import { LineInbox, monotonicMs, type ConsoleLink, type Transport } from './transport.js';

class MockLink implements ConsoleLink {
  readonly inbox = new LineInbox();
  private readonly decoder = new FrameDecoder('client');
  readonly session: TcpConsoleSession;

  constructor(hive: MockHive, authToken: string, guard: AttachGuard) {
    this.session = new TcpConsoleSession({
      authToken,
      backend: hive.backend(),
      guard,
      nowMs: monotonicMs(),
      transport: {
        // Delivered on a later turn, as a socket would: replies never re-enter the sender.
        write: (bytes) => {
          const copy = bytes.slice();
          setImmediate(() => {
            for (const ev of this.decoder.push(copy)) if (ev.kind === 'frame') this.inbox.push(ev.text);
          });
        },
        close: () => setImmediate(() => this.inbox.lost('closed by server')),
      },
    });
  }

  send(line: string): CohshError | null {
    if (!this.inbox.isOpen()) return new CohshError('connection-lost', 'connection lost: not connected');
    const f = encodeFrame(line, SEND_LINE_BYTES_MAX);
    if (!(f instanceof Uint8Array)) return new CohshError('check', `line too long to send: ${f.message}`);
    this.session.receive(f, monotonicMs());
    return null;
  }
  readLine(deadlineMs: number): Promise<string | null | CohshError> {
    return this.inbox.read(deadlineMs);
  }
  isOpen(): boolean {
    return this.inbox.isOpen();
  }
  onLost(cb: (reason: string) => void): void {
    this.inbox.onLost(cb);
  }
  close(): void {
    this.inbox.closeLocal();
    this.session.peerClosed();
  }
}

export class MockTransport implements Transport {
  readonly name = 'mock';
  readonly endpoint = 'mock hive';
  private readonly guard = new AttachGuard();

  constructor(
    readonly hive: MockHive,
    /** The token the mock hive expects; cohsh's own --auth-token is checked against it. */
    private readonly hiveToken: string,
  ) {}

  async open(_timeoutMs: number): Promise<ConsoleLink | CohshError> {
    return new MockLink(this.hive, this.hiveToken, this.guard);
  }
}
