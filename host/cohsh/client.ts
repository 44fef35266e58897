// The console client: AUTH, ATTACH with a cached role/ticket, one request at a time, idle keepalive, reconnect with back-off (spec §4.2).
import type { TicketRole } from '../../js/tickets/claims.js';
import { replyTokens } from '../../js/console/reply-parse.js';
import { StreamCollector, type CollectMode, type Collected } from './collector.js';
import { CohshError } from './errors.js';
import { monotonicMs, type ConsoleLink, type Transport } from './transport.js';

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
  ceilingMs: number;
  /** Connect, AUTH and reply deadline, in ms. */
  timeoutMs: number;
}

export interface ClientOptions {
  transport: Transport;
  authToken: string;
  retry: RetryPolicy;
  /** Silent PING after this much idle time while attached, in ms; 0 turns it off (scripts). */
  heartbeatMs: number;
  /** Interactive: reconnect and re-attach after a loss. Scripts: a loss fails the next command. */
  reconnect: boolean;
  /**
   * ATTACH waits for a PING sent right behind it (the `barrier` mode), so an `ERR ATTACH` that
   * follows an `OK ATTACH` is seen before the prompt. Scripts send no such PING: their wire is the
   * script's lines and nothing else, as with the reference cohsh (issue 13 bug 12).
   */
  attachBarrier: boolean;
  /** stderr lines (`[cohsh][tcp] ...`). */
  diag: (line: string) => void;
}

export interface Attachment {
  role: TicketRole;
  ticket: string | null;
  /** Local counter of sessions this cohsh opened (the console does not name sessions). */
  session: number;
}

export interface AttachOutcome {
  collected: Collected;
  attachment: Attachment | null;
}

/** Back-off before reconnect attempt n (1-based): base × 2^(n-1), capped. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.ceilingMs, policy.backoffMs * 2 ** (attempt - 1));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ConsoleClient {
  private link: ConsoleLink | null = null;
  private attached: Attachment | null = null;
  private sessions = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private busy = 0;
  private reconnecting: Promise<void> | null = null;
  /** Why the link went away while attached, for the next command in script mode. */
  private lostReason: string | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(readonly opts: ClientOptions) {}

  get tag(): string {
    return `[cohsh][${this.opts.transport.name}]`;
  }

  attachment(): Attachment | null {
    return this.attached;
  }

  /** Why the link went away while attached and was not re-attached, or null. */
  lostBecause(): string | null {
    return this.lostReason;
  }

  /** Runs `fn` after every earlier call finished: the console takes one command at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      this.busy++;
      try {
        return await fn();
      } finally {
        this.busy--;
        this.armHeartbeat();
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Opens a link and authenticates it. */
  private async openAuthed(): Promise<ConsoleLink | CohshError> {
    const link = await this.opts.transport.open(this.opts.retry.timeoutMs);
    if (link instanceof CohshError) return link;
    const r = await this.roundTrip(link, `AUTH ${this.opts.authToken}`, 'AUTH', 'ack');
    if (r instanceof CohshError) {
      link.close();
      return r.code === 'connection-lost'
        ? new CohshError('auth-failed', `auth failed: ${this.opts.transport.endpoint} closed the connection during AUTH`)
        : r;
    }
    if (!r.ok) {
      link.close();
      const reason = r.acks.length > 0 ? (replyTokens(r.acks[0].replace(/^ERR AUTH ?/, '')).get('reason') ?? r.acks[0]) : 'no answer';
      return new CohshError('auth-failed', `auth failed: ${reason} (check --auth-token or COHSH_AUTH_TOKEN)`);
    }
    link.onLost((reason) => this.onLost(link, reason));
    return link;
  }

  /** Sends one line (and the barrier PING) and collects its answer within the reply deadline. */
  private async roundTrip(link: ConsoleLink, line: string, label: string, mode: CollectMode): Promise<Collected | CohshError> {
    const e = link.send(line);
    if (e !== null) return e;
    if (mode === 'barrier') {
      const b = link.send('PING');
      if (b !== null) return b;
    }
    return this.collect(link, label, mode);
  }

  /** Reads one request's answer within the reply deadline. */
  private async collect(link: ConsoleLink, label: string, mode: CollectMode): Promise<Collected | CohshError> {
    const c = new StreamCollector(label, mode);
    const deadline = monotonicMs() + this.opts.retry.timeoutMs;
    while (!c.done()) {
      const l = await link.readLine(deadline);
      if (l === null) {
        // The answer may still come; a late one must not be taken for the next command's.
        link.close();
        this.dropLink(link, 'reply timeout');
        return new CohshError('timeout', `no ${label} reply from ${this.opts.transport.endpoint} within ${this.opts.retry.timeoutMs} ms; connection closed`);
      }
      if (l instanceof CohshError) return l;
      c.feed(l);
    }
    return c.result();
  }

  private dropLink(link: ConsoleLink, reason: string): void {
    if (this.link !== link) return;
    this.link = null;
    if (this.attached !== null) this.handleLoss(reason);
  }

  private onLost(link: ConsoleLink, reason: string): void {
    this.dropLink(link, reason);
  }

  private handleLoss(reason: string): void {
    if (this.closed) return;
    this.opts.diag(`${this.tag} connection lost: ${reason}`);
    const cached = this.attached as Attachment;
    this.attached = null;
    this.lostReason = reason;
    if (this.opts.reconnect && this.reconnecting === null) {
      this.reconnecting = this.reconnectLoop(cached).finally(() => {
        this.reconnecting = null;
      });
    }
  }

  private async reconnectLoop(cached: Attachment): Promise<void> {
    const max = this.opts.retry.maxAttempts;
    let why = 'no attempt made';
    for (let n = 1; n <= max && !this.closed; n++) {
      const delay = backoffMs(this.opts.retry, n);
      this.opts.diag(`${this.tag} reconnect attempt #${n} in ${delay} ms`);
      await sleep(delay);
      if (this.closed) return;
      const link = await this.openAuthed();
      if (link instanceof CohshError) {
        why = link.message;
        continue;
      }
      const r = await this.roundTrip(link, attachLine(cached.role, cached.ticket), 'ATTACH', 'barrier');
      if (r instanceof CohshError) {
        why = r.message;
        continue;
      }
      if (!r.ok) {
        link.close();
        this.lostReason = null;
        this.opts.diag(`${this.tag} re-attach refused: ${r.acks.join(' ')}; run 'attach <role>' to retry`);
        return;
      }
      this.link = link;
      this.attached = { role: cached.role, ticket: cached.ticket, session: ++this.sessions };
      this.lostReason = null;
      this.opts.diag(`${this.tag} reconnected to ${this.opts.transport.endpoint}; attached session ${this.attached.session} as ${cached.role}`);
      this.armHeartbeat();
      return;
    }
    // The operator has been told; from here the shell is simply detached.
    this.lostReason = null;
    this.opts.diag(`${this.tag} reconnect failed after ${max} attempts: ${why}; run 'attach <role>' to retry`);
  }

  /** Waits for a reconnect under way (bounded by the retry policy). */
  async settled(): Promise<void> {
    if (this.reconnecting !== null) await this.reconnecting;
  }

  /** Connects (if needed), authenticates and attaches. A refusal comes back as `ok: false` with the ERR ACK. */
  attach(role: TicketRole, ticket: string | null): Promise<AttachOutcome | CohshError> {
    return this.exclusive(async () => {
      await this.settled();
      if (this.link === null || !this.link.isOpen()) {
        const link = await this.openAuthed();
        if (link instanceof CohshError) return link;
        this.link = link;
      }
      const r = await this.roundTrip(this.link, attachLine(role, ticket), 'ATTACH', this.opts.attachBarrier ? 'barrier' : 'ack');
      if (r instanceof CohshError) return r;
      if (!r.ok) return { collected: r, attachment: null };
      this.attached = { role, ticket, session: ++this.sessions };
      this.lostReason = null;
      return { collected: r, attachment: this.attached };
    });
  }

  /** One console request while attached. */
  request(line: string, label: string, mode: CollectMode): Promise<Collected | CohshError> {
    return this.exclusive(async () => {
      await this.settled();
      if (this.attached === null || this.link === null) {
        if (this.lostReason !== null) return new CohshError('connection-lost', `connection lost: ${this.lostReason}`);
        return new CohshError('not-attached', 'not attached');
      }
      return this.roundTrip(this.link, line, label, mode);
    });
  }

  /**
   * Sends `lines` (each answered by one ACK with `label`) keeping up to `window` unanswered, so a
   * long upload is not one round trip per line. Stops sending at the first ERR and collects the
   * ACKs still owed; the result holds every ACK read, in order.
   */
  pipeline(lines: readonly string[], label: string, window: number): Promise<Collected | CohshError> {
    return this.exclusive(async () => {
      await this.settled();
      const link = this.link;
      if (this.attached === null || link === null) return new CohshError('not-attached', 'not attached');
      const acks: string[] = [];
      let sent = 0;
      let answered = 0;
      let ok = true;
      while (answered < sent || (ok && sent < lines.length)) {
        while (ok && sent < lines.length && sent - answered < window) {
          const e = link.send(lines[sent]);
          if (e !== null) return e;
          sent++;
        }
        const r = await this.collect(link, label, 'ack');
        if (r instanceof CohshError) return r;
        answered++;
        acks.push(...r.acks);
        if (!r.ok) ok = false;
      }
      return { ok, acks, lines: [], problem: null };
    });
  }

  /** Ends the attachment (wire `quit`) and closes the link; the shell stays. */
  detach(): Promise<Collected | CohshError> {
    return this.exclusive(async () => {
      const link = this.link;
      this.attached = null;
      this.lostReason = null;
      this.link = null;
      if (link === null || !link.isOpen()) return new CohshError('not-attached', 'not attached');
      const r = await this.roundTrip(link, 'quit', 'QUIT', 'ack');
      link.close();
      return r;
    });
  }

  /** Best-effort `quit` and close; no further reconnects. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopHeartbeat();
    const link = this.link;
    if (link !== null && link.isOpen()) {
      await this.exclusive(async () => {
        await this.roundTrip(link, 'quit', 'QUIT', 'ack');
      }).catch(() => undefined);
      link.close();
    }
    this.link = null;
    this.attached = null;
  }

  private armHeartbeat(): void {
    this.stopHeartbeat();
    if (this.opts.heartbeatMs <= 0 || this.closed || this.attached === null) return;
    this.heartbeatTimer = setTimeout(() => {
      this.heartbeatTimer = null;
      if (this.busy > 0 || this.attached === null) return;
      // Silent: the answer is dropped; a failure shows up as a lost connection.
      void this.request('PING', 'PING', 'ack');
    }, this.opts.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

export function attachLine(role: TicketRole, ticket: string | null): string {
  return ticket === null ? `ATTACH ${role}` : `ATTACH ${role} ${ticket}`;
}
