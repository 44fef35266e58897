// The interactive shell (spec §4.2): banner, `coh> ` prompt, history, Tab completion, Ctrl-C stops a follow (not the shell), EOF leaves.
import { createInterface } from 'node:readline';
import type { History } from './history.js';
import type { CommandOutcome } from './commands.js';

export const BANNER = "Welcome to Cohesix. Type 'help' for commands.";
export const DETACHED_HINT = "detached shell: run 'attach <role>' to connect";
export const PROMPT = 'coh> ';

export interface InteractiveDeps {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  terminal: boolean;
  history: History;
  /** Runs one line; `followSignal` gives `tail -f` a signal that Ctrl-C aborts. */
  exec(line: string, followSignal: () => AbortSignal): Promise<CommandOutcome>;
  complete(line: string): Promise<[string[], string]>;
  /** Called once when the shell ends (quit or end of input), before it resolves. */
  close(): Promise<void>;
  note(text: string): void;
}

/** Runs until `quit` or end of input; resolves with the exit status. */
export function runInteractive(d: InteractiveDeps): Promise<number> {
  return new Promise((resolve) => {
    const rl = createInterface({
      input: d.input,
      output: d.output,
      terminal: d.terminal,
      prompt: PROMPT,
      history: d.history.newestFirst(),
      historySize: d.history.max,
      removeHistoryDuplicates: true,
      completer: (line: string, cb: (err: Error | null, result: [string[], string]) => void) => {
        d.complete(line).then((r) => cb(null, r), () => cb(null, [[], line]));
      },
    });
    const queue: string[] = [];
    let running = false;
    let inputEnded = false;
    let finished = false;
    let follow: AbortController | null = null;

    const finish = async (code: number) => {
      if (finished) return;
      finished = true;
      follow?.abort();
      await d.close();
      rl.close();
      resolve(code);
    };

    const followSignal = () => {
      follow = new AbortController();
      return follow.signal;
    };

    const pump = async () => {
      if (running || finished) return;
      running = true;
      while (queue.length > 0 && !finished) {
        const line = queue.shift() as string;
        d.history.add(line);
        const out = await d.exec(line, followSignal);
        follow = null;
        if (out.quit === true) {
          await finish(0);
          return;
        }
      }
      running = false;
      if (inputEnded) await finish(0);
      else rl.prompt();
    };

    rl.on('line', (line) => {
      queue.push(line);
      void pump();
    });
    rl.on('close', () => {
      inputEnded = true;
      if (!running) void finish(0);
    });
    rl.on('SIGINT', () => {
      if (follow !== null) {
        follow.abort();
        return;
      }
      if (rl.line.length > 0) {
        rl.write(null, { ctrl: true, name: 'u' });
        return;
      }
      d.note("^C (type 'quit' or press Ctrl-D to leave)");
      rl.prompt();
    });
    rl.prompt();
  });
}
