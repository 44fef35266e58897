// Runs parsed `.coh` statements (spec §4.4): response lines, the tolerated-ERR-before-EXPECT rule, WAIT, quit, and the failure text.
import { MSIZE_OVERFLOW_BYTES } from './limits.js';
import { checkExpect, type Statement } from './script.js';

export interface StepResult {
  ok: boolean;
  /** Last ACK line of the command, or its last plain output line; null when it printed nothing. */
  response: string | null;
  quit?: boolean;
}

export interface ScriptFailure {
  line: number;
  text: string;
  reason: string;
  lastCommand: string | null;
  lastResponse: string | null;
}

export type ScriptOutcome = { ok: true; quit: boolean } | { ok: false; failure: ScriptFailure };

export interface ScriptHooks {
  exec(text: string, stmt: Statement): Promise<StepResult>;
  sleep(ms: number): Promise<void>;
  /** Statements to leave out (self-test --no-mutate); EXPECTs right after a skipped command go too. */
  skip?(stmt: Statement): boolean;
  /** Called after each command and each EXPECT with its verdict. */
  onStep?(stmt: Statement, ok: boolean, detail: string): void;
  /** Monotonic ms after which the run fails (self-test timeout); none for plain scripts. */
  deadlineMs?: number;
  now?(): number;
}

export const MSIZE_OVERFLOW_TOKEN = '{{msize_overflow}}';

/** A queen-ctl JSON line over the 8192-byte frame bound, for the oversize test. */
export function msizeOverflowLine(): string {
  const head = '{"spawn":"heartbeat","ticks":1,"pad":"';
  const tail = '"}';
  return head + 'x'.repeat(MSIZE_OVERFLOW_BYTES - head.length - tail.length) + tail;
}

export function formatFailure(f: ScriptFailure): string {
  return [
    `script failure at line ${f.line}: ${f.text}`,
    `reason: ${f.reason}`,
    `last command: ${f.lastCommand ?? '(none)'}`,
    `last response: ${f.lastResponse ?? '(none)'}`,
  ].join('\n');
}

export async function runScript(stmts: readonly Statement[], hooks: ScriptHooks): Promise<ScriptOutcome> {
  let lastCommand: string | null = null;
  let lastResponse: string | null = null;
  let skipping = false;
  const failure = (s: Statement, reason: string): ScriptOutcome => ({ ok: false, failure: { line: s.line, text: s.text, reason, lastCommand, lastResponse } });
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    if (hooks.deadlineMs !== undefined && (hooks.now ?? (() => performance.now()))() > hooks.deadlineMs) return failure(s, 'timed out before this statement');
    switch (s.kind) {
      case 'command': {
        if (hooks.skip?.(s) === true) {
          skipping = true;
          continue;
        }
        skipping = false;
        const text = s.text.includes(MSIZE_OVERFLOW_TOKEN) ? s.text.split(MSIZE_OVERFLOW_TOKEN).join(msizeOverflowLine()) : s.text;
        const r = await hooks.exec(text, s);
        lastCommand = s.text;
        lastResponse = r.response;
        if (r.quit === true) {
          hooks.onStep?.(s, true, r.response ?? 'quit');
          return { ok: true, quit: true };
        }
        if (!r.ok) {
          const next = stmts[i + 1];
          const tolerated = next !== undefined && next.kind === 'expect' && (r.response ?? '').startsWith('ERR');
          hooks.onStep?.(s, tolerated, r.response ?? '');
          if (!tolerated) return failure(s, 'command failed');
        } else {
          hooks.onStep?.(s, true, r.response ?? '');
        }
        break;
      }
      case 'expect': {
        if (skipping) continue;
        const why = checkExpect(s.test, s.arg, lastResponse);
        hooks.onStep?.(s, why === null, why ?? 'matched');
        if (why !== null) return failure(s, why);
        break;
      }
      case 'wait':
        await hooks.sleep(s.ms);
        break;
    }
  }
  return { ok: true, quit: false };
}
