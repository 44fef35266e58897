// Fuzz target: the 9P2000.L codec (decodeFrame of one frame, the FrameSplitter over a stream) and re-encode.
import { decodeFrame, encodeMessage } from '../../secure9p/codec.js';
import { DecodeError, EncodeError } from '../../secure9p/errors.js';
import { FrameSplitter } from '../../secure9p/frames.js';
import { MSIZE_MAX_BYTES } from '../../secure9p/limits.js';
import type { Message } from '../../secure9p/messages.js';
import type { FuzzTarget } from '../target.js';
import { broken, chunks } from './common.js';

const q = { type: 0x80, version: 1, path: 42n };

/** One of each message kind a client or server sends, the seeds of both 9P targets. */
export const NINEP_SAMPLES: Message[] = [
  { kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
  { kind: 'Rversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
  { kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 },
  { kind: 'Rattach', tag: 1, qid: q },
  { kind: 'Twalk', tag: 2, fid: 0, newfid: 1, names: ['log', 'queen.log'] },
  { kind: 'Rwalk', tag: 2, qids: [q, q] },
  { kind: 'Tlopen', tag: 3, fid: 1, flags: 0 },
  { kind: 'Rlopen', tag: 3, qid: q, iounit: 8168 },
  { kind: 'Tread', tag: 4, fid: 1, offset: 0n, count: 4096 },
  { kind: 'Rread', tag: 4, data: new Uint8Array([1, 2, 3]) },
  { kind: 'Twrite', tag: 5, fid: 1, offset: 0n, data: new Uint8Array([104, 105, 10]) },
  { kind: 'Rwrite', tag: 5, count: 3 },
  { kind: 'Tclunk', tag: 6, fid: 1 },
  { kind: 'Rclunk', tag: 6 },
  { kind: 'Tgetattr', tag: 7, fid: 0, requestMask: 0x3fffn },
  { kind: 'Treaddir', tag: 8, fid: 0, offset: 0n, count: 4096 },
  { kind: 'Tflush', tag: 9, oldtag: 4 },
  { kind: 'Tstatfs', tag: 10, fid: 0 },
  { kind: 'Tauth', tag: 11, afid: 5, uname: 'queen', aname: '', nUname: 0 },
] as Message[];

export function encodeSamples(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const m of NINEP_SAMPLES) {
    try {
      out.push(encodeMessage(m));
    } catch (e) {
      // A sample this codec version does not know is left out, not a reason to stop fuzzing the rest.
      if (!(e instanceof EncodeError)) throw e;
    }
  }
  return out;
}

export const NINEP_DICTIONARY = ['9P2000.L', '9P2000.L.', 'queen', 'worker-heartbeat:w', 'cohesix-ticket-', '..', '/', 'log',
  'queen.log', '\xff\xff\xff\xff', '\x00\x20\x00\x00', '\x00\x00'];

/** Largest piece of the input the splitter is pushed at once (an odd size, so frames straddle pieces). */
const NINEP_STREAM_CHUNK_BYTES_MAX = 97;

export const ninepCodec: FuzzTarget = {
  name: 'ninep-codec',
  maxInputBytes: 2 * 8192,
  dictionary: NINEP_DICTIONARY,
  seeds: encodeSamples,
  run(input) {
    const d = decodeFrame(input);
    let label: string;
    if (d.ok) {
      // What decodes must encode again, and to a frame that decodes to the same kind.
      const again = decodeFrame(encodeMessage(d.message));
      if (!again.ok || again.message.kind !== d.message.kind) broken(`${d.message.kind} does not survive a re-encode`);
      label = d.message.kind;
    } else {
      if (!(d.error instanceof DecodeError)) broken('decode refused without a DecodeError');
      label = `err:${d.error.message.slice(0, 24)}`;
    }
    // The same bytes as a stream, cut where the input says: the splitter never holds more than msize.
    const s = new FrameSplitter(MSIZE_MAX_BYTES);
    for (const c of chunks(input, NINEP_STREAM_CHUNK_BYTES_MAX)) {
      for (const ev of s.push(c)) if (ev.kind === 'frame' && ev.bytes.length > MSIZE_MAX_BYTES) broken('frame over msize');
      if (s.buffered() > MSIZE_MAX_BYTES) broken('splitter holds more than msize');
    }
    return label;
  },
  declared: (e) => e instanceof EncodeError,
};
