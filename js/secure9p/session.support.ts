// Test support for session suites: a MemFs tree, a session wired to capture replies, and an rpc helper.
import { utf8Encode } from '../bytes/utf8.js';
import { baseClaims, type TicketClaims } from '../tickets/claims.js';
import { DEV_TICKET_SECRETS } from '../tickets/dev-secrets.js';
import { mintTicket } from '../tickets/token.js';
import { decodeFrame, encodeMessage } from './codec.js';
import type { Message, Reply } from './messages.js';
import { MemFs } from './memfs.js';
import { Session, type SessionOptions } from './session.js';
import type { MemNode } from './memfs.js';

/** The dev secrets every rig's attach checks tickets against. */
export const SECRETS = DEV_TICKET_SECRETS;
export const NOW_MS = 1_700_000_000_000;

export interface Rig {
  fs: MemFs;
  session: Session<MemNode>;
  sent: Reply[];
  logs: string[];
  closedWith: string[];
  clock: { now: number };
  /** Sends one message; returns the replies produced synchronously. */
  rpc(m: Message): Reply[];
  /** Sends raw bytes; returns the replies produced synchronously. */
  raw(b: Uint8Array): Reply[];
  /** Exactly one reply expected. */
  one(m: Message): Reply;
}

export function rig(opts: Partial<SessionOptions<MemNode>> = {}): Rig {
  const fs = new MemFs();
  const proc = fs.mkdir(fs.root, 'proc');
  fs.file(proc, 'boot', utf8Encode('Cohesix boot: root-task online\n'));
  fs.mkdir(fs.root, 'empty');
  const log = fs.mkdir(fs.root, 'log');
  fs.file(log, 'queen.log', utf8Encode('first\n'), { append: true });
  fs.file(fs.root, 'slow', utf8Encode('later'), { slow: true });
  const sent: Reply[] = [];
  const logs: string[] = [];
  const closedWith: string[] = [];
  const clock = { now: NOW_MS };
  const session = new Session<MemNode>({
    fs,
    send: (f) => {
      const d = decodeFrame(f);
      if (!d.ok) throw new Error(`session sent an undecodable frame: ${d.error.message}`);
      sent.push(d.message as Reply);
    },
    close: (r) => closedWith.push(r),
    log: (l) => logs.push(l),
    nowMs: () => clock.now,
    attach: { secrets: SECRETS, allowTicketlessQueen: true },
    ...opts,
  });
  const raw = (b: Uint8Array) => {
    const before = sent.length;
    session.handleFrame(b);
    return sent.slice(before);
  };
  const rpc = (m: Message) => raw(encodeMessage(m));
  const one = (m: Message) => {
    const r = rpc(m);
    if (r.length !== 1) throw new Error(`expected one reply to ${m.kind}, got ${r.length}`);
    return r[0];
  };
  return { fs, session, sent, logs, closedWith, clock, rpc, raw, one };
}

/** Versions and attaches fid 0 as a ticketless queen. */
export function queenRig(opts: Partial<SessionOptions<MemNode>> = {}): Rig {
  const r = rig(opts);
  r.one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  const a = r.one({ kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 });
  if (a.kind !== 'Rattach') throw new Error('queen attach failed');
  return r;
}

export function ticket(c: Partial<TicketClaims> & Pick<TicketClaims, 'role'>, secret: string): string {
  const t = mintTicket({ ...baseClaims(c.role, BigInt(NOW_MS)), ...c }, secret);
  if (typeof t !== 'string') throw new Error(t.message);
  return t;
}
