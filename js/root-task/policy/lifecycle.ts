// The lifecycle state machine of spec §9 as a pure decision: command × state × outstanding workers → transition or refusal.
import { NineError } from '../../secure9p/errors.js';
import type { LifecycleState } from '../../ninedoor/gates.js';
import { LIFECYCLE_ACTION_CHARS_MAX } from './limits.js';

export const LIFECYCLE_COMMANDS = ['cordon', 'drain', 'quiesce', 'resume', 'reset'] as const;
export type LifecycleCommand = (typeof LIFECYCLE_COMMANDS)[number];

interface Rule {
  from: ReadonlySet<LifecycleState>;
  to: LifecycleState;
  /** Refused with Busy while any worker record is live. */
  needsIdle: boolean;
}

const ALL: readonly LifecycleState[] = ['BOOTING', 'DEGRADED', 'ONLINE', 'DRAINING', 'QUIESCED', 'OFFLINE'];
const except = (s: LifecycleState): ReadonlySet<LifecycleState> => new Set(ALL.filter((x) => x !== s));

/** The command table of spec §9. No command enters DEGRADED or OFFLINE. */
export const LIFECYCLE_RULES: Readonly<Record<LifecycleCommand, Rule>> = {
  cordon: { from: new Set(['ONLINE', 'DEGRADED']), to: 'DRAINING', needsIdle: false },
  drain: { from: new Set(['DRAINING']), to: 'QUIESCED', needsIdle: true },
  quiesce: { from: new Set(['ONLINE', 'DEGRADED', 'DRAINING']), to: 'QUIESCED', needsIdle: true },
  resume: { from: except('ONLINE'), to: 'ONLINE', needsIdle: false },
  reset: { from: except('BOOTING'), to: 'BOOTING', needsIdle: true },
};

export type LifecycleDecision =
  | { kind: 'transition'; from: LifecycleState; to: LifecycleState; reason: LifecycleCommand; line: string }
  | { kind: 'denied'; error: NineError; line: string };

export function transitionLine(from: LifecycleState, to: LifecycleState, reason: string): string {
  return `lifecycle transition old=${from} new=${to} reason=${reason}`;
}

/** The action token of a denial line: the word as written, lowercased, spaces folded, bounded. */
function actionToken(text: string): string {
  const t = text.trim().toLowerCase().replace(/\s+/g, '_');
  return t === '' ? '-' : t.slice(0, LIFECYCLE_ACTION_CHARS_MAX);
}

/**
 * Decides one /queen/lifecycle/ctl write. Order: the word (invalid-command), the table row
 * (invalid-transition), then outstanding workers (Busy). The state never changes on a refusal.
 */
export function decideLifecycle(text: string, state: LifecycleState, outstanding: number): LifecycleDecision {
  const word = text.trim().toLowerCase();
  const denied = (code: 'Invalid' | 'Busy', why: string): LifecycleDecision => {
    const line = `lifecycle denied action=${actionToken(text)} state=${state} reason=${why}`;
    return { kind: 'denied', error: new NineError(code, line), line };
  };
  if (!(LIFECYCLE_COMMANDS as readonly string[]).includes(word)) return denied('Invalid', 'invalid-command');
  const cmd = word as LifecycleCommand;
  const rule = LIFECYCLE_RULES[cmd];
  if (!rule.from.has(state)) return denied('Invalid', 'invalid-transition');
  if (rule.needsIdle && outstanding > 0) return denied('Busy', `outstanding-leases leases=${outstanding}`);
  return { kind: 'transition', from: state, to: rule.to, reason: cmd, line: transitionLine(state, rule.to, cmd) };
}
