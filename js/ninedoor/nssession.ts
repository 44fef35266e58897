// One client's view of the namespace: the FileServer a Session drives, with bind/mount rewriting, role views, ticket scopes and budgets.
import { NineError } from '../secure9p/errors.js';
import type { Access, Answer, AttachGrant, DirEntry, FileServer, NodeAttr, OpenFile, Principal } from '../secure9p/fileserver.js';
import type { Qid } from '../secure9p/messages.js';
import type { Session } from '../secure9p/session.js';
import { isPrefix, matchScope, roleAllows, roleSeesAll, type Verb, type ViewFacts } from './access.js';
import { MountTable, parseAbsPath, showPath } from './binds.js';
import type { Gate } from './gates.js';
import { DirNode, RingFile, type IoContext, type NsNode } from './nodes.js';
import type { SessionView } from './policy.js';
import { TICKET_DENY_PREFIX, type Refusal } from './audit.js';

/** A fid's node as this session reached it: the path it walked (view) and what that names (canonical). */
export interface Handle {
  readonly view: readonly string[];
  readonly canon: readonly string[];
  readonly node: NsNode;
  /** The last plain step walked from here and the mount table version it was made under (see walk). */
  step?: Handle;
  stepMounts?: number;
}

/** A worker record as far as a session needs it. */
export interface WorkerFacts {
  kind: 'heartbeat' | 'gpu';
  opsMax: number | null;
  expiresAtMs: number | null;
  ticks: number | null;
}

/** What a session needs from the server (kept narrow so the two files stay apart). */
export interface DoorInternals extends ViewFacts {
  root: DirNode;
  nowMs(): number;
  /** Null when open; else Permission, with the gate line logged. */
  gate(g: Gate): NineError | null;
  log(line: string): void;
  /** A refused check: one rate-bounded `[audit] refused ...` line (audit.ts). */
  audit(r: Refusal): void;
  /** A refusal line the spec words itself (§8.6), under the same bounds, counted under `key`. */
  auditLine(key: string, line: string): void;
  lookup(canon: readonly string[]): NsNode | undefined;
  worker(id: string): WorkerFacts | undefined;
  service(name: string): string | undefined;
  enrol(s: NamespaceSession, workerId: string): void;
  revoked(s: NamespaceSession, reason: string): void;
}

/** What a hot reload carries of a namespace session besides its 9P session (budgets, mounts, workers). */
export interface NsSessionState {
  mounts: { at: string[]; target: string[] }[];
  identities: string[];
  ticksLeft: number | null;
  /** Decimal text: a bigint does not cross as JSON. */
  bandwidthLeft: string | null;
  advancesLeft: number | null;
  resumesLeft: number | null;
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((n) => typeof n === 'string');
const countOrNull = (v: unknown): boolean => v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);

/** Shape check of an NsSessionState from JSON; null when anything is off. */
function checkNsState(v: unknown): NsSessionState | null {
  const s = v as NsSessionState;
  if (typeof v !== 'object' || v === null || !Array.isArray(s.mounts) || !strings(s.identities)) return null;
  if (!s.mounts.every((m) => typeof m === 'object' && m !== null && strings(m.at) && strings(m.target))) return null;
  if (!countOrNull(s.ticksLeft) || !countOrNull(s.advancesLeft) || !countOrNull(s.resumesLeft)) return null;
  if (!(s.bandwidthLeft === null || (typeof s.bandwidthLeft === 'string' && /^[0-9]{1,20}$/.test(s.bandwidthLeft)))) return null;
  return s;
}

/** Per-scope access counts for the 1 s rate window (spec §8.6). */
interface RateWindow {
  startMs: number;
  count: number;
}

const ONE_SECOND_MS = 1000;
const WORKER_ROLE_KIND = { 'worker-heartbeat': 'heartbeat', 'worker-gpu': 'gpu' } as const;

/**
 * What a provider may ask of the session doing an open's I/O. A class, not an object of closures:
 * one is made per open, and four closures each time cost more than the open itself inside quickjs-ng.
 */
class SessionIo implements IoContext {
  constructor(
    readonly session: NamespaceSession,
    private readonly door: DoorInternals,
    readonly who: Principal,
    readonly canon: readonly string[],
  ) {}
  nowMs(): number {
    return this.door.nowMs();
  }
  gate(g: Gate): NineError | null {
    return this.door.gate(g);
  }
  tickAvailable(): NineError | null {
    return this.session.tickAvailable();
  }
  tickSpent(): void {
    this.session.tickSpent();
  }
}

export class NamespaceSession implements FileServer<Handle>, SessionView {
  readonly mounts = new MountTable();
  /** Worker ids this session attached as (one in practice; a session may attach more than once). */
  readonly identities = new Set<string>();
  session!: Session<Handle>;
  private first: Principal | null = null;
  private ticksLeft: number | null = null;
  private readonly rates = new Map<number, RateWindow>();
  private bandwidthLeft: bigint | null = null;
  private advancesLeft: number | null = null;
  private resumesLeft: number | null = null;
  /** The IoContext of the last open (see open). */
  private lastIo: SessionIo | null = null;
  /** Set while NineDoor itself revokes this session, so the revocation is not reported back as new. */
  quiet = false;
  ended = false;

  constructor(
    readonly id: number,
    private readonly door: DoorInternals,
  ) {}

  who(): Principal | null {
    return this.first;
  }

  attached(): boolean {
    return this.first !== null && !this.ended && this.session.revokedReason() === null;
  }

  /** The budgets and mounts a hot reload carries (the 9P half is Session's own). */
  exportState(): NsSessionState {
    return {
      mounts: this.mounts.list().map((m) => ({ at: [...m.at], target: [...m.target] })),
      identities: [...this.identities],
      ticksLeft: this.ticksLeft,
      bandwidthLeft: this.bandwidthLeft === null ? null : this.bandwidthLeft.toString(),
      advancesLeft: this.advancesLeft,
      resumesLeft: this.resumesLeft,
    };
  }

  /** Puts back exportState() of an earlier code, before its 9P half; the principal comes with that half. */
  importState(v: unknown, first: Principal | null): NineError | null {
    const s = checkNsState(v);
    if (s === null) return new NineError('Invalid', 'namespace session state not understood');
    for (const m of s.mounts) {
      const err = this.mounts.add(m.at, m.target);
      if (err !== null) return err;
    }
    for (const id of s.identities) {
      if (this.door.worker(id) === undefined) return new NineError('NotFound', `worker ${id} is gone`);
      this.identities.add(id);
      this.door.enrol(this, id);
    }
    this.ticksLeft = s.ticksLeft;
    this.bandwidthLeft = s.bandwidthLeft === null ? null : BigInt(s.bandwidthLeft);
    this.advancesLeft = s.advancesLeft;
    this.resumesLeft = s.resumesLeft;
    this.first = first;
    return null;
  }

  /** A fid's handle as a hot reload carries it: the paths, not the node (nodes belong to one code's tree). */
  static handleOut(h: Handle): { view: string[]; canon: string[] } {
    return { view: [...h.view], canon: [...h.canon] };
  }

  /** The handle of the same paths in this code's tree, or null when the node is gone. */
  handleIn(x: unknown): Handle | null {
    const o = x as { view?: unknown; canon?: unknown };
    if (typeof x !== 'object' || x === null || !strings(o.view) || !strings(o.canon)) return null;
    const node = this.door.lookup(o.canon);
    return node === undefined || node.gone ? null : { view: o.view, canon: o.canon, node };
  }

  /** Revocation NineDoor starts (worker removed, sibling revoked): no second log line, no callback. */
  revokeQuietly(reason: string): void {
    this.quiet = true;
    this.session.revoke(reason);
    this.quiet = false;
  }

  // ---- FileServer ----

  attach(who: Principal): Answer<AttachGrant<Handle>> {
    let grant: AttachGrant<Handle> = { root: { view: [], canon: [], node: this.door.root } };
    if (who.role !== 'queen') {
      const shut = this.door.gate('worker-attach');
      if (shut !== null) return shut;
      if (who.role !== 'worker-heartbeat' && who.role !== 'worker-gpu') return new NineError('NotFound', `no ${who.role} provider`);
      const id = who.identity ?? '';
      const rec = this.door.worker(id);
      if (rec === undefined) return new NineError('NotFound', `unknown worker ${id}`);
      if (rec.kind !== WORKER_ROLE_KIND[who.role]) return new NineError('Invalid', `${id} is not a ${who.role}`);
      const t = who.claims?.ticks;
      const caps = [rec.ticks, t == null ? null : Number(t)].filter((x): x is number => x !== null);
      if (caps.length > 0) this.ticksLeft = Math.min(this.ticksLeft ?? Infinity, ...caps);
      grant = { ...grant, opsMax: rec.opsMax, expiresAtMs: rec.expiresAtMs };
      this.door.enrol(this, id);
      this.identities.add(id);
    }
    const c = who.claims;
    if (c !== null && c.mountService !== '') {
      const err = this.mountUnchecked(c.mountService, c.mountAt);
      if (err !== null) return err;
    }
    if (c?.quotas != null && this.first === null) {
      const q = c.quotas;
      this.bandwidthLeft = q.bandwidthBytes === 0n ? null : q.bandwidthBytes;
      this.resumesLeft = q.cursorResumes === 0 ? null : q.cursorResumes;
      this.advancesLeft = q.cursorAdvances === 0 ? null : q.cursorAdvances;
    }
    this.first ??= who;
    return grant;
  }

  qid(h: Handle): Qid {
    return h.node.qid();
  }

  walk(h: Handle, name: string, who: Principal): Answer<Handle> {
    if (h.node.gone) return new NineError('NotFound', 'node removed');
    const seesAll = roleSeesAll(who) && who.claims?.scopes == null;
    // The step walked last from this handle, when nothing it was made from has changed: the same
    // name under the same mounts (so the same view and canonical path) to the same child node.
    // A principal with no checks to run gets it as is; a path array, a rewrite and a handle per
    // step were most of a Twalk's cost inside quickjs-ng.
    // A step is remembered only from a directory (below), so h.node is one when h has a step.
    const step = h.step;
    if (seesAll && step !== undefined && h.stepMounts === this.mounts.version && step.view[step.view.length - 1] === name &&
      (h.node as DirNode).child(name) === step.node) {
      return step;
    }
    const view = h.view.concat(name);
    const canon = this.mounts.rewrite(view);
    // Spec §5.3: policy for the full target and every prefix (a bind can jump to an unchecked
    // subtree). A principal the role view and no scope can refuse skips making the prefixes.
    if (!seesAll) {
      for (let k = 0; k <= canon.length; k++) {
        const denied = this.refuse(who, k === canon.length ? canon : canon.slice(0, k), 'walk');
        if (denied !== null) return denied;
      }
    }
    const plain = canon.length === h.canon.length + 1 && isPrefix(h.canon, canon) && canon[canon.length - 1] === name;
    const dir = plain && h.node instanceof DirNode ? h.node : null;
    const node = dir !== null ? dir.child(name) : this.door.lookup(canon);
    if (node === undefined) return new NineError('NotFound', `${showPath(view)}: no such file`);
    const next: Handle = { view, canon, node, step: undefined, stepMounts: undefined };
    if (dir !== null) {
      // One step remembered per handle: memory stays bounded by the handles fids hold, and their depth.
      h.step = next;
      h.stepMounts = this.mounts.version;
    }
    return next;
  }

  getattr(h: Handle): Answer<NodeAttr> {
    if (h.node.gone) return new NineError('NotFound', 'node removed');
    return { perm: h.node.perm(), size: BigInt(h.node.size()), mtimeMs: h.node.mtimeMs, dataVersion: BigInt(h.node.readStart()) };
  }

  list(h: Handle, who: Principal): Answer<DirEntry[]> {
    if (!(h.node instanceof DirNode)) return new NineError('Invalid', 'not a directory');
    const dir = h.node;
    const byName = new Map<string, { canon: readonly string[]; node: NsNode }>();
    for (const name of dir.names()) {
      const n = dir.child(name);
      if (n !== undefined) byName.set(name, { canon: [...h.canon, name], node: n });
    }
    for (const m of this.mounts.childrenOf(h.view)) {
      const n = this.door.lookup(m.target);
      if (n !== undefined) byName.set(m.at[m.at.length - 1], { canon: m.target, node: n });
    }
    // A listing shows only what this principal could walk to: its view, not the whole tree.
    return [...byName.keys()].sort()
      .filter((name) => this.refuse(who, (byName.get(name) as { canon: readonly string[] }).canon, 'walk', false) === null)
      .map((name) => ({ name, qid: this.qid({ view: [], canon: [], node: (byName.get(name) as { node: NsNode }).node }) }));
  }

  open(h: Handle, access: Access, who: Principal): Answer<OpenFile> {
    if (h.node.gone) return new NineError('NotFound', 'node removed');
    // Read first, then write (read-write asks both), as a refusal names the first verb denied.
    // A read-open is the read access (one per open, see refuse); a write-open moves nothing, its writes count.
    const denied = (access !== 'write' ? this.refuse(who, h.canon, 'read') : null) ??
      (access !== 'read' ? this.refuse(who, h.canon, 'write', true, false) : null);
    if (denied !== null) return denied;
    // The last open's context serves again for the same principal and path: it holds nothing
    // per open, and a fresh one per open cost as much as the rest of a read-only open.
    let io = this.lastIo;
    if (io === null || io.who !== who || io.canon !== h.canon) io = this.lastIo = new SessionIo(this, this.door, who, h.canon);
    const f = h.node.open(access, io);
    // Unticketed (the queen, a dev attach): nothing to meter, and no instanceof to pay for.
    if (who.claims === null || f instanceof NineError) return f;
    return this.metered(f, who, h);
  }

  // ---- SessionView: binds and mounts (called by root-task policy for /queen/ctl lines) ----

  bind(from: string, to: string): NineError | null {
    const shut = this.door.gate('new-work');
    if (shut !== null) return shut;
    const err = this.bindUnchecked(from, to);
    if (err === null) this.door.log(`bound ${from} -> ${to}`);
    return err;
  }

  mount(service: string, at: string): NineError | null {
    const shut = this.door.gate('new-work');
    if (shut !== null) return shut;
    const err = this.mountUnchecked(service, at);
    if (err === null) this.door.log(`mounted ${service} at ${at}`);
    return err;
  }

  private mountUnchecked(service: string, at: string): NineError | null {
    const from = this.door.service(service);
    if (from === undefined) return new NineError('NotFound', `unknown service ${service}`);
    return this.bindUnchecked(from, at);
  }

  private bindUnchecked(from: string, to: string): NineError | null {
    const f = parseAbsPath(from, 'bind source');
    if (f instanceof NineError) return f;
    const t = parseAbsPath(to, 'bind target');
    if (t instanceof NineError) return t;
    if (t.length === 0) return new NineError('Invalid', 'bind target must not be /');
    const target = this.mounts.rewrite(f);
    if (this.door.lookup(target) === undefined) return new NineError('NotFound', `bind source ${from} does not exist`);
    // The mount point must hang off a directory this session can reach, or no walk could ever get to it.
    const parent = this.door.lookup(this.mounts.rewrite(t.slice(0, -1)));
    if (!(parent instanceof DirNode)) return new NineError('NotFound', `bind target parent of ${to} is not a directory`);
    return this.mounts.add(t, target);
  }

  // ---- access ----

  /**
   * Role view, then ticket scopes (with rate) when the ticket has them; Permission (or TooBig for
   * rate) with the §8.6 line. `count` false is a silent check (a listing's filter); `rate` false
   * checks the scope without spending the rate window.
   *
   * What one rate access is (spec §8.6 "rate is a 1 s window"): opening a file to read it, and
   * each write. The Treads of one open are not accesses: how many there are depends on msize, the
   * file's size and the empty read that ends it, so a console CAT (open, read, read at EOF) would
   * spend three where a client asking once spends one. Reads are metered by bandwidth and cursor
   * quotas instead. Each write to an append-only file is a whole record, so each counts.
   */
  private refuse(who: Principal, canon: readonly string[], verb: Verb, count = true, rate = count): NineError | null {
    if (!roleAllows(who, canon, verb, this.door)) {
      // A listing filters with count false: hiding a name is not a refusal, so it leaves no line.
      if (count) {
        this.door.audit({
          src: '9p', op: verb, role: who.role, subject: who.identity ?? who.claims?.subject ?? null, path: showPath(canon), reason: 'permission',
        });
      }
      return new NineError('Permission', `EPERM: ${who.role} may not ${verb} ${showPath(canon)}`);
    }
    const scopes = who.claims?.scopes;
    if (scopes == null) return null;
    const i = matchScope(scopes, canon, verb);
    if (i === null) return count ? this.ticketDeny(who, 'scope', canon, verb, 'Permission') : new NineError('Permission', 'scope');
    if (!count || !rate || verb === 'walk' || scopes[i].ratePerS === 0) return null;
    const now = this.door.nowMs();
    let w = this.rates.get(i);
    if (w === undefined || now - w.startMs >= ONE_SECOND_MS) {
      w = { startMs: now, count: 0 };
      this.rates.set(i, w);
    }
    if (w.count >= scopes[i].ratePerS) return this.ticketDeny(who, 'rate', canon, verb, 'TooBig');
    w.count++;
    return null;
  }

  private ticketDeny(who: Principal, reason: string, canon: readonly string[], verb: Verb, code: 'Permission' | 'TooBig'): NineError {
    const v = verb === 'write' ? 'write' : 'read';
    const line = `${TICKET_DENY_PREFIX} reason=${reason} role=${who.role} ticket=${who.claims?.subject ?? '-'} path=${showPath(canon)} verb=${v}`;
    this.door.auditLine(`src=9p op=${v} reason=ticket-${reason}`, line);
    return new NineError(code, code === 'Permission' ? 'EPERM' : 'ELIMIT');
  }

  /** Before a telemetry append: with no tick left the session is revoked (spec §8.5). */
  tickAvailable(): NineError | null {
    if (this.ticksLeft === null || this.ticksLeft > 0) return null;
    this.session.revoke('tick budget exhausted');
    return new NineError('Closed', 'tick budget exhausted');
  }

  tickSpent(): void {
    if (this.ticksLeft !== null) this.ticksLeft--;
  }

  /** Per-op ticket checks for a ticketed session: scope rate, bandwidth, and telemetry cursor quotas (spec §8.6). */
  private metered(f: OpenFile, who: Principal, h: Handle): OpenFile {
    const ring = h.node instanceof RingFile;
    let lastOffset: bigint | null = null;
    const charge = (verb: 'read' | 'write', bytes: number, offset: bigint): NineError | null => {
      // A read spends no rate (its open did); a write is an access of its own (see refuse).
      const denied = this.refuse(who, h.canon, verb, true, verb === 'write');
      if (denied !== null) return denied;
      if (ring && verb === 'read') {
        const resume = lastOffset !== null && offset < lastOffset;
        const left = resume ? this.resumesLeft : this.advancesLeft;
        if (left !== null && left <= 0) return this.ticketDeny(who, resume ? 'cursor-resume' : 'cursor-advance', h.canon, verb, 'TooBig');
        if (resume && this.resumesLeft !== null) this.resumesLeft--;
        if (!resume && this.advancesLeft !== null) this.advancesLeft--;
        lastOffset = offset;
      }
      return verb === 'write' ? spend(bytes, 'write') : null;
    };
    /** Bandwidth drains by bytes moved: a write by what it sends, a read by what it got back. */
    const spend = (bytes: number, verb: Verb = 'read'): NineError | null => {
      if (this.bandwidthLeft === null) return null;
      if (BigInt(bytes) > this.bandwidthLeft) return this.ticketDeny(who, 'bandwidth', h.canon, verb, 'TooBig');
      this.bandwidthLeft -= BigInt(bytes);
      return null;
    };
    const afterRead = (r: Uint8Array | NineError): Uint8Array | NineError => (r instanceof NineError ? r : spend(r.length) ?? r);
    const out: OpenFile = { close: f.close ? () => f.close?.() : undefined };
    const read = f.read;
    const write = f.write;
    if (read !== undefined) {
      out.read = (offset, count) => {
        const denied = charge('read', 0, offset);
        if (denied !== null) return denied;
        const r = read.call(f, offset, count);
        return r instanceof Promise ? r.then(afterRead) : afterRead(r);
      };
    }
    if (write !== undefined) out.write = (offset, data) => charge('write', data.length, offset) ?? write.call(f, offset, data);
    return out;
  }
}
