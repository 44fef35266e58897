// What a console session needs from the hive (root-task policy, NineDoor): the ConsoleBackend contract.
//
// One backend object per console session: root-task makes it when a connection (or the UART)
// opens, bound to that session's NineDoor attachment, so no call needs a session handle.
// Shared facts (lifecycle state, ticket secrets) come through it too.
import type { TicketClaims, TicketRole } from '../tickets/claims.js';
import type { TicketSecrets } from '../tickets/attach.js';
import type { TicketLimits } from '../tickets/limits.js';
import type { LifecycleState, AttachRefusalCode } from './attach-guard.js';
import type { ProviderError } from './errors.js';
import type { ReloadOp, ReloadRefusal } from './reload.js';
import type { UpdateOp, UpdateRefusal } from './update.js';
import type { RefusalClass } from './reply.js';

/** A backend answer: now, or later (NineDoor lives in another task). Refusals are values, never throws. */
export type Answer<T> = T | ProviderError | Promise<T | ProviderError>;

/** Who the session attached as, once ATTACH passed its checks. */
export interface ConsolePrincipal {
  role: TicketRole;
  /** The ticket subject (worker id or scope), or null (ticketless queen, subjectless queen ticket). */
  identity: string | null;
  claims: TicketClaims | null;
}

export interface CatResult {
  /** Content lines, oldest first (binary content already as `b64:` lines). */
  lines: string[];
  /** Lines the digest is made from when not `lines` (queen.log: the echo-added operator lines). */
  digestLines?: string[];
  /** false: ACK and END only, no content lines (queen.log, spec §3.3). Default true. */
  streamContent?: boolean;
}

/** Info verbs answered with text lines then `OK <LABEL>`. */
export type InfoVerb = 'help' | 'bi' | 'caps' | 'mem' | 'nettest' | 'netstats' | 'cachelog';

/** An info verb the hive cannot answer (spec §3.3): `ERR <L> reason=policy detail=<detail>`. */
export class InfoRefusal {
  constructor(readonly detail: 'unavailable' | 'unsupported' | 'net-disabled') {}
}

/** Why a session ended; a queen session that ends other than by `quit` cuts the root (spec §15). */
export type CloseReason =
  | 'quit' // QUIT: clean, records no cut
  | 'peer-closed' // EOF or reset seen by the transport
  | 'auth-failed' // an AUTH row of spec §2 refused it
  | 'auth-timeout' // no AUTH within the deadline
  | 'idle' // no input for the idle timeout
  | 'frame-error' // the framing broke in a way that cannot be resynchronised
  | 'busy' // the session table was full (checked when AUTH passes)
  | 'auth-evicted' // still in AUTH when the pre-AUTH pool (or its source's share) was full: the oldest goes
  | 'slow-peer' // the peer stopped reading and its bounded send buffer is full
  | 'backlog-full' // bytes kept arriving past INBOUND_BACKLOG_BYTES_MAX although reads were paused
  | 'server'; // root-task closed it (shutdown, console task restart)

/** Things the session reports so root-task keeps `/proc` and the log true. */
export type ConsoleNote =
  /** A refusal went out: count it in `/proc/pressure/<cls>`. */
  | { kind: 'refusal'; cls: RefusalClass; label: string }
  /** An audit line for the log (e.g. the worker-attach gate denial of spec §9). */
  | { kind: 'log'; line: string }
  /** ATTACH refused; a refused queen while none is active sets cut_reason=policy_denied (spec §15). */
  | { kind: 'attach-refused'; role: TicketRole | null; code: AttachRefusalCode }
  /** The inbound queue was full and dropped its oldest line (spec §15 backpressure counter). */
  | { kind: 'inbound-dropped'; line: string }
  /** The console itself refused an attached principal's verb (a worker's ECHO outside its paths, SPAWN/KILL): an audit line. */
  | { kind: 'denied'; verb: string; path: string | null; reason: string }
  /** AUTH refused by a row of spec §2 (the session then closes `auth-failed`): an audit line naming the row. */
  | { kind: 'auth-refused'; reason: AuthRefusalRow };

/** The spec §2 AUTH rows that refuse, in the order they are checked; the client sees `ERR AUTH reason=<row>`. */
export type AuthRefusalRow = 'invalid-length' | 'expected-token' | 'invalid-token';

export interface ConsoleBackend {
  // Facts the ATTACH rules read (spec §3.4).
  lifecycleState(): LifecycleState;
  ticketSecrets(): TicketSecrets;
  /** Manifest ticket limits; the reference defaults when absent. */
  ticketLimits?(): TicketLimits;
  /** Dev images: true. A release image that wants a ticket for the queen too: false. */
  allowTicketlessQueen(): boolean;
  /** Unix epoch ms, for ticket expiry. */
  wallMs(): number;
  /** Spec §15: a queen session is active and the state is not OFFLINE. */
  rootReachable(): boolean;

  /** Text lines for an info verb; `count` is cachelog's line count (ignored by the others). */
  info(verb: InfoVerb, count: number): Answer<string[] | InfoRefusal>;
  /** Opens (or replaces) this session's NineDoor attachment. Called after `OK ATTACH`. */
  attach(who: ConsolePrincipal): Answer<void>;
  ls(path: string): Answer<string[]>;
  cat(path: string): Answer<CatResult>;
  /** A bounded snapshot of what is retained (not a follow), oldest first. */
  tail(path: string): Answer<string[]>;
  echo(path: string, payload: string): Answer<void>;
  /** queen.log lines, oldest first; the session streams the newest LOG_LINES_MAX. */
  log(): Answer<string[]>;
  spawn(json: string): Answer<void>;
  kill(workerId: string): Answer<void>;
  /**
   * RELOAD (dev images): why this hive refuses every reload (a release image), checked before the
   * queen check so the answer says so to anyone; null when reloads are possible.
   */
  reloadGate?(): ReloadRefusal | null;
  /** One RELOAD stage from a queen; the OK detail, or a refusal. Absent → `detail=unsupported`. */
  reload?(op: ReloadOp): Answer<string | ReloadRefusal>;
  /** One UPDATE stage from a queen (js/console/update.ts); the OK detail, or a refusal. Absent → `detail=unsupported`. */
  update?(op: UpdateOp): Answer<string | UpdateRefusal>;
  /** Whether TAIL may read this path; the spec's targets (targets.ts) when absent. */
  isTailTarget?(path: string): boolean;

  note(n: ConsoleNote): void;
  /** The session is over; no call follows. */
  closed(reason: CloseReason): void;
}

/** A verb beyond §3.1 (UART recovery verbs): text lines then `OK <LABEL>`, or a refusal. */
export type ExtraVerbHandler = (rest: string) => Answer<string[]>;
export type ExtraVerbs = ReadonlyMap<string, ExtraVerbHandler>;
