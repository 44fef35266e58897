// Root-task's ConsoleBackend (js/console): one per console session; file verbs go through that session's NineDoor attachment.
//
// ATTACH opens a NamespaceHandle with the session's role and ticket, so LS/CAT/TAIL/ECHO/LOG and
// SPAWN/KILL (written to /queen/ctl as JSON) meet NineDoor's role views, scopes, gates and budgets
// exactly as a 9P client would. Info verbs come from injected providers. Root reachability, cut
// reasons and pressure counters are kept true through HiveControl.
import { NineError, Errno, type ErrorName } from '../../secure9p/errors.js';
import { base64Encode } from '../../bytes/base64.js';
import { utf8Decode } from '../../bytes/utf8.js';
import { mintTicket } from '../../tickets/token.js';
import { TicketError } from '../../tickets/errors.js';
import type { TicketSecrets } from '../../tickets/attach.js';
import { DEFAULT_TICKET_LIMITS, type TicketLimits } from '../../tickets/limits.js';
import type { LifecycleState } from '../../console/attach-guard.js';
import {
  InfoRefusal, type Answer, type CatResult, type CloseReason, type ConsoleBackend, type ConsoleNote, type ConsolePrincipal, type InfoVerb,
} from '../../console/backend.js';
import { ProviderError, providerCodeOfNineError } from '../../console/errors.js';
import { STREAM_LINES_MAX } from '../../console/limits.js';
import { ReloadRefusal, type ReloadOp } from '../../console/reload.js';
import { UpdateRefusal, type UpdateOp } from '../../console/update.js';
import type { Later } from './answer.js';
import { parseQueenCtlLine } from './ctl-parse.js';
import type { HiveControl } from './hive-control.js';
import { CAT_B64_CHUNK_BYTES } from './limits.js';
import type { Clock, NamespaceHandle, NamespacePort, NsAnswer } from './ports.js';

export const QUEEN_LOG_PATH = '/log/queen.log';
export const QUEEN_CTL_PATH = '/queen/ctl';

/** An info verb's provider: its lines, or why it cannot answer. `count` is cachelog's. */
export type InfoProvider = (count: number) => Later<string[] | InfoRefusal>;
export type InfoProviders = Partial<Record<InfoVerb, InfoProvider>>;

export interface ConsolePolicyOptions {
  hive: HiveControl;
  namespace: NamespacePort;
  clock: Clock;
  /** Manifest [[tickets]] secrets: ATTACH checks with them, and the attachment's ticket is re-signed with them. */
  secrets: TicketSecrets;
  limits?: TicketLimits;
  /** Dev images: true (spec §3.4 rule 4). */
  allowTicketlessQueen: boolean;
  /** bi, caps, mem, nettest, netstats, cachelog (and help, to replace the built-in list); absent → `detail=unavailable`. */
  info?: InfoProviders;
  /** RELOAD (js/root-task/reload.ts); absent → `ERR RELOAD reason=policy detail=unsupported`. */
  reload?: ReloadPort;
  /** UPDATE (js/root-task/update.ts); absent → `ERR UPDATE reason=policy detail=unsupported`. */
  update?: UpdatePort;
}

/** Root-task's update service as a console backend sees it; `session` keys who may send the image. */
export interface UpdatePort {
  handle(session: string, op: UpdateOp): string | UpdateRefusal;
  abandon(session: string): void;
}

/** Root-task's reload service as a console backend sees it; `session` keys the staged upload. */
export interface ReloadPort {
  gate(): ReloadRefusal | null;
  handle(session: string, op: ReloadOp): string | ReloadRefusal;
  abandon(session: string): void;
}

/** Errno of an Rlerror → the project's error name (spec §0), for a 9P NamespacePort. */
export function nineErrorOfErrno(errno: number, message = ''): NineError {
  let code: ErrorName;
  switch (errno) {
    case Errno.EPERM:
    case Errno.EACCES:
      code = 'Permission';
      break;
    case Errno.ENOENT:
      code = 'NotFound';
      break;
    case Errno.EBUSY:
    case Errno.EAGAIN:
      code = 'Busy';
      break;
    case Errno.EMSGSIZE:
      code = 'TooBig';
      break;
    case Errno.EBADF:
      code = 'Closed';
      break;
    default:
      code = 'Invalid';
  }
  return new NineError(code, message === '' ? `errno ${errno}` : message, errno);
}

/**
 * A NineDoor refusal as a console provider error (spec §3.6). NineDoor's ticket-scope refusals
 * carry exactly `EPERM` / `ELIMIT` as their message; they get the scope rows of §3.6.
 */
export function providerErrorOf(e: NineError): ProviderError {
  if (e.code === 'Permission' && e.message === 'EPERM') return new ProviderError('scope-denied', e.message);
  if (e.code === 'TooBig' && e.message === 'ELIMIT') return new ProviderError('scope-quota', e.message);
  return new ProviderError(providerCodeOfNineError(e.code), e.message);
}

function settle<T, U>(a: NsAnswer<T>, k: (v: T) => U | ProviderError): Answer<U> {
  const done = (v: T | NineError): U | ProviderError => (v instanceof NineError ? providerErrorOf(v) : k(v));
  return a instanceof Promise ? a.then(done) : done(a);
}

/** Content as console lines: UTF-8 split at newlines, else `b64:` chunks (spec §3.3). */
export function contentLines(b: Uint8Array): string[] {
  const text = utf8Decode(b);
  if (text === null) {
    const out: string[] = [];
    for (let i = 0; i < b.length; i += CAT_B64_CHUNK_BYTES) out.push(`b64:${base64Encode(b.subarray(i, i + CAT_B64_CHUNK_BYTES))}`);
    return out;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

const HELP_VERBS = 'help ping attach ls cat tail echo log spawn kill bi caps mem nettest netstats cachelog test quit';

/** Makes the backend of each console session (TCP via ConsoleSessionTable.makeBackend, and the UART). */
export class ConsoleBackends {
  private seq = 0;
  constructor(private readonly o: ConsolePolicyOptions) {}

  make(source: string, extraVerbNames: readonly string[] = []): ConsoleBackend {
    this.seq++;
    return new PolicyConsoleBackend(this.o, `${source}#${this.seq}`, extraVerbNames);
  }
}

export class PolicyConsoleBackend implements ConsoleBackend {
  private handle: NamespaceHandle | null = null;
  private who: ConsolePrincipal | null = null;
  /**
   * Bumped by each ATTACH and by every close: an attachment answered for an older value outlived its
   * session (or was replaced) and is given back at once. Not a one-way "ended" flag, because the UART
   * keeps its backend across QUIT.
   */
  private attachSeq = 0;

  constructor(
    private readonly o: ConsolePolicyOptions,
    /** This session's key in HiveControl's set of queen sessions. */
    readonly key: string,
    private readonly extraVerbNames: readonly string[] = [],
  ) {}

  lifecycleState(): LifecycleState {
    return this.o.hive.lifecycleState();
  }
  ticketSecrets(): TicketSecrets {
    return this.o.secrets;
  }
  ticketLimits(): TicketLimits {
    return this.o.limits ?? DEFAULT_TICKET_LIMITS;
  }
  allowTicketlessQueen(): boolean {
    return this.o.allowTicketlessQueen;
  }
  wallMs(): number {
    return this.o.clock.wallMs();
  }
  rootReachable(): boolean {
    return this.o.hive.rootReachable();
  }

  info(verb: InfoVerb, count: number): Answer<string[] | InfoRefusal> {
    const p = this.o.info?.[verb];
    if (p !== undefined) return p(count);
    if (verb === 'help') {
      const ours = [...(this.o.reload !== undefined && this.o.reload.gate() === null ? ['reload'] : []), ...(this.o.update !== undefined ? ['update'] : [])];
      const names = [...ours, ...this.extraVerbNames];
      const extra = names.length > 0 ? ` ${names.join(' ')}` : '';
      return [`[help] verbs: ${HELP_VERBS}${extra}`];
    }
    return new InfoRefusal('unavailable');
  }

  attach(who: ConsolePrincipal): Answer<void> {
    this.detach(true);
    const seq = ++this.attachSeq;
    let ticket: string | null = null;
    if (who.claims !== null) {
      // The console verified the token and kept its claims; the same claims signed with the same
      // secret give back the same token (the encoding is canonical), which NineDoor verifies again.
      const secret = this.o.secrets[who.role];
      const t = secret === undefined ? null : mintTicket(who.claims, secret);
      if (t === null || t instanceof TicketError) return new ProviderError('denied', 'cannot re-sign the attach ticket');
      ticket = t;
    }
    return settle(this.o.namespace.attach(who.role, who.identity, ticket), (h) => {
      if (seq !== this.attachSeq) {
        // Issue 13 bug 1: the session closed (or attached again) while NineDoor was answering; an
        // attachment kept here would hold a NineDoor session (and a queen's reachability) for good.
        h.close();
        return new ProviderError('attach-timeout', 'the console session ended before the attachment completed');
      }
      this.handle = h;
      this.who = who;
      if (who.role === 'queen') this.o.hive.queenAttached(this.key);
      return undefined;
    });
  }

  /** Drops the attachment; a queen leaving cleanly (re-ATTACH, QUIT) records no cut. */
  private detach(clean: boolean): void {
    this.handle?.close();
    this.handle = null;
    if (this.who?.role === 'queen') this.o.hive.queenDetached(this.key, clean);
    this.who = null;
  }

  /** The attachment, or the refusal when ATTACH has not completed (a forwarding failure). `path` is the verb's, for the traversal audit. */
  private ns(op?: string, path?: string): NamespaceHandle | ProviderError {
    // A `..` is refused before NineDoor sees it (namespace.ts pathProblem): the attempt goes on the record here.
    if (path !== undefined && path.split('/').includes('..')) this.refused(op ?? '-', path, 'traversal');
    if (this.handle === null) return new ProviderError('attach-timeout', 'no namespace attachment');
    if (this.who?.role === 'queen') this.o.hive.queenSeen();
    return this.handle;
  }

  /** One refused check of this console session, as NineDoor's rate-bounded audit line (js/ninedoor/audit.ts). */
  private refused(op: string, path: string | null, reason: string, role: string | null = this.who?.role ?? null, subject?: string): void {
    const who = subject ?? this.who?.identity ?? this.who?.claims?.subject ?? this.key;
    this.o.hive.audit({ src: 'console', op, role, subject: who, path, reason });
  }

  ls(path: string): Answer<string[]> {
    const h = this.ns('ls', path);
    return h instanceof ProviderError ? h : settle(h.ls(path), (names) => names);
  }

  cat(path: string): Answer<CatResult> {
    const h = this.ns('cat', path);
    if (h instanceof ProviderError) return h;
    return settle(h.cat(path), (b): CatResult => {
      const lines = contentLines(b);
      if (path !== QUEEN_LOG_PATH) return { lines };
      // queen.log streams no content; its digest prefers the operator's echo-added lines (spec §3.3).
      const op = this.o.hive.operatorLines();
      return { lines, streamContent: false, digestLines: op.length > 0 ? op : lines };
    });
  }

  tail(path: string): Answer<string[]> {
    const h = this.ns('tail', path);
    // A bounded snapshot: the newest lines that fit one console stream.
    return h instanceof ProviderError ? h : settle(h.tail(path), (b) => contentLines(b).slice(-STREAM_LINES_MAX));
  }

  echo(path: string, payload: string): Answer<void> {
    const h = this.ns('echo', path);
    if (h instanceof ProviderError) return h;
    return settle(h.echo(path, payload), () => {
      if (path === QUEEN_LOG_PATH) this.o.hive.operatorLine(payload);
      return undefined;
    });
  }

  log(): Answer<string[]> {
    const h = this.ns();
    return h instanceof ProviderError ? h : settle(h.cat(QUEEN_LOG_PATH), contentLines);
  }

  spawn(json: string): Answer<void> {
    // SPAWN carries a spawn command only; kill, budget, bind and mount have their own paths.
    const c = parseQueenCtlLine(json);
    if (!(c instanceof NineError) && c.kind !== 'spawn-heartbeat' && c.kind !== 'spawn-gpu') {
      return new ProviderError('invalid-payload', 'SPAWN takes a spawn command');
    }
    const h = this.ns();
    return h instanceof ProviderError ? h : settle(h.echo(QUEEN_CTL_PATH, json), () => undefined);
  }

  kill(workerId: string): Answer<void> {
    const h = this.ns();
    return h instanceof ProviderError ? h : settle(h.echo(QUEEN_CTL_PATH, JSON.stringify({ kill: workerId })), () => undefined);
  }

  reloadGate(): ReloadRefusal | null {
    return this.o.reload?.gate() ?? null;
  }

  reload(op: ReloadOp): string | ReloadRefusal {
    if (this.o.reload === undefined) return new ReloadRefusal('policy', 'unsupported');
    return this.o.reload.handle(this.key, op);
  }

  update(op: UpdateOp): string | UpdateRefusal {
    if (this.o.update === undefined) return new UpdateRefusal('policy', 'unsupported');
    return this.o.update.handle(this.key, op);
  }

  note(n: ConsoleNote): void {
    switch (n.kind) {
      case 'refusal':
        this.o.hive.refusal(n.cls);
        return;
      case 'log':
        this.o.hive.log(n.line);
        return;
      case 'attach-refused':
        if (n.role === 'queen') this.o.hive.queenRefused(n.code);
        this.refused('attach', null, n.code, n.role, this.key);
        return;
      case 'denied':
        this.refused(n.verb, n.path, n.reason);
        return;
      case 'auth-refused':
        // Before AUTH there is no principal: the session's key names the source.
        this.refused('auth', null, n.reason, null, this.key);
        return;
      case 'inbound-dropped':
        this.o.hive.inboundDropped++;
    }
  }

  closed(reason: CloseReason): void {
    this.attachSeq++;
    // Spec §15: a queen console lost any way but QUIT cuts the root.
    this.detach(reason === 'quit');
    this.o.reload?.abandon(this.key);
    this.o.update?.abandon(this.key);
  }
}
