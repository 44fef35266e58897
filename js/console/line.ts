// UART line discipline (spec §2): CR ignored, LF ends a line, BS/DEL erase a character, other controls dropped, 256-byte lines.
import { utf8Decode } from '../bytes/utf8.js';
import { CONSOLE_LINE_BYTES_MAX } from './limits.js';

const LF = 0x0a;
const CR = 0x0d;
const BS = 0x08;
const DEL = 0x7f;
/** Longest UTF-8 sequence: a pending echo that has not decoded by then never will. */
const UTF8_SEQUENCE_BYTES_MAX = 4;
/** What a terminal needs to erase the character left of the cursor. */
export const ERASE_ECHO = '\b \b';
/** What a terminal needs to go to the start of the next line. */
export const NEWLINE_ECHO = '\r\n';

export type LineEvent =
  /** A whole line, as typed after editing; not trimmed (the request parser trims). */
  | { kind: 'line'; text: string }
  /** A line went past the bound; it was thrown away when its LF came. */
  | { kind: 'overlong' }
  /** A line whose bytes are not UTF-8; thrown away. */
  | { kind: 'invalid-utf8' };

export interface LineStep {
  consumed: number;
  /** Text to write back so the terminal shows what the line now holds. */
  echo: string;
  event: LineEvent | null;
}

/**
 * Turns raw UART bytes into lines. Holds at most CONSOLE_LINE_BYTES_MAX bytes; once a line is
 * over that it stops storing and echoing until the LF, so the overflowed tail can never run
 * as a command of its own.
 */
export class LineDiscipline {
  readonly bufferBytesMax = CONSOLE_LINE_BYTES_MAX;
  private readonly buf = new Uint8Array(CONSOLE_LINE_BYTES_MAX);
  private have = 0;
  /** First byte of a multi-byte character not yet echoed (echo waits for the whole character). */
  private echoFrom = 0;
  private discarding = false;

  buffered(): number {
    return this.have;
  }

  /** Drops a half-typed line (e.g. when the session restarts). */
  reset(): void {
    this.have = 0;
    this.echoFrom = 0;
    this.discarding = false;
  }

  next(chunk: Uint8Array, start = 0): LineStep {
    let echo = '';
    let i = start;
    while (i < chunk.length) {
      const b = chunk[i++];
      if (b === LF) {
        echo += NEWLINE_ECHO;
        return { consumed: i - start, echo, event: this.endLine() };
      }
      if (this.discarding || b === CR) continue;
      if (b === BS || b === DEL) {
        echo += this.erase();
        continue;
      }
      if (b < 0x20) continue;
      if (this.have === CONSOLE_LINE_BYTES_MAX) {
        this.discarding = true;
        continue;
      }
      this.buf[this.have++] = b;
      echo += this.echoPending();
    }
    return { consumed: i - start, echo, event: null };
  }

  /** Feeds a whole chunk; returns the echo and every event, in order. */
  push(chunk: Uint8Array): { echo: string; events: LineEvent[] } {
    let echo = '';
    const events: LineEvent[] = [];
    let at = 0;
    while (at < chunk.length) {
      const step = this.next(chunk, at);
      at += step.consumed;
      echo += step.echo;
      if (step.event !== null) events.push(step.event);
    }
    return { echo, events };
  }

  private endLine(): LineEvent {
    const overlong = this.discarding;
    const text = overlong ? null : utf8Decode(this.buf, 0, this.have);
    this.reset();
    if (overlong) return { kind: 'overlong' };
    return text === null ? { kind: 'invalid-utf8' } : { kind: 'line', text };
  }

  /** Echoes the bytes since echoFrom once they form whole characters. */
  private echoPending(): string {
    const text = utf8Decode(this.buf, this.echoFrom, this.have);
    if (text !== null) {
      this.echoFrom = this.have;
      return text;
    }
    // Not (yet) UTF-8: wait for the rest of the character, but not forever.
    if (this.have - this.echoFrom >= UTF8_SEQUENCE_BYTES_MAX) this.echoFrom = this.have;
    return '';
  }

  /** Removes one character (a whole UTF-8 sequence); echoes an erase only if it had been shown. */
  private erase(): string {
    if (this.have === 0) return '';
    let n = 1;
    while (n < UTF8_SEQUENCE_BYTES_MAX && this.have - n > 0 && (this.buf[this.have - n] & 0xc0) === 0x80) n++;
    // A lone run of continuation bytes with no lead: erase just one byte.
    if ((this.buf[this.have - n] & 0xc0) === 0x80 || (this.buf[this.have - n] < 0x80 && n > 1)) n = 1;
    const shown = this.have - n < this.echoFrom;
    this.have -= n;
    if (this.echoFrom > this.have) this.echoFrom = this.have;
    return shown ? ERASE_ECHO : '';
  }
}
