// `.coh` script syntax (spec §4.4): statements, comments, EXPECT OK|ERR|SUBSTR|NOT, WAIT 0..2000, ≤ 256 statements.
import { SCRIPT_STATEMENTS_MAX, SCRIPT_WAIT_MS_MAX } from './limits.js';

export type ExpectTest = 'OK' | 'ERR' | 'SUBSTR' | 'NOT';

export type Statement =
  | { kind: 'command'; line: number; text: string }
  | { kind: 'expect'; line: number; text: string; test: ExpectTest; arg: string }
  | { kind: 'wait'; line: number; text: string; ms: number };

export class ScriptSyntaxError {
  readonly code = 'script-syntax';
  constructor(
    readonly line: number,
    readonly message: string,
  ) {}
  toString(): string {
    return `script syntax error at line ${this.line}: ${this.message}`;
  }
}

/** Text before the first `#`, trimmed (spec: everything after the first `#` is a comment). */
export function stripComment(raw: string): string {
  const hash = raw.indexOf('#');
  return (hash < 0 ? raw : raw.slice(0, hash)).trim();
}

/**
 * Parses a script. `isCommand` says whether a word is a cohsh command, so a typo is a syntax
 * error at `--check` time rather than a failure half-way through a run.
 */
export function parseScript(source: string, isCommand: (word: string) => boolean): Statement[] | ScriptSyntaxError {
  const out: Statement[] = [];
  let sawCommand = false;
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const text = stripComment(lines[i]);
    if (text === '') continue;
    if (out.length >= SCRIPT_STATEMENTS_MAX) return new ScriptSyntaxError(n, `more than ${SCRIPT_STATEMENTS_MAX} statements`);
    const [head, ...restWords] = text.split(/\s+/);
    const keyword = head.toUpperCase();
    if (keyword === 'EXPECT') {
      if (!sawCommand) return new ScriptSyntaxError(n, 'EXPECT before the first command');
      const form = (restWords[0] ?? '').toUpperCase();
      const arg = text.replace(/^\S+\s+\S+\s*/, '');
      if (form === 'OK' || form === 'ERR') {
        if (restWords.length !== 1) return new ScriptSyntaxError(n, `EXPECT ${form} takes no argument`);
        out.push({ kind: 'expect', line: n, text, test: form, arg: '' });
      } else if (form === 'SUBSTR' || form === 'NOT') {
        if (restWords.length < 2) return new ScriptSyntaxError(n, `EXPECT ${form} requires text`);
        out.push({ kind: 'expect', line: n, text, test: form, arg });
      } else {
        return new ScriptSyntaxError(n, `unknown EXPECT form '${restWords[0] ?? ''}' (OK, ERR, SUBSTR <text>, NOT <text>)`);
      }
      continue;
    }
    if (keyword === 'WAIT') {
      const v = restWords.length === 1 && /^[0-9]+$/.test(restWords[0]) ? Number(restWords[0]) : NaN;
      if (!(v >= 0 && v <= SCRIPT_WAIT_MS_MAX)) return new ScriptSyntaxError(n, `WAIT takes milliseconds 0..${SCRIPT_WAIT_MS_MAX}`);
      out.push({ kind: 'wait', line: n, text, ms: v });
      continue;
    }
    if (!isCommand(head)) return new ScriptSyntaxError(n, `unknown command '${head}'`);
    sawCommand = true;
    out.push({ kind: 'command', line: n, text });
  }
  return out;
}

/** Whether a response line passes an EXPECT; the reason when it does not. */
export function checkExpect(test: ExpectTest, arg: string, response: string | null): string | null {
  const r = response ?? '';
  switch (test) {
    case 'OK':
      return r.startsWith('OK') ? null : 'response does not start with OK';
    case 'ERR':
      return r.startsWith('ERR') ? null : 'response does not start with ERR';
    case 'SUBSTR':
      return r.includes(arg) ? null : `response does not contain '${arg}'`;
    case 'NOT':
      return r.includes(arg) ? `response contains '${arg}'` : null;
  }
}
