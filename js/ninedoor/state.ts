// The hive facts NineDoor shows under /proc and consults for gates: pushed in by root-task, never computed here.
import type { LifecycleState } from './gates.js';

/** The worker kinds the hive spawns (spec §7): a fact the server, the reload handoff and root-task share. */
export type WorkerKind = 'heartbeat' | 'gpu';

export type CutReason = 'none' | 'network_unreachable' | 'session_revoked' | 'policy_denied' | 'lifecycle_offline';

export interface LifecycleFacts {
  state: LifecycleState;
  reason: string;
  sinceMs: number;
}

export interface RootFacts {
  reachable: boolean;
  lastSeenMs: number;
  cutReason: CutReason;
}

/** Console refusal counters by class (spec §3.2); root-task counts, NineDoor shows. */
export interface PressureFacts {
  busy: number;
  quota: number;
  cut: number;
  policy: number;
}

/**
 * Root-task owns the lifecycle machine, the root-reachability record and the pressure counters
 * (issue 4). In the firmware it runs in another task, so NineDoor cannot ask it synchronously
 * when a gate is needed: root-task pushes each change here, and gates read the local copy.
 */
export class HiveState {
  lifecycle: LifecycleFacts = { state: 'BOOTING', reason: 'boot', sinceMs: 0 };
  root: RootFacts = { reachable: false, lastSeenMs: 0, cutReason: 'none' };
  pressure: PressureFacts = { busy: 0, quota: 0, cut: 0, policy: 0 };

  setLifecycle(f: LifecycleFacts): void {
    this.lifecycle = { ...f };
  }
  setRoot(f: RootFacts): void {
    this.root = { ...f };
  }
  setPressure(f: PressureFacts): void {
    this.pressure = { ...f };
  }
}
