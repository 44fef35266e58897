// Runs a session's commands one at a time: lines that arrive while one is in flight wait in the bounded inbound queue.
import type { ConsoleBackend } from './backend.js';
import type { ConsoleDispatcher } from './dispatch.js';
import { InboundQueue } from './queue.js';

/** Work for the runner: a line to run, or a reply the transport made (kept in order with command replies). */
export type RunnerItem = { kind: 'line'; text: string } | { kind: 'reply'; line: string };

export class CommandRunner {
  readonly queue = new InboundQueue<RunnerItem>();
  private busy = false;
  private stopped = false;
  private nowMs = 0;

  constructor(
    private readonly dispatcher: ConsoleDispatcher,
    private readonly backend: ConsoleBackend,
    /** QUIT ran: its `OK QUIT` is out; the transport ends the session. */
    private readonly onQuit: () => void,
    /** One item finished (UART prints its prompt here). */
    private readonly onDone: () => void = () => {},
    /**
     * The runner is settled with room: either waiting on an answer (a submit queues in order) or
     * idle with nothing queued (a submit runs at once). TCP decodes its backlog here.
     */
    private readonly onRoom: () => void = () => {},
  ) {}

  /** A command is waiting for the backend. */
  inFlight(): boolean {
    return this.busy;
  }

  /** Whether `submit` would run or queue an item without dropping one (TCP stops reading otherwise). */
  hasRoom(): boolean {
    return !this.stopped && (!this.busy || this.queue.length < this.queue.capacity);
  }

  /** Drops queued work and ignores answers still to come; the session is over. */
  stop(): void {
    this.stopped = true;
    this.queue.clear();
  }

  submit(item: RunnerItem, nowMs: number): void {
    if (this.stopped) return;
    this.nowMs = nowMs;
    if (this.busy) {
      const gone = this.queue.push(item);
      if (gone !== undefined) {
        this.backend.note({ kind: 'inbound-dropped', line: gone.kind === 'line' ? gone.text : gone.line });
      }
      return;
    }
    this.runFrom(item);
  }

  /** Runs `first` and then whatever queued, until a command goes asynchronous or the queue is empty. */
  private runFrom(first: RunnerItem | undefined): void {
    let item = first;
    while (item !== undefined && !this.stopped) {
      if (item.kind === 'reply') {
        this.dispatcher.send(item.line);
      } else {
        const step = this.dispatcher.run(item.text, this.nowMs);
        if (step instanceof Promise) {
          this.busy = true;
          step.then(
            (out) => this.resume(out === 'quit'),
            // The dispatcher turns backend failures into refusals; a rejection here is our own bug.
            () => this.resume(false),
          );
          this.onRoom();
          return;
        }
        // QUIT: the TCP session stops us in onQuit; the UART session detaches and goes on.
        if (step === 'quit') this.onQuit();
        if (this.stopped) return;
      }
      this.onDone();
      item = this.queue.shift();
    }
    if (!this.stopped) this.onRoom();
  }

  private resume(quit: boolean): void {
    this.busy = false;
    if (this.stopped) return;
    if (quit) this.onQuit();
    if (this.stopped) return;
    this.onDone();
    this.runFrom(this.queue.shift());
  }
}
