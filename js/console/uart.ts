// The UART recovery console session (spec §2): no AUTH, line editing with echo, `cohesix> ` prompt, same dispatcher as TCP.
import type { AttachGuard } from './attach-guard.js';
import type { ConsoleBackend, ExtraVerbs } from './backend.js';
import { ConsoleDispatcher } from './dispatch.js';
import { LineDiscipline, NEWLINE_ECHO, type LineEvent } from './line.js';
import { ParseError } from './request.js';
import { CommandRunner } from './runner.js';

export const UART_PROMPT = 'cohesix> ';

export interface UartSessionOptions {
  backend: ConsoleBackend;
  /** The UART's own ATTACH guard: physical access is its own source. */
  guard: AttachGuard;
  /** Writes text to the UART (ConsoleCap.write). */
  write: (text: string) => void;
  /** Recovery verbs beyond spec §3.1 (tasks, restart the net console, ...). */
  extraVerbs?: ExtraVerbs;
}

/**
 * Physical access is the credential, so there is no AUTH and no idle timeout. QUIT answers
 * `OK QUIT` and ends the *attachment* (the backend hears `closed('quit')`); the console itself
 * stays, with a fresh prompt, because a UART cannot be hung up.
 */
export class UartConsoleSession {
  private readonly lines = new LineDiscipline();
  private readonly dispatcher: ConsoleDispatcher;
  private readonly runner: CommandRunner;

  constructor(private readonly opts: UartSessionOptions) {
    this.dispatcher = new ConsoleDispatcher(opts.backend, opts.guard, (l) => opts.write(l + NEWLINE_ECHO), opts.extraVerbs);
    this.runner = new CommandRunner(
      this.dispatcher,
      opts.backend,
      () => {
        this.dispatcher.detach();
        opts.backend.closed('quit');
      },
      () => opts.write(UART_PROMPT),
    );
  }

  private prompted = false;

  /**
   * Prints the first prompt, once (root-task calls it when the hive is ONLINE, or when it gave up
   * waiting). Lines typed before it are answered as usual; each answer ends in a prompt of its own.
   */
  start(): void {
    if (this.prompted) return;
    this.prompted = true;
    this.opts.write(UART_PROMPT);
  }

  attachment(): ReturnType<ConsoleDispatcher['attachedAs']> {
    return this.dispatcher.attachedAs();
  }

  queueCounters(): { queued: number; dropped: number; waiting: number } {
    const q = this.runner.queue;
    return { queued: q.queued, dropped: q.dropped, waiting: q.length };
  }

  receive(bytes: Uint8Array, nowMs: number): void {
    let at = 0;
    while (at < bytes.length) {
      const step = this.lines.next(bytes, at);
      at += step.consumed;
      if (step.echo !== '') this.opts.write(step.echo);
      if (step.event !== null) this.onLine(step.event, nowMs);
    }
  }

  private onLine(ev: LineEvent, nowMs: number): void {
    switch (ev.kind) {
      case 'line':
        this.runner.submit({ kind: 'line', text: ev.text }, nowMs);
        return;
      case 'overlong':
        this.runner.submit({ kind: 'reply', line: new ParseError('line-too-long').line() }, nowMs);
        return;
      case 'invalid-utf8':
        this.runner.submit({ kind: 'reply', line: new ParseError('invalid-value', 'line').line() }, nowMs);
    }
  }
}
