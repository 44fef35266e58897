// Fuzz target: a Secure9P session over a MemFs tree, fed a stream of frames; every reply must decode.
import { utf8Encode } from '../../bytes/utf8.js';
import { decodeFrame } from '../../secure9p/codec.js';
import { FrameSplitter } from '../../secure9p/frames.js';
import { MemFs, type MemNode } from '../../secure9p/memfs.js';
import { MSIZE_MAX_BYTES } from '../../secure9p/limits.js';
import { Session } from '../../secure9p/session.js';
import { baseClaims } from '../../tickets/claims.js';
import { mintTicket } from '../../tickets/token.js';
import { encodeMessage } from '../../secure9p/codec.js';
import type { FuzzTarget } from '../target.js';
import { broken, chunks, concat, NOW_MS, SECRETS } from './common.js';
import { encodeSamples, NINEP_DICTIONARY } from './ninep-codec.js';

/** Replies one input may produce before the target calls it a runaway. */
const SESSION_REPLIES_MAX = 4096;
/** Largest piece of the input the splitter is pushed at once (an odd size, so frames straddle pieces). */
const SESSION_CHUNK_BYTES_MAX = 509;

function tree(): MemFs {
  const fs = new MemFs();
  const proc = fs.mkdir(fs.root, 'proc');
  fs.file(proc, 'boot', utf8Encode('Cohesix boot: root-task online\n'));
  const log = fs.mkdir(fs.root, 'log');
  fs.file(log, 'queen.log', utf8Encode('first\n'), { append: true });
  fs.mkdir(fs.root, 'empty');
  return fs;
}

function sessionSeeds(): Uint8Array[] {
  const m = (x: object) => encodeMessage(x as Parameters<typeof encodeMessage>[0]);
  const ver = m({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  const queen = m({ kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 });
  const ticket = mintTicket({ ...baseClaims('worker-heartbeat', BigInt(NOW_MS)), subject: 'w1' }, SECRETS['worker-heartbeat']);
  const worker = m({ kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'worker-heartbeat:w1', aname: typeof ticket === 'string' ? ticket : '', nUname: 0 });
  const walk = m({ kind: 'Twalk', tag: 2, fid: 0, newfid: 1, names: ['log', 'queen.log'] });
  const open = m({ kind: 'Tlopen', tag: 3, fid: 1, flags: 2 });
  const read = m({ kind: 'Tread', tag: 4, fid: 1, offset: 0n, count: 4096 });
  const write = m({ kind: 'Twrite', tag: 5, fid: 1, offset: 0n, data: utf8Encode('hello\n') });
  const clunk = m({ kind: 'Tclunk', tag: 6, fid: 1 });
  const stat = m({ kind: 'Tgetattr', tag: 7, fid: 0, requestMask: 0x3fffn });
  const dir = m({ kind: 'Tlopen', tag: 8, fid: 0, flags: 0 });
  const readdir = m({ kind: 'Treaddir', tag: 9, fid: 0, offset: 0n, count: 4096 });
  return [
    concat([ver, queen, walk, open, read, write, clunk, stat]),
    concat([ver, worker, walk, open, read, clunk]),
    concat([ver, queen, dir, readdir, stat]),
    concat([ver, ...encodeSamples()]),
  ];
}

export const ninepSession: FuzzTarget = {
  name: 'ninep-session',
  maxInputBytes: 4096,
  dictionary: NINEP_DICTIONARY,
  seeds: sessionSeeds,
  run(input) {
    let replies = 0;
    let last = 'none';
    let closed = false;
    const session = new Session<MemNode>({
      fs: tree(),
      send: (f) => {
        const d = decodeFrame(f);
        if (!d.ok) broken(`session sent an undecodable reply: ${d.error.message}`);
        if (++replies > SESSION_REPLIES_MAX) broken('more replies than requests could ask for');
        last = d.message.kind;
      },
      close: () => {
        closed = true;
      },
      nowMs: () => NOW_MS,
      attach: { secrets: SECRETS, allowTicketlessQueen: true },
    });
    const s = new FrameSplitter(MSIZE_MAX_BYTES);
    for (const c of chunks(input, SESSION_CHUNK_BYTES_MAX)) {
      if (closed) break;
      for (const ev of s.push(c)) {
        if (ev.kind === 'frame') session.handleFrame(ev.bytes);
        else if (ev.kind === 'oversize') session.refuseOversize(ev.tag, ev.declaredBytes);
        else closed = true;
      }
      s.setMsize(session.msize());
    }
    return `${last}:${session.liveFids().length > 0 ? 'fids' : 'nofids'}:${closed ? 'closed' : 'open'}`;
  },
};
