// Where command output goes: text (with `[console]` ACK lines, colour only on a TTY without NO_COLOR) or one JSON object per command.

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** What a command produces, as it happens. */
export interface Sink {
  /** A server ACK (or a local one shaped like it): `[console] <line>`. */
  ack(line: string): void;
  /** Content: stream lines, digests, reports. */
  line(text: string): void;
  /** A client message on stdout (`attached session 1 as Queen`, `ping: pong`). */
  info(text: string): void;
  /** A client error on stderr (`ping: not attached`). */
  error(text: string): void;
}

/** Colour when stdout is a TTY and NO_COLOR is unset or empty (https://no-color.org). */
export function useColour(isTty: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTty && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

export class TextSink implements Sink {
  constructor(
    private readonly io: Io,
    private readonly colour: boolean,
  ) {}
  ack(line: string): void {
    if (!this.colour) {
      this.io.out(`[console] ${line}\n`);
      return;
    }
    const c = line.startsWith('OK') ? GREEN : line.startsWith('ERR') ? RED : '';
    this.io.out(`${DIM}[console]${RESET} ${c}${line}${c === '' ? '' : RESET}\n`);
  }
  line(text: string): void {
    this.io.out(`${text}\n`);
  }
  info(text: string): void {
    this.io.out(`${text}\n`);
  }
  error(text: string): void {
    this.io.err(this.colour ? `${RED}${text}${RESET}\n` : `${text}\n`);
  }
}

/**
 * Records one command's output and passes it on. The script's "response line" (§4.4) is the
 * last ACK, or when there was none, the last plain output line.
 */
export class CommandRecord implements Sink {
  readonly acks: string[] = [];
  readonly lines: string[] = [];
  readonly messages: string[] = [];
  readonly errors: string[] = [];
  private lastPlain: string | null = null;

  constructor(private readonly next: Sink | null) {}

  ack(line: string): void {
    this.acks.push(line);
    this.next?.ack(line);
  }
  line(text: string): void {
    this.lines.push(text);
    this.lastPlain = text;
    this.next?.line(text);
  }
  info(text: string): void {
    this.messages.push(text);
    this.lastPlain = text;
    this.next?.info(text);
  }
  error(text: string): void {
    this.errors.push(text);
    this.lastPlain = text;
    this.next?.error(text);
  }

  response(): string | null {
    return this.acks.length > 0 ? this.acks[this.acks.length - 1] : this.lastPlain;
  }

  toJson(command: string, ok: boolean): string {
    return JSON.stringify({ command, ok, response: this.response(), acks: this.acks, lines: this.lines, messages: this.messages, errors: this.errors });
  }
}
