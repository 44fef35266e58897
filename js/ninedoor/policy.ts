// What NineDoor asks of root-task policy (HiveControl in js/root-task/policy implements it), and the shapes it hands over.
import type { NineError } from '../secure9p/errors.js';
import type { Answer, Principal } from '../secure9p/fileserver.js';

/** One line of the hive log; NineDoor mirrors every line it keeps in /log/queen.log to this sink. */
export type LogSink = (line: string) => void;

/** The namespace side of one attached session, as root-task sees it when a control write arrives. */
export interface SessionView {
  readonly id: number;
  /** The principal of the session's first attach; null before attach. */
  who(): Principal | null;
  /** `{"bind":{"from","to"}}` (spec §7): from must exist, to ≠ /; gated by `new-work`; logs `bound <from> -> <to>`. */
  bind(from: string, to: string): NineError | null;
  /** `{"mount":{"service","at"}}`: alias a registered service; gated by `new-work`; logs `mounted <svc> at <at>`. */
  mount(service: string, at: string): NineError | null;
}

/** Who wrote a control file, and through which session (binds and mounts apply to that session only). */
export interface ControlContext {
  who: Principal;
  session: SessionView;
}

export interface RevokedSession {
  sessionId: number;
  who: Principal | null;
  reason: string;
}

/**
 * Root-task policy as NineDoor sees it. Control writes are handed over as text after the raw
 * bytes are kept; the policy parses strictly (§7, §9), applies, and answers with nothing or a
 * refusal value (Invalid/NotFound/Busy/Permission with the spec's message). Answers may be
 * promises: in the firmware the policy runs in another task. Spawn and kill are the policy's:
 * it calls back into NineDoor's API (addWorker, removeWorker, setLease, log) to change the tree.
 */
export interface HivePolicy {
  /** A write to /queen/ctl (spec §7). */
  queenCtl(text: string, ctx: ControlContext): Answer<void>;
  /** A write to /queen/lifecycle/ctl (spec §9). */
  lifecycleCtl(text: string, ctx: ControlContext): Answer<void>;
  /**
   * A session was revoked by its own budget or ttl (spec §8.5). NineDoor has already logged
   * `revoked <id>: <reason>` and revoked the worker's other sessions; root-task removes the
   * record (removeWorker without a reason), releases leases, and for a queen sets cut_reason.
   */
  sessionRevoked?(r: RevokedSession): void;
  /** A line stored in /gpu/<id>/ctl or /gpu/<id>/job (jobs: spec §11.4); a refusal is the writer's answer. */
  gpuAppend?(gpuId: string, file: 'ctl' | 'job', text: string, who: Principal): Answer<void>;
}
