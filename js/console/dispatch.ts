// Runs one console line (spec §3.3, §3.5): parse, check attach/role, call the backend, and emit replies in the required order.
import { utf8Length } from '../bytes/utf8.js';
import { decideAttach, type AttachGuard } from './attach-guard.js';
import {
  type Answer, type ConsoleBackend, type ConsolePrincipal, type ExtraVerbs, type InfoVerb, InfoRefusal,
} from './backend.js';
import { ProviderError } from './errors.js';
import { LOG_LINES_MAX, STREAM_LINES_MAX } from './limits.js';
import { catDigest } from './digest.js';
import {
  END_LINE, PONG_LINE, okLine, providerRefusalLine, refusalClassOf, refusalLine,
} from './reply.js';
import { ReloadRefusal, type ReloadOp } from './reload.js';
import type { UpdateOp } from './update.js';
import { ACK_LABEL, ParseError, parseRequest, type ConsoleRequest } from './request.js';
import { isTailTarget, workerMayEcho } from './targets.js';

/** After a line: go on, or end the session (QUIT). */
export type Outcome = 'continue' | 'quit';
/** A promise while a backend answer is still pending. */
export type Step = Outcome | Promise<Outcome>;

/**
 * Calls a backend method and continues with its value or refusal. Synchronous answers stay
 * synchronous (the firmware's NineDoor may answer at once); a throw or rejection is a backend
 * bug and becomes the `internal` refusal so the session survives it.
 */
function settle<T>(call: () => Answer<T>, k: (v: T | ProviderError) => Step): Step {
  let r: Answer<T>;
  try {
    r = call();
  } catch (e) {
    return k(new ProviderError('internal', String(e)));
  }
  if (r instanceof Promise) return r.then(k, (e: unknown) => k(new ProviderError('internal', String(e))));
  return k(r);
}

const INFO_VERBS: ReadonlySet<string> = new Set<InfoVerb>(['help', 'bi', 'caps', 'mem', 'nettest', 'netstats', 'cachelog']);

export class ConsoleDispatcher {
  private principal: ConsolePrincipal | null = null;
  private readonly extraNames: ReadonlySet<string>;

  constructor(
    private readonly backend: ConsoleBackend,
    /** The ATTACH guard of this session's source (attach-guard.ts says why per source). */
    private readonly guard: AttachGuard,
    /** Writes one reply line; the transport frames it (TCP) or ends it with CRLF (UART). */
    private readonly emit: (line: string) => void,
    private readonly extraVerbs: ExtraVerbs = new Map(),
  ) {
    this.extraNames = new Set(extraVerbs.keys());
  }

  attachedAs(): ConsolePrincipal | null {
    return this.principal;
  }

  /** Forgets the attachment (UART QUIT ends the session without a socket to close). */
  detach(): void {
    this.principal = null;
  }

  /** Runs one line; `nowMs` is the monotonic clock for the ATTACH throttle. */
  run(line: string, nowMs: number): Step {
    const req = parseRequest(line, this.extraNames);
    if (req instanceof ParseError) {
      this.send(req.line());
      return 'continue';
    }
    return this.dispatch(req, nowMs);
  }

  /** Sends a reply and counts it in pressure when it is a classed refusal. */
  send(line: string): void {
    this.emit(line);
    const cls = refusalClassOf(line);
    if (cls !== null) this.backend.note({ kind: 'refusal', cls, label: line.split(' ', 2)[1] });
  }

  private dispatch(req: ConsoleRequest, nowMs: number): Step {
    if (req.verb === 'extra') return this.extra(req.name, req.rest);
    const label = ACK_LABEL[req.verb];
    switch (req.verb) {
      case 'ping':
        this.send(okLine(label, 'reply=pong'));
        this.emit(PONG_LINE);
        return 'continue';
      case 'test':
        this.send(refusalLine(label, 'policy', 'detail=host-only'));
        return 'continue';
      case 'quit':
        this.send(okLine(label));
        return 'quit';
      case 'cachelog':
        return this.info('cachelog', label, req.count);
      case 'attach':
        return this.attach(req.role, req.ticket, nowMs);
      case 'log':
        return this.log(label);
      case 'tail':
        return this.tail(label, req.path);
      case 'cat':
        return this.cat(label, req.path);
      case 'ls':
        return this.ls(label, req.path);
      case 'echo':
        return this.echo(label, req.path, req.payload);
      case 'spawn':
        return this.queenAction(label, `payload=${req.json}`, () => this.backend.spawn(req.json));
      case 'kill':
        return this.queenAction(label, `id=${req.workerId}`, () => this.backend.kill(req.workerId));
      case 'reload':
        return this.reload(label, req.op);
      case 'update':
        return this.update(label, req.op);
      default:
        if (INFO_VERBS.has(req.verb)) return this.info(req.verb as InfoVerb, label, 0);
        // Unreachable: every verb is handled above. Refuse rather than stay silent.
        this.send(new ParseError('unsupported').line());
        return 'continue';
    }
  }

  /** Info verbs: text lines, then `OK <L>` (spec §3.3 gives this order). */
  private info(verb: InfoVerb, label: string, count: number): Step {
    return settle(() => this.backend.info(verb, count), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, withCommand(r, verb)));
      else if (r instanceof InfoRefusal) this.send(refusalLine(label, 'policy', `detail=${r.detail}`));
      else {
        for (const l of r) this.emit(l);
        this.send(okLine(label));
      }
      return 'continue';
    });
  }

  private extra(name: string, rest: string): Step {
    const label = name.toUpperCase();
    const handler = this.extraVerbs.get(name);
    if (handler === undefined) return 'continue';
    return settle(() => handler(rest), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, withCommand(r, name)));
      else {
        for (const l of r) this.emit(l);
        this.send(okLine(label));
      }
      return 'continue';
    });
  }

  /**
   * Spec §3.4, then the attachment itself, then one reply: `OK ATTACH` only once NineDoor gave the
   * attachment, else the forwarding failure as the single `ERR ATTACH` (issue 13 bug 1: never OK then ERR).
   */
  private attach(roleLabel: string, ticket: string | null, nowMs: number): Step {
    const b = this.backend;
    const d = decideAttach(roleLabel, ticket, {
      guard: this.guard,
      nowMs,
      wallMs: b.wallMs(),
      lifecycle: b.lifecycleState(),
      secrets: b.ticketSecrets(),
      limits: b.ticketLimits?.(),
      allowTicketlessQueen: b.allowTicketlessQueen(),
    });
    if (d.kind === 'refused') {
      this.send(d.line);
      if (d.log !== null) b.note({ kind: 'log', line: d.log });
      b.note({ kind: 'attach-refused', role: d.role, code: d.code });
      return 'continue';
    }
    const who: ConsolePrincipal = { role: d.role, identity: d.identity, claims: d.claims };
    // The backend drops any earlier attachment first (a later ATTACH replaces the session).
    this.principal = null;
    return settle(() => b.attach(who), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine('ATTACH', r));
      else {
        this.principal = who;
        this.send(okLine('ATTACH', `role=${d.role}`));
      }
      return 'continue';
    });
  }

  /** LOG, SPAWN, KILL are the queen's; anyone else (or no one) is unauthenticated. */
  private requireQueen(label: string): boolean {
    if (this.principal !== null && this.principal.role === 'queen') return true;
    this.send(refusalLine(label, 'policy', 'detail=unauthenticated'));
    // An attached non-queen asking for a queen verb is an authorization refusal: on the record (issue 13, bug 10).
    if (this.principal !== null) this.backend.note({ kind: 'denied', verb: label.toLowerCase(), path: null, reason: 'queen-only' });
    return false;
  }

  /** File verbs need an attachment of any role and a reachable root (spec §3.3, §15). */
  private requireAttached(label: string): boolean {
    if (this.principal === null) {
      this.send(refusalLine(label, 'policy', 'detail=unauthenticated'));
      return false;
    }
    if (!this.backend.rootReachable()) {
      this.send(refusalLine(label, 'cut', 'detail=root-unreachable'));
      return false;
    }
    return true;
  }

  /** LOG and TAIL answer after the provider (issue 13 bug 4): a refusal is the one reply, never after an `OK`. */
  private log(label: string): Step {
    if (!this.requireQueen(label)) return 'continue';
    return settle(() => this.backend.log(), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, r));
      else {
        this.send(okLine(label));
        this.stream(r.slice(-LOG_LINES_MAX));
      }
      return 'continue';
    });
  }

  private tail(label: string, path: string): Step {
    if (!this.requireAttached(label)) return 'continue';
    const allowed = this.backend.isTailTarget ? this.backend.isTailTarget(path) : isTailTarget(path);
    if (!allowed) {
      this.send(refusalLine(label, 'policy', `detail=invalid-path path=${path}`));
      return 'continue';
    }
    return settle(() => this.backend.tail(path), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, r, path));
      else if (r.length > STREAM_LINES_MAX) this.send(providerRefusalLine(label, 'buffer-full', path));
      else {
        this.send(okLine(label, `path=${path}`));
        this.stream(r);
      }
      return 'continue';
    });
  }

  private cat(label: string, path: string): Step {
    if (!this.requireAttached(label)) return 'continue';
    return settle(() => this.backend.cat(path), (r) => {
      if (r instanceof ProviderError) {
        this.send(providerRefusalLine(label, r, path));
        return 'continue';
      }
      const content = r.streamContent === false ? [] : r.lines;
      if (content.length > STREAM_LINES_MAX) {
        this.send(providerRefusalLine(label, 'buffer-full', path));
        return 'continue';
      }
      this.send(okLine(label, `path=${path} data=${catDigest(r.digestLines ?? r.lines)}`));
      this.stream(content);
      return 'continue';
    });
  }

  private ls(label: string, path: string): Step {
    if (!this.requireAttached(label)) return 'continue';
    return settle(() => this.backend.ls(path), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, r, path));
      else if (r.length > STREAM_LINES_MAX) this.send(providerRefusalLine(label, 'buffer-full', path));
      else {
        this.send(okLine(label, `path=${path} entries=${r.length}`));
        this.stream(r);
      }
      return 'continue';
    });
  }

  private echo(label: string, path: string, payload: string): Step {
    if (!this.requireAttached(label)) return 'continue';
    if (this.principal !== null && this.principal.role !== 'queen' && !workerMayEcho(path)) {
      this.send(refusalLine(label, 'policy', 'detail=denied'));
      this.backend.note({ kind: 'denied', verb: 'echo', path, reason: 'permission' });
      return 'continue';
    }
    return settle(() => this.backend.echo(path, payload), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, r, path));
      else this.send(okLine(label, `path=${path} bytes=${utf8Length(payload)}`));
      return 'continue';
    });
  }

  /** SPAWN/KILL: ACK first, then the action; its failure is a second ERR with the same label. */
  private queenAction(label: string, ackDetail: string, action: () => Answer<void>): Step {
    if (!this.requireQueen(label)) return 'continue';
    this.send(okLine(label, ackDetail));
    return settle(action, (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, r));
      return 'continue';
    });
  }

  /** RELOAD: one stage, answered after the backend ran it (a commit's answer says whether the swap held). */
  private reload(label: string, op: ReloadOp): Step {
    const b = this.backend;
    const gate = b.reloadGate?.() ?? null;
    if (gate !== null) {
      this.send(refusalLine(label, gate.cls, gate.wire()));
      return 'continue';
    }
    if (!this.requireQueen(label)) return 'continue';
    if (b.reload === undefined) {
      this.send(refusalLine(label, 'policy', 'detail=unsupported'));
      return 'continue';
    }
    return settle(() => b.reload!(op), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, r));
      else if (r instanceof ReloadRefusal) this.send(refusalLine(label, r.cls, r.wire()));
      else this.send(okLine(label, r));
      return 'continue';
    });
  }

  /** UPDATE: queen only on any image; one stage, answered after the backend ran it. */
  private update(label: string, op: UpdateOp): Step {
    const b = this.backend;
    if (!this.requireQueen(label)) return 'continue';
    if (b.update === undefined) {
      this.send(refusalLine(label, 'policy', 'detail=unsupported'));
      return 'continue';
    }
    return settle(() => b.update!(op), (r) => {
      if (r instanceof ProviderError) this.send(providerRefusalLine(label, r));
      else if (r instanceof ReloadRefusal) this.send(refusalLine(label, r.cls, r.wire()));
      else this.send(okLine(label, r));
      return 'continue';
    });
  }

  /** Content lines then END; callers have checked the line bound. Content is never counted as a refusal. */
  private stream(lines: readonly string[]): void {
    for (const l of lines) this.emit(l);
    this.emit(END_LINE);
  }
}

/** `unsupported` names the command in its text; fill it in from the verb when the backend did not. */
function withCommand(e: ProviderError, verb: string): ProviderError {
  return e.code === 'unsupported' && e.command === '' ? new ProviderError(e.code, e.message, verb) : e;
}
