// Lifecycle states and the gate table of spec §9: which namespace actions each state allows.

export const LIFECYCLE_STATES = ['BOOTING', 'DEGRADED', 'ONLINE', 'DRAINING', 'QUIESCED', 'OFFLINE'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const GATES = ['new-work', 'telemetry-ingest', 'worker-attach', 'worker-telemetry', 'worker-job', 'host-publish'] as const;
export type Gate = (typeof GATES)[number];

/** Open gates per state; BOOTING, QUIESCED and OFFLINE deny every gate (spec §9). */
const OPEN: Readonly<Record<LifecycleState, ReadonlySet<Gate>>> = {
  BOOTING: new Set(),
  ONLINE: new Set(GATES),
  DEGRADED: new Set(GATES),
  DRAINING: new Set<Gate>(['telemetry-ingest', 'worker-attach', 'worker-telemetry']),
  QUIESCED: new Set(),
  OFFLINE: new Set(),
};

export function gateOpen(gate: Gate, state: LifecycleState): boolean {
  return OPEN[state].has(gate);
}

/** How gateDeniedLine starts: a refusal whose message starts so is on the record already. */
export const GATE_DENIED_PREFIX = 'lifecycle denied ';

/** The audit line a closed gate logs (spec §9), also the refusal's message. */
export function gateDeniedLine(gate: Gate, state: LifecycleState): string {
  return `${GATE_DENIED_PREFIX}action=${gate} state=${state} reason=gate-denied`;
}
