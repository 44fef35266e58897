// Exact bytes for frames written out by hand from the 9P2000.L definitions (Linux net/9p/protocol.c layouts).
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { fromHex, toHex } from '../bytes/utf8.js';
import { decodeFrame, encodeMessage } from './codec.js';
import type { Message } from './messages.js';

function hex(...parts: string[]): Uint8Array {
  const b = fromHex(parts.join(''));
  if (b === null) throw new Error('bad hex in test vector');
  return b;
}

function both(name: string, m: Message, bytes: Uint8Array): void {
  test(`codec vector: ${name} encodes to the hand-written bytes`, () => {
    equal(toHex(encodeMessage(m)), toHex(bytes));
  });
  test(`codec vector: ${name} decodes from the hand-written bytes`, () => {
    const d = decodeFrame(bytes);
    ok(d.ok, d.ok ? '' : d.error.message);
    deepEqual(d.message, m);
  });
}

// size=21 type=100 tag=NOTAG msize=8192 version="9P2000.L"
both('Tversion', { kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
  hex('15000000', '64', 'ffff', '00200000', '0800', '3950323030302e4c'));

both('Rversion', { kind: 'Rversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
  hex('15000000', '65', 'ffff', '00200000', '0800', '3950323030302e4c'));

// Twalk fid 0 -> newfid 1 over "proc","boot"
both('Twalk', { kind: 'Twalk', tag: 1, fid: 0, newfid: 1, names: ['proc', 'boot'] },
  hex('1d000000', '6e', '0100', '00000000', '01000000', '0200', '0400', '70726f63', '0400', '626f6f74'));

// Rlerror ENOENT
both('Rlerror', { kind: 'Rlerror', tag: 3, ecode: 2 }, hex('0b000000', '07', '0300', '02000000'));

// Rgetattr: 160 bytes = 7 header + valid[8] qid[13] mode[4] uid[4] gid[4] + 15 × u64.
both('Rgetattr', {
  kind: 'Rgetattr', tag: 5, valid: 0x7ffn, qid: { type: 0x80, version: 0, path: 1n }, mode: 0o40755, uid: 0, gid: 0,
  nlink: 2n, rdev: 0n, size: 0n, blksize: 4096n, blocks: 0n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 7n, mtimeNsec: 0n,
  ctimeSec: 0n, ctimeNsec: 0n, btimeSec: 0n, btimeNsec: 0n, gen: 0n, dataVersion: 0n,
}, hex(
  'a0000000', '19', '0500',
  'ff07000000000000', // valid
  '80', '00000000', '0100000000000000', // qid
  'ed410000', '00000000', '00000000', // mode 040755, uid, gid
  '0200000000000000', '0000000000000000', '0000000000000000', // nlink rdev size
  '0010000000000000', '0000000000000000', // blksize blocks
  '0000000000000000', '0000000000000000', // atime
  '0700000000000000', '0000000000000000', // mtime
  '0000000000000000', '0000000000000000', // ctime
  '0000000000000000', '0000000000000000', // btime
  '0000000000000000', '0000000000000000', // gen data_version
));

both('Treaddir', { kind: 'Treaddir', tag: 5, fid: 2, offset: 0n, count: 4096 },
  hex('17000000', '28', '0500', '02000000', '0000000000000000', '00100000'));

// Two dirents of 28 bytes each: qid[13] offset[8] type[1] name[s].
both('Rreaddir', {
  kind: 'Rreaddir', tag: 5, entries: [
    { qid: { type: 0x80, version: 0, path: 1n }, offset: 1n, type: 4, name: 'proc' },
    { qid: { type: 0x00, version: 0, path: 2n }, offset: 2n, type: 8, name: 'boot' },
  ],
}, hex(
  '43000000', '29', '0500', '38000000',
  '80', '00000000', '0100000000000000', '0100000000000000', '04', '0400', '70726f63',
  '00', '00000000', '0200000000000000', '0200000000000000', '08', '0400', '626f6f74',
));

// Tattach as diod's tools send it: empty uname, n_uname = uid 1000, aname "queen"; 28 bytes.
both('Tattach', { kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: '', aname: 'queen', nUname: 1000 },
  hex('1c000000', '68', '0100', '00000000', 'ffffffff', '0000', '0500', '717565656e', 'e8030000'));

both('Tlopen', { kind: 'Tlopen', tag: 2, fid: 1, flags: 0o2001 }, hex('0f000000', '0c', '0200', '01000000', '01040000'));

test('codec vector: a refused Tmkdir keeps its tag and raw body', () => {
  const bytes = hex('16000000', '48', '0900', '01000000', '0100', '78', 'ed010000', '00000000');
  const d = decodeFrame(bytes);
  ok(d.ok);
  equal(d.message.kind, 'Trefused');
  equal(d.message.tag, 9);
  ok(d.message.kind === 'Trefused' && d.message.name === 'Tmkdir');
  equal(toHex(encodeMessage(d.message)), toHex(bytes));
});
