// `--transport mock`: an in-process hive; each link is a real js/console TCP session (same framing, AUTH and dispatch) fed in memory.
import { AttachGuard } from '../../../js/console/attach-guard.js';
import { FrameDecoder } from '../../../js/console/frame.js';
import { TcpConsoleSession } from '../../../js/console/session.js';
import { CohshError } from '../errors.js';
import { MockHive } from './hive.js';
import { FramedLink, monotonicMs, type ConsoleLink, type Transport } from '../transport.js';

class MockLink extends FramedLink {
  private readonly decoder = new FrameDecoder('client');
  readonly session: TcpConsoleSession;

  constructor(hive: MockHive, authToken: string, guard: AttachGuard) {
    super();
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

  protected deliver(frame: Uint8Array): void {
    this.session.receive(frame, monotonicMs());
  }
  protected hangUp(): void {
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
