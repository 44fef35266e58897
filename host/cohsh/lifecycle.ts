// Lifecycle commands and transitions (spec §9), so cohsh can refuse an invalid transition locally before the ECHO.
import type { LifecycleState } from '../../js/console/attach-guard.js';

export const LIFECYCLE_STATES: readonly LifecycleState[] = ['BOOTING', 'DEGRADED', 'ONLINE', 'DRAINING', 'QUIESCED', 'OFFLINE'];
export const LIFECYCLE_COMMANDS = ['cordon', 'drain', 'quiesce', 'resume', 'reset'] as const;
export type LifecycleCommand = (typeof LIFECYCLE_COMMANDS)[number];

const FROM: Readonly<Record<LifecycleCommand, (s: LifecycleState) => boolean>> = {
  cordon: (s) => s === 'ONLINE' || s === 'DEGRADED',
  drain: (s) => s === 'DRAINING',
  quiesce: (s) => s === 'ONLINE' || s === 'DEGRADED' || s === 'DRAINING',
  resume: (s) => s !== 'ONLINE',
  reset: (s) => s !== 'BOOTING',
};

export function parseLifecycleCommand(word: string): LifecycleCommand | null {
  const w = word.toLowerCase();
  return (LIFECYCLE_COMMANDS as readonly string[]).includes(w) ? (w as LifecycleCommand) : null;
}

export function parseLifecycleState(text: string): LifecycleState | null {
  const t = text.trim().toUpperCase();
  return (LIFECYCLE_STATES as readonly string[]).includes(t) ? (t as LifecycleState) : null;
}

/** Whether `cmd` may run in `state` (outstanding workers are the hive's to check). */
export function transitionAllowed(cmd: LifecycleCommand, state: LifecycleState): boolean {
  return FROM[cmd](state);
}

/** Reads `state=<STATE>` from /proc/lifecycle/state content lines or a CAT `data=` digest. */
export function stateFromText(lines: readonly string[]): LifecycleState | null {
  for (const l of lines) {
    const m = /(?:^|[\s|=])state=([A-Za-z]+)/.exec(l);
    if (m !== null) {
      const s = parseLifecycleState(m[1]);
      if (s !== null) return s;
    }
  }
  return null;
}
