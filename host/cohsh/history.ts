// Command history for the interactive shell: loaded from and appended to ~/.cohsh_history (COHSH_HISTORY), bounded; tickets never stored.
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HISTORY_FILE_BYTES_MAX, HISTORY_LINES_MAX } from './limits.js';

export function historyPath(env: NodeJS.ProcessEnv): string {
  return env.COHSH_HISTORY !== undefined && env.COHSH_HISTORY !== '' ? env.COHSH_HISTORY : join(homedir(), '.cohsh_history');
}

/** A line worth keeping: not blank and carrying no ticket (a ticket is a bearer credential). */
export function keepInHistory(line: string): boolean {
  return line.trim() !== '' && !line.includes('cohesix-ticket-');
}

export class History {
  /** Oldest first. */
  readonly lines: string[] = [];

  constructor(
    readonly path: string,
    readonly max: number = HISTORY_LINES_MAX,
  ) {}

  /** Loads the newest `max` lines; a missing or unreadable file is an empty history. */
  load(): this {
    try {
      if (statSync(this.path).size > HISTORY_FILE_BYTES_MAX) return this;
      const all = readFileSync(this.path, 'utf8').split('\n').filter((l) => l !== '');
      this.lines.push(...all.slice(-this.max));
    } catch {
      // No history yet.
    }
    return this;
  }

  /** Records a line in memory and on disk; rewrites the file when it has grown past twice the bound. */
  add(line: string): void {
    const l = line.trim();
    if (!keepInHistory(l) || this.lines[this.lines.length - 1] === l) return;
    this.lines.push(l);
    let rewrite = false;
    if (this.lines.length > this.max) {
      this.lines.splice(0, this.lines.length - this.max);
      rewrite = true;
    }
    try {
      if (rewrite) writeFileSync(this.path, `${this.lines.join('\n')}\n`, { mode: 0o600 });
      else appendFileSync(this.path, `${l}\n`, { mode: 0o600 });
    } catch {
      // History is a convenience: a read-only home must not break the shell.
    }
  }

  /** Newest first, as node:readline wants its `history` option. */
  newestFirst(): string[] {
    return [...this.lines].reverse();
  }
}
