// ATTACH rules (spec §3.4): throttle, cooldown, role, lifecycle gate and ticket checks, in the spec's order, as values.
//
// Choice (the spec counts per console; we serve several sessions): one guard per *source*, i.e.
// per peer address for TCP and one for the UART. All connections from a peer share it, so
// reconnecting does not reset the throttle or cooldown, and a flood from one peer cannot lock
// out an operator on another peer or on the UART. Loopback clients share one source.
import { type TicketClaims, type TicketRole, parseRole } from '../tickets/claims.js';
import { TicketError } from '../tickets/errors.js';
import { checkTicketLimits, isTicketExpired, type TicketSecrets } from '../tickets/attach.js';
import type { TicketLimits } from '../tickets/limits.js';
import { parseToken, verifyTicket } from '../tickets/token.js';
import {
  ATTACH_COOLDOWN_MS, ATTACH_FAILURE_WINDOW_MS, ATTACH_FAILURES_BEFORE_COOLDOWN, ATTACH_GUARD_SOURCES_MAX,
  ATTACH_THROTTLE_BASE_MS, ATTACH_THROTTLE_EXPONENT_MAX,
} from './limits.js';
import { refusalLine } from './reply.js';

export type LifecycleState = 'BOOTING' | 'DEGRADED' | 'ONLINE' | 'DRAINING' | 'QUIESCED' | 'OFFLINE';

/** States where gate `worker-attach` is open (spec §9). */
export const WORKER_ATTACH_OPEN_STATES: ReadonlySet<LifecycleState> = new Set<LifecycleState>(['ONLINE', 'DEGRADED', 'DRAINING']);

/** Failure counters of one source. Times are the caller's monotonic milliseconds. */
export class AttachGuard {
  /** Failures since the last success: the throttle exponent n. */
  private failures = 0;
  private throttleUntilMs = 0;
  private windowStartMs: number | null = null;
  private windowFailures = 0;
  private cooldownUntilMs = 0;

  /** An active cooldown or throttle, with the time left; null when an attempt may proceed. */
  blocked(nowMs: number): { detail: 'rate-limited' | 'throttled'; delayMs: number } | null {
    if (nowMs < this.cooldownUntilMs) return { detail: 'rate-limited', delayMs: this.cooldownUntilMs - nowMs };
    if (nowMs < this.throttleUntilMs) return { detail: 'throttled', delayMs: this.throttleUntilMs - nowMs };
    return null;
  }

  /** Counts a failed attempt; returns the cooldown length when this failure started one, else 0. */
  recordFailure(nowMs: number): number {
    const n = Math.min(this.failures, ATTACH_THROTTLE_EXPONENT_MAX);
    this.throttleUntilMs = nowMs + ATTACH_THROTTLE_BASE_MS * 2 ** n;
    this.failures++;
    if (this.windowStartMs === null || nowMs - this.windowStartMs > ATTACH_FAILURE_WINDOW_MS) {
      this.windowStartMs = nowMs;
      this.windowFailures = 0;
    }
    this.windowFailures++;
    if (this.windowFailures < ATTACH_FAILURES_BEFORE_COOLDOWN) return 0;
    this.cooldownUntilMs = nowMs + ATTACH_COOLDOWN_MS;
    this.windowStartMs = null;
    this.windowFailures = 0;
    return ATTACH_COOLDOWN_MS;
  }

  recordSuccess(): void {
    this.failures = 0;
    this.throttleUntilMs = 0;
    this.windowStartMs = null;
    this.windowFailures = 0;
    this.cooldownUntilMs = 0;
  }

  /** True when forgetting this guard loses nothing (no throttle, cooldown or window running). */
  idle(nowMs: number): boolean {
    return this.blocked(nowMs) === null && (this.windowStartMs === null || nowMs - this.windowStartMs > ATTACH_FAILURE_WINDOW_MS);
  }
}

/**
 * Guards by source, bounded. Past the bound an idle guard is forgotten first, else the least
 * recently used one (an attacker needs that many addresses to shed its own counters).
 */
export class AttachGuardTable {
  private readonly guards = new Map<string, AttachGuard>();

  constructor(private readonly sourcesMax: number = ATTACH_GUARD_SOURCES_MAX) {}

  get(source: string, nowMs: number): AttachGuard {
    let g = this.guards.get(source);
    if (g !== undefined) {
      this.guards.delete(source); // re-insert: Map order is our recency order
      this.guards.set(source, g);
      return g;
    }
    if (this.guards.size >= this.sourcesMax) this.evict(nowMs);
    g = new AttachGuard();
    this.guards.set(source, g);
    return g;
  }

  size(): number {
    return this.guards.size;
  }

  private evict(nowMs: number): void {
    for (const [k, g] of this.guards) {
      if (g.idle(nowMs)) {
        this.guards.delete(k);
        return;
      }
    }
    const oldest = this.guards.keys().next();
    if (!oldest.done) this.guards.delete(oldest.value);
  }
}

/** Everything an ATTACH decision reads; the caller supplies the clocks (js/ never reads one). */
export interface AttachContext {
  guard: AttachGuard;
  /** Monotonic ms, for the throttle and cooldown. */
  nowMs: number;
  /** Unix epoch ms, for ticket expiry. */
  wallMs: number;
  lifecycle: LifecycleState;
  secrets: TicketSecrets;
  limits?: TicketLimits;
  /** Spec §3.4 rule 4: a queen without a ticket passes. A release image may turn this off. */
  allowTicketlessQueen: boolean;
}

export type AttachRefusalCode =
  | 'throttled' | 'rate-limited' | 'invalid-role' | 'lifecycle-denied' | 'invalid-claims' | 'expired' | 'denied';

export type AttachDecision =
  | { kind: 'granted'; role: TicketRole; claims: TicketClaims | null; identity: string | null }
  | {
      kind: 'refused';
      code: AttachRefusalCode;
      /** The reply line. */
      line: string;
      /** The role asked for, when it was a known one (a refused queen may mark the root cut). */
      role: TicketRole | null;
      /** An audit line for the log (spec §9 gate denial), or null. */
      log: string | null;
    };

/** Role label → role; `worker` means worker-heartbeat on the console (spec §1). */
export function parseConsoleRole(label: string): TicketRole | null {
  return label.toLowerCase() === 'worker' ? 'worker-heartbeat' : parseRole(label);
}

type CredentialRefusal = { refuse: 'denied' | 'invalid-claims' | 'expired'; cls: 'policy' | 'quota' };
type Credential = { claims: TicketClaims | null; identity: string | null } | CredentialRefusal;

const DENIED: CredentialRefusal = { refuse: 'denied', cls: 'policy' };

/** Rules 4, 6, 7: MAC with the role's secret, claims role, subject for workers, expiry, limits. */
function checkCredential(role: TicketRole, ticket: string | null, ctx: AttachContext): Credential {
  if (ticket === null) {
    return role === 'queen' && ctx.allowTicketlessQueen ? { claims: null, identity: null } : DENIED;
  }
  const secret = ctx.secrets[role];
  if (secret === undefined || parseToken(ticket) instanceof TicketError) return DENIED;
  const claims = verifyTicket(ticket, secret);
  // After parseToken succeeded, 'invalid' can only mean the MAC verified and the claims did not decode.
  if (claims instanceof TicketError) return claims.code === 'invalid' ? { refuse: 'invalid-claims', cls: 'policy' } : DENIED;
  if (claims.role !== role) return DENIED;
  // Worker tickets name the worker (spec §1: "required, with subject").
  if (role !== 'queen' && claims.subject === null) return DENIED;
  if (isTicketExpired(claims, ctx.wallMs)) return { refuse: 'expired', cls: 'quota' };
  if (checkTicketLimits(claims, ctx.limits) !== null) return { refuse: 'invalid-claims', cls: 'quota' };
  return { claims, identity: claims.subject };
}

const LABEL = 'ATTACH';

function refused(code: AttachRefusalCode, line: string, role: TicketRole | null, log: string | null = null): AttachDecision {
  return { kind: 'refused', code, line, role, log };
}

/**
 * Decides one ATTACH and updates the guard. Failures (rule 5) are the attempts a guesser makes:
 * an unknown role and a credential that does not verify (bad MAC, wrong role, no ticket where one
 * is needed, undecodable claims). A genuine ticket that has expired proved its MAC: it is answered
 * `expired` every time and neither escalates the throttle nor starts a cooldown (the reference's
 * telemetry_ring.coh attaches with one twice and expects `expired` both times). A throttled,
 * cooling or gate-denied attempt proved nothing either way and does not count.
 */
export function decideAttach(roleLabel: string, ticket: string | null, ctx: AttachContext): AttachDecision {
  const block = ctx.guard.blocked(ctx.nowMs);
  // delay_ms is whole milliseconds (firmware clocks are fractional), rounded up so waiting it out is enough.
  if (block !== null) {
    return refused(block.detail, refusalLine(LABEL, 'quota', `detail=${block.detail} delay_ms=${Math.ceil(block.delayMs)}`), null);
  }
  const role = parseConsoleRole(roleLabel);
  if (role === null) {
    const cooldownMs = ctx.guard.recordFailure(ctx.nowMs);
    if (cooldownMs > 0) return refused('rate-limited', refusalLine(LABEL, 'quota', `detail=rate-limited delay_ms=${cooldownMs}`), null);
    return refused('invalid-role', refusalLine(LABEL, 'policy', 'detail=invalid-role'), null);
  }
  if (role !== 'queen' && !WORKER_ATTACH_OPEN_STATES.has(ctx.lifecycle)) {
    return refused(
      'lifecycle-denied',
      refusalLine(LABEL, 'policy', `detail=lifecycle-denied state=${ctx.lifecycle}`),
      role,
      `lifecycle denied action=worker-attach state=${ctx.lifecycle} reason=gate-denied`,
    );
  }
  const cred = checkCredential(role, ticket, ctx);
  if (!('refuse' in cred)) {
    ctx.guard.recordSuccess();
    return { kind: 'granted', role, claims: cred.claims, identity: cred.identity };
  }
  if (cred.refuse === 'expired') return refused('expired', refusalLine(LABEL, cred.cls, 'detail=expired'), role);
  const cooldownMs = ctx.guard.recordFailure(ctx.nowMs);
  // Rule 5: the failure that starts the cooldown is answered with the cooldown itself.
  if (cooldownMs > 0) return refused('rate-limited', refusalLine(LABEL, 'quota', `detail=rate-limited delay_ms=${cooldownMs}`), role);
  return refused(cred.refuse, refusalLine(LABEL, cred.cls, `detail=${cred.refuse}`), role);
}
