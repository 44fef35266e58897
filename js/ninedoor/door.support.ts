// Test support for NineDoor suites: a hive with a recording policy, and 9P clients that go through the real Session and codec.
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { decodeFrame, encodeMessage } from '../secure9p/codec.js';
import { NineError } from '../secure9p/errors.js';
import type { Message, Reply } from '../secure9p/messages.js';
import { OpenFlag } from '../secure9p/opcodes.js';
import { baseClaims, type TicketClaims } from '../tickets/claims.js';
import { DEV_TICKET_SECRETS } from '../tickets/dev-secrets.js';
import { mintTicket } from '../tickets/token.js';
import type { ControlContext, HivePolicy, RevokedSession } from './policy.js';
import { NineDoor, type NineDoorOptions } from './server.js';
import type { NamespaceSession } from './nssession.js';
import { ok } from '../testkit/index.js';

/** The dev secrets every rig's attach checks tickets against. */
export const SECRETS = DEV_TICKET_SECRETS;
export const NOW_MS = 1_700_000_000_000;

/** A stand-in for root-task: records control writes, applies bind/mount lines, refuses `{"bogus"...}`. */
export class RecordingPolicy implements HivePolicy {
  readonly queen: string[] = [];
  readonly lifecycle: string[] = [];
  readonly revoked: RevokedSession[] = [];
  readonly gpuLines: string[] = [];
  onRevoked: ((r: RevokedSession) => void) | null = null;

  queenCtl(text: string, ctx: ControlContext): void | NineError {
    this.queen.push(text);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const v = JSON.parse(line) as { bind?: { from: string; to: string }; mount?: { service: string; at: string } };
      const err = v.bind ? ctx.session.bind(v.bind.from, v.bind.to) : v.mount ? ctx.session.mount(v.mount.service, v.mount.at) : new NineError('Invalid', 'invalid payload');
      if (err !== null) return err;
    }
    return undefined;
  }
  lifecycleCtl(text: string): Promise<void> {
    this.lifecycle.push(text);
    return Promise.resolve();
  }
  sessionRevoked(r: RevokedSession): void {
    this.revoked.push(r);
    this.onRevoked?.(r);
  }
  gpuAppend(gpuId: string, file: 'ctl' | 'job', text: string): void {
    this.gpuLines.push(`${gpuId} ${file} ${text}`);
  }
}

export interface Hive {
  door: NineDoor;
  policy: RecordingPolicy;
  /** Lines the log sink received. */
  sink: string[];
  clock: { now: number };
  client(uname?: string, aname?: string): Client;
}

export function hive(opts: Partial<NineDoorOptions> = {}): Hive {
  const policy = new RecordingPolicy();
  const sink: string[] = [];
  const clock = { now: NOW_MS };
  const door = new NineDoor({
    policy,
    log: (l) => sink.push(l),
    nowMs: () => clock.now,
    attach: { secrets: SECRETS, allowTicketlessQueen: true },
    mockGpus: true,
    ...opts,
  });
  door.state.setLifecycle({ state: 'ONLINE', reason: 'boot-complete', sinceMs: NOW_MS });
  return { door, policy, sink, clock, client: (u = 'queen', a = '') => new Client(door, u, a) };
}

export function ticket(c: Partial<TicketClaims> & Pick<TicketClaims, 'role'>): string {
  const secret = SECRETS[c.role as keyof typeof SECRETS];
  const t = mintTicket({ ...baseClaims(c.role, BigInt(NOW_MS)), ...c }, secret);
  if (typeof t !== 'string') throw new Error(t.message);
  return t;
}

/** One 9P client: frames are encoded, handed to the session, and its replies decoded. */
export class Client {
  readonly ns: NamespaceSession;
  readonly replies: Reply[] = [];
  attachReply: Reply;
  private tag = 1;
  private nextFid = 1;

  constructor(door: NineDoor, uname: string, aname: string) {
    const ns = door.openSession({
      send: (f) => {
        const d = decodeFrame(f);
        if (!d.ok) throw new Error(`undecodable reply: ${d.error.message}`);
        this.replies.push(d.message as Reply);
      },
    });
    if (ns instanceof NineError) throw new Error(ns.message);
    this.ns = ns;
    this.one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
    this.attachReply = this.one({ kind: 'Tattach', tag: this.tag++, fid: 0, afid: 0xffffffff, uname, aname, nUname: 1000 });
  }

  one(m: Message): Reply {
    const before = this.replies.length;
    this.ns.session.handleFrame(encodeMessage(m));
    const got = this.replies.slice(before);
    if (got.length !== 1) throw new Error(`expected one reply to ${m.kind}, got ${got.length}`);
    return got[0];
  }

  /** Waits for an async reply (a policy that answers with a promise). */
  async oneLater(m: Message): Promise<Reply> {
    const before = this.replies.length;
    this.ns.session.handleFrame(encodeMessage(m));
    for (let i = 0; i < 50 && this.replies.length === before; i++) await Promise.resolve();
    return this.replies[before];
  }

  /** Walks from the root fid; returns the new fid or the error reply (a partial walk counts as ENOENT). */
  walk(path: string): number | Reply {
    const names = path.split('/').filter((c) => c !== '');
    const fid = this.nextFid++;
    const r = this.one({ kind: 'Twalk', tag: this.tag++, fid: 0, newfid: fid, names });
    if (r.kind !== 'Rwalk') return r;
    if (r.qids.length !== names.length) return { kind: 'Rlerror', tag: r.tag, ecode: 2 };
    return fid;
  }

  /** Walks and opens; the fid or the error reply. */
  open(path: string, flags: number = OpenFlag.RDONLY): number | Reply {
    const fid = this.walk(path);
    if (typeof fid !== 'number') return fid;
    const r = this.one({ kind: 'Tlopen', tag: this.tag++, fid, flags });
    return r.kind === 'Rlopen' ? fid : r;
  }

  read(fid: number, offset = 0n, count = 8000): Reply {
    return this.one({ kind: 'Tread', tag: this.tag++, fid, offset, count });
  }

  write(fid: number, data: string | Uint8Array, offset = 0n): Reply {
    return this.one({ kind: 'Twrite', tag: this.tag++, fid, offset, data: typeof data === 'string' ? utf8Encode(data) : data });
  }

  clunk(fid: number): Reply {
    return this.one({ kind: 'Tclunk', tag: this.tag++, fid });
  }

  getattr(path: string): Reply {
    const fid = this.walk(path);
    if (typeof fid !== 'number') return fid;
    return this.one({ kind: 'Tgetattr', tag: this.tag++, fid, requestMask: 0x7ffn });
  }

  /** Reads a whole file (until a short read) as text; the error reply on refusal. */
  cat(path: string): string | Reply {
    const fid = this.open(path);
    if (typeof fid !== 'number') return fid;
    let text = '';
    let off = 0n;
    for (let i = 0; i < 64; i++) {
      const r = this.read(fid, off);
      if (r.kind !== 'Rread') return r;
      if (r.data.length === 0) break;
      text += utf8Decode(r.data);
      off += BigInt(r.data.length);
    }
    this.clunk(fid);
    return text;
  }

  /** Lists a directory with Treaddir (what diodls and v9fs use). */
  ls(path: string): string[] | Reply {
    const fid = this.open(path);
    if (typeof fid !== 'number') return fid;
    const names: string[] = [];
    let off = 0n;
    for (let i = 0; i < 64; i++) {
      const r = this.one({ kind: 'Treaddir', tag: this.tag++, fid, offset: off, count: 8000 });
      if (r.kind !== 'Rreaddir') return r;
      if (r.entries.length === 0) break;
      for (const e of r.entries) names.push(e.name);
      off = r.entries[r.entries.length - 1].offset;
    }
    this.clunk(fid);
    return names;
  }

  /** Opens for append and writes once; the reply of the failing step or Rwrite. */
  append(path: string, data: string | Uint8Array, offset = 0xffffffffffffffffn): Reply {
    const fid = this.open(path, OpenFlag.WRONLY | OpenFlag.APPEND);
    if (typeof fid !== 'number') return fid;
    const r = this.write(fid, data, offset);
    this.clunk(fid);
    return r;
  }
}

/** Asserts an Rlerror with this errno. */
export function refused(r: Reply | string | string[] | number, errno: number, what = ''): void {
  ok(typeof r === 'object' && !Array.isArray(r) && r.kind === 'Rlerror', `${what}: expected Rlerror ${errno}, got ${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  ok((r as { ecode: number }).ecode === errno, `${what}: expected errno ${errno}, got ${(r as { ecode: number }).ecode}`);
}

export function wrote(r: Reply, n: number, what = ''): void {
  ok(r.kind === 'Rwrite' && r.count === n, `${what}: expected Rwrite ${n}, got ${r.kind === 'Rlerror' ? `Rlerror ${r.ecode}` : r.kind}`);
}

/** A §11.4 job descriptor line (no newline) that passes NineDoor's check; `o` overrides fields. */
export function jobLine(id: string, o: Record<string, unknown> = {}): string {
  const hash = `sha256:${'cd'.repeat(32)}`;
  return JSON.stringify({ job: id, kernel: 'vadd', grid: [2, 1, 1], block: [32, 1, 1], bytes_hash: hash, inputs: ['a', 'b'], outputs: ['c'], timeout_ms: 5000, ...o });
}
