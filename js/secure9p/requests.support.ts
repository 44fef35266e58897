// Test support for the Secure9P session suites and their regressions: request builders, raw Twalk frames, the Rlerror check.
import { equal, ok } from '../testkit/index.js';
import { utf8Encode } from '../bytes/utf8.js';
import type { Reply } from './messages.js';
import { MessageType, OpenFlag } from './opcodes.js';
import type { Rig } from './session.support.js';

/** Checks that `r` is an Rlerror carrying `errno`. */
export function lerror(r: Reply, errno: number, what = ''): void {
  ok(r.kind === 'Rlerror', `${what} expected Rlerror ${errno}, got ${r.kind}`);
  equal(r.ecode, errno, what);
}

/** Request builders: one T-message each, with the fields a test varies. */
export const walk = (tag: number, fid: number, newfid: number, names: string[]) => ({ kind: 'Twalk' as const, tag, fid, newfid, names });
export const lopen = (tag: number, fid: number, flags: number) => ({ kind: 'Tlopen' as const, tag, fid, flags });
export const read = (tag: number, fid: number, offset = 0n, count = 4096) => ({ kind: 'Tread' as const, tag, fid, offset, count });
export const write = (tag: number, fid: number, text: string) => ({ kind: 'Twrite' as const, tag, fid, offset: 0n, data: utf8Encode(text) });
export const clunk = (tag: number, fid: number) => ({ kind: 'Tclunk' as const, tag, fid });

/** Lets pending handler promises and the session's reply chains run (no timers in js/). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Walks fid 0 to `names` into `fid` and opens it. */
export function openAt(r: Rig, fid: number, names: string[], flags: number = OpenFlag.RDONLY): Reply {
  const w = r.one(walk(10, 0, fid, names));
  if (w.kind !== 'Rwalk') return w;
  return r.one(lopen(11, fid, flags));
}

/** Tversion then Tattach of `fid` as uname/aname. */
export function attach(r: Rig, uname: string, aname: string, fid = 0): Reply {
  r.rpc({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  return r.one({ kind: 'Tattach', tag: 1, fid, afid: 0xffffffff, uname, aname, nUname: 1000 });
}

/** A Twalk frame from fid 0 to fid 1 built byte by byte, so names the encoder would refuse can be sent. */
export function walkRaw(tag: number, names: number[][]): Uint8Array {
  const body = [0, 0, 0, 0, 1, 0, 0, 0, names.length, 0];
  for (const n of names) body.push(n.length & 0xff, n.length >> 8, ...n);
  const b = new Uint8Array(7 + body.length);
  new DataView(b.buffer).setUint32(0, b.length, true);
  b[4] = MessageType.Twalk;
  b[5] = tag;
  b.set(body, 7);
  return b;
}
/** A name's bytes, one per character (ASCII test names). */
export const a = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
