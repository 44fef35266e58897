// Session engine tests: version, attach, walk/open/read/write/readdir, and the negative matrix with exact errnos.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Decode } from '../bytes/utf8.js';
import { decodeFrame, encodeMessage } from './codec.js';
import { Errno } from './errors.js';
import type { Message, Reply } from './messages.js';
import { MessageType, OpenFlag } from './opcodes.js';
import { NOW_MS, SECRETS, queenRig, rig, ticket } from './session.support.js';
import { a, attach, clunk, lerror, lopen, openAt, read, settle, walk, walkRaw, write } from './requests.support.js';

// ---- version ----

test('session version: 9P2000.L.Google.7 with msize 65536 gets 9P2000.L and 8192', () => {
  const r = rig();
  deepEqual(r.one({ kind: 'Tversion', tag: 0xffff, msize: 65536, version: '9P2000.L.Google.7' }),
    { kind: 'Rversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  equal(r.session.msize(), 8192);
});

test('session version: anything not starting with 9P2000.L gets unknown, and attach stays refused', () => {
  const r = rig();
  deepEqual(r.one({ kind: 'Tversion', tag: 0xffff, msize: 4096, version: '9P2000' }),
    { kind: 'Rversion', tag: 0xffff, msize: 4096, version: 'unknown' });
  lerror(r.one({ kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 }), Errno.EINVAL);
});

test('session version: a request before Tversion is Invalid', () => {
  lerror(rig().one({ kind: 'Tclunk', tag: 1, fid: 0 }), Errno.EINVAL);
});

test('session version: a smaller msize is honoured and bounds later frames', () => {
  const r = rig();
  r.one({ kind: 'Tversion', tag: 0xffff, msize: 512, version: '9P2000.L' });
  r.one({ kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 });
  const big = encodeMessage({ kind: 'Twrite', tag: 7, fid: 0, offset: 0n, data: new Uint8Array(600) });
  lerror(r.raw(big)[0], Errno.EMSGSIZE);
});

test('session version: a new Tversion resets fids and retired numbers', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, ['proc']));
  r.one(clunk(3, 1));
  r.one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  deepEqual(r.session.liveFids(), []);
  lerror(r.one(clunk(4, 0)), Errno.EBADF, 'old fid 0 is gone');
  const a = r.one({ kind: 'Tattach', tag: 5, fid: 1, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 });
  equal(a.kind, 'Rattach', 'fid 1 is usable again after the reset');
});

// ---- auth and attach ----

test('session auth: Tauth gets ENOENT (tickets travel in aname)', () => {
  const r = rig();
  r.one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  lerror(r.one({ kind: 'Tauth', tag: 1, afid: 1, uname: '', aname: 'queen', nUname: 1000 }), Errno.ENOENT);
});

test('session attach: diod style (empty uname, aname queen) attaches as queen on a dev image', () => {
  const r = rig();
  equal(attach(r, '', 'queen').kind, 'Rattach');
  equal(r.session.who()?.role, 'queen');
});

test('session attach: a release image refuses a ticketless queen with EACCES', () => {
  const r = rig({ attach: { secrets: SECRETS, allowTicketlessQueen: false } });
  lerror(attach(r, '', 'queen'), Errno.EACCES);
  lerror(attach(r, 'queen', ''), Errno.EACCES);
});

test('session attach: empty uname takes role and identity from the ticket', () => {
  const r = rig();
  const t = ticket({ role: 'worker-heartbeat', subject: 'worker-1', ops: 100n }, 'worker');
  equal(attach(r, '', t).kind, 'Rattach');
  deepEqual([r.session.who()?.role, r.session.who()?.identity], ['worker-heartbeat', 'worker-1']);
  equal(r.session.opsRemaining(), 100);
});

test('session attach: <role>:<identity> with a matching ticket', () => {
  const r = rig();
  const t = ticket({ role: 'worker-heartbeat', subject: 'worker-1' }, 'worker');
  equal(attach(r, 'worker-heartbeat:worker-1', t).kind, 'Rattach');
});

test('session attach: forged, expired, wrong-role, wrong-subject and missing tickets are EACCES', () => {
  const good = ticket({ role: 'worker-heartbeat', subject: 'worker-1', ttlS: 10n }, 'worker');
  lerror(attach(rig(), '', good.slice(0, -2) + '00'), Errno.EACCES, 'forged');
  const r = rig();
  r.clock.now = NOW_MS + 10_000;
  lerror(attach(r, '', good), Errno.EACCES, 'expired');
  lerror(attach(rig(), 'worker-gpu:worker-1', good), Errno.EACCES, 'role mismatch');
  lerror(attach(rig(), 'worker-heartbeat:worker-2', good), Errno.EACCES, 'subject mismatch');
  lerror(attach(rig(), 'worker-heartbeat:worker-1', ''), Errno.EACCES, 'missing');
});

test('session attach: unknown role in uname is EINVAL; the file server can refuse with ENOENT', () => {
  lerror(attach(rig(), 'wizard:x', ''), Errno.EINVAL);
  const lora = ticket({ role: 'worker-lora', subject: 'x' }, 'lora');
  const r = rig({ attach: { secrets: { ...SECRETS, 'worker-lora': 'lora' }, allowTicketlessQueen: true } });
  lerror(attach(r, '', lora), Errno.ENOENT);
  deepEqual(r.session.liveFids(), [], 'refused attach leaves no fid');
});

test('session attach: a non-NOFID afid is refused', () => {
  const r = rig();
  r.one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  lerror(r.one({ kind: 'Tattach', tag: 1, fid: 0, afid: 3, uname: 'queen', aname: '', nUname: 0 }), Errno.EINVAL);
});

// ---- the happy path ----

test('session: walk, open and read /proc/boot', () => {
  const r = queenRig();
  const w = r.one(walk(2, 0, 1, ['proc', 'boot']));
  ok(w.kind === 'Rwalk' && w.qids.length === 2 && w.qids[0].type === 0x80 && w.qids[1].type === 0);
  const o = r.one(lopen(3, 1, OpenFlag.RDONLY));
  ok(o.kind === 'Rlopen' && o.iounit === 8192 - 24);
  const d = r.one(read(4, 1));
  ok(d.kind === 'Rread');
  equal(utf8Decode(d.data), 'Cohesix boot: root-task online\n');
  const tail = r.one(read(5, 1, 8n, 6));
  ok(tail.kind === 'Rread');
  equal(utf8Decode(tail.data), 'boot: ');
});

test('session: walking from an open directory to a new fid works (diodls -l); in place it is EINVAL', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, ['log']));
  equal(r.one(lopen(3, 1, OpenFlag.RDONLY)).kind, 'Rlopen');
  const w = r.one(walk(4, 1, 2, ['queen.log']));
  ok(w.kind === 'Rwalk' && w.qids.length === 1 && w.qids[0].type === 0x40);
  equal(r.one({ kind: 'Tgetattr', tag: 5, fid: 2, requestMask: 0x7ffn }).kind, 'Rgetattr');
  lerror(r.one(read(6, 2)), Errno.EINVAL, 'the new fid is not open');
  lerror(r.one(walk(7, 1, 1, ['queen.log'])), Errno.EINVAL, 'in place from an open fid');
  const d = r.one(read(8, 1));
  ok(d.kind === 'Rread' && utf8Decode(d.data) === 'queen.log\n', 'the open directory is untouched');
});

test('session: a zero-name walk clones the fid', () => {
  const r = queenRig();
  deepEqual(r.one(walk(2, 0, 5, [])), { kind: 'Rwalk', tag: 2, qids: [] });
  deepEqual(r.session.liveFids(), [0, 5]);
});

test('session: a walk failing after its first step returns the qids so far and binds nothing', () => {
  const r = queenRig();
  const w = r.one(walk(2, 0, 1, ['proc', 'nope']));
  ok(w.kind === 'Rwalk' && w.qids.length === 1);
  deepEqual(r.session.liveFids(), [0]);
  lerror(r.one(walk(3, 0, 1, ['nope'])), Errno.ENOENT, 'first step fails with the error');
  const through = r.one(walk(4, 0, 1, ['proc', 'boot', 'x']));
  ok(through.kind === 'Rwalk' && through.qids.length === 2, 'walk through a file stops after the file');
  r.one(walk(5, 0, 2, ['proc', 'boot']));
  lerror(r.one(walk(6, 2, 3, ['x'])), Errno.ENOTDIR, 'first step from a file');
});

test('session: append to /log/queen.log and read it back', () => {
  const r = queenRig();
  equal(openAt(r, 1, ['log', 'queen.log'], OpenFlag.WRONLY | OpenFlag.APPEND).kind, 'Rlopen');
  deepEqual(r.one(write(4, 1, 'second\n')), { kind: 'Rwrite', tag: 4, count: 7 });
  openAt(r, 2, ['log', 'queen.log']);
  const d = r.one(read(5, 2));
  ok(d.kind === 'Rread');
  equal(utf8Decode(d.data), 'first\nsecond\n');
});

test('session getattr: modes, sizes and link counts a standard client can list with', () => {
  const r = queenRig();
  const root = r.one({ kind: 'Tgetattr', tag: 2, fid: 0, requestMask: 0x7ffn });
  ok(root.kind === 'Rgetattr');
  equal(root.mode, 0o040555);
  equal(root.nlink, 2n);
  r.one(walk(3, 0, 1, ['log', 'queen.log']));
  const f = r.one({ kind: 'Tgetattr', tag: 4, fid: 1, requestMask: 0x7ffn });
  ok(f.kind === 'Rgetattr');
  equal(f.mode, 0o100644);
  equal(f.size, 6n);
  equal(f.qid.type, 0x40);
  equal(f.mtimeSec, 1n);
  equal(f.mtimeNsec, 500_000_000n);
});

test('session getattr: a repeated stat answers with its own tag, and a changed node with its new attributes', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, ['log', 'queen.log']));
  const first = r.one({ kind: 'Tgetattr', tag: 3, fid: 1, requestMask: 0x7ffn });
  const again = r.one({ kind: 'Tgetattr', tag: 0x1234, fid: 1, requestMask: 0x7ffn });
  deepEqual(again, { ...first, tag: 0x1234 });
  equal(openAt(r, 2, ['log', 'queen.log'], OpenFlag.WRONLY | OpenFlag.APPEND).kind, 'Rlopen');
  r.one(write(4, 2, 'second\n'));
  const after = r.one({ kind: 'Tgetattr', tag: 5, fid: 1, requestMask: 0x7ffn });
  ok(after.kind === 'Rgetattr');
  equal(after.size, 13n);
  equal(after.blocks, 1n);
  deepEqual(after, { ...first, tag: 5, size: 13n });
  // Another fid on the same node has its own answer, the same attributes.
  r.one(walk(6, 0, 3, ['log', 'queen.log']));
  deepEqual(r.one({ kind: 'Tgetattr', tag: 7, fid: 3, requestMask: 0x7ffn }), { ...after, tag: 7 });
});

test('session sendPart: replies lent from the reply buffer are the ones send() gets, memoised and later answers included', async () => {
  const lent: Uint8Array[] = [];
  let into: Reply[] = [];
  const b = rig({
    sendPart: (buf, n) => {
      // Copied before it returns, as the contract says: decoded data would view the buffer otherwise.
      const f = buf.slice(0, n);
      lent.push(f);
      const d = decodeFrame(f);
      if (!d.ok) throw new Error(d.error.message);
      into.push(d.message as Reply);
    },
  });
  into = b.sent;
  const a = rig();
  const script: Message[] = [
    { kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' },
    { kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 },
    walk(2, 0, 1, ['proc', 'boot']), lopen(3, 1, OpenFlag.RDONLY), read(4, 1),
    { kind: 'Tgetattr', tag: 5, fid: 1, requestMask: 0x7ffn }, { kind: 'Tgetattr', tag: 6, fid: 1, requestMask: 0x7ffn },
    clunk(7, 1), clunk(8, 1), walk(9, 0, 2, ['slow']), lopen(10, 2, OpenFlag.RDONLY), read(11, 2), read(12, 2),
  ];
  for (const r of [a, b]) {
    for (const m of script) r.rpc(m);
    // Both slow reads answer in one turn: each reply is put in the buffer after the other's was.
    equal(r.fs.releaseSlowReads(), 2);
    await settle();
  }
  equal(b.sent.length, script.length);
  // Rversion, Rattach and the Rlerror are encoded as messages into frames of their own, for send().
  equal(lent.length, script.length - 3, 'the hot replies went through sendPart');
  deepEqual(b.sent, a.sent);
  deepEqual(b.sent.map((m) => m.tag), [0xffff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const last = b.sent.slice(-2);
  ok(last.every((m) => m.kind === 'Rread' && utf8Decode(m.data) === 'later'));
});

test('session statfs: answers with the v9fs magic and 255-byte names', () => {
  const s = queenRig().one({ kind: 'Tstatfs', tag: 2, fid: 0 });
  ok(s.kind === 'Rstatfs' && s.type === 0x01021997 && s.namelen === 255);
});

test('session readdir: dirents with next-entry offsets, resumed across small counts', () => {
  const r = queenRig();
  equal(r.one(lopen(2, 0, OpenFlag.RDONLY | OpenFlag.DIRECTORY)).kind, 'Rlopen');
  const all = r.one({ kind: 'Treaddir', tag: 3, fid: 0, offset: 0n, count: 8192 });
  ok(all.kind === 'Rreaddir');
  deepEqual(all.entries.map((e) => [e.name, e.offset, e.type]), [['empty', 1n, 4], ['log', 2n, 4], ['proc', 3n, 4], ['slow', 4n, 8]]);
  // Room for exactly one 27-byte dirent ("log" is 3 bytes: 24 + 3).
  const one = r.one({ kind: 'Treaddir', tag: 4, fid: 0, offset: 1n, count: 27 });
  ok(one.kind === 'Rreaddir');
  deepEqual(one.entries.map((e) => e.name), ['log']);
  const rest = r.one({ kind: 'Treaddir', tag: 5, fid: 0, offset: one.entries[0].offset, count: 8192 });
  ok(rest.kind === 'Rreaddir');
  deepEqual(rest.entries.map((e) => e.name), ['proc', 'slow']);
  const end = r.one({ kind: 'Treaddir', tag: 6, fid: 0, offset: 4n, count: 8192 });
  ok(end.kind === 'Rreaddir' && end.entries.length === 0);
});

test('session: Tread on a directory lists names newline-separated (spec §5.3)', () => {
  const r = queenRig();
  openAt(r, 1, ['log']);
  const d = r.one(read(3, 1));
  ok(d.kind === 'Rread');
  equal(utf8Decode(d.data), 'queen.log\n');
});

test('session: clunk closes the open file', () => {
  const r = queenRig();
  openAt(r, 1, ['proc', 'boot']);
  r.one(clunk(3, 1));
  equal(r.fs.closes, 1);
});

// ---- the negative matrix (issue 3) ----

test('refusal: oversized frame → EMSGSIZE with its tag, session kept', () => {
  const r = queenRig();
  const fits = encodeMessage({ kind: 'Twrite', tag: 77, fid: 0, offset: 0n, data: new Uint8Array(8192 - 23) });
  equal(fits.length, 8192);
  lerror(r.raw(fits)[0], Errno.EINVAL, 'exactly msize decodes (fid 0 is a directory, not open)');
  const over = new Uint8Array(8193);
  new DataView(over.buffer).setUint32(0, 8193, true);
  over[4] = MessageType.Twrite;
  over[5] = 78;
  const rep = r.raw(over);
  equal(rep[0].tag, 78);
  lerror(rep[0], Errno.EMSGSIZE);
  r.session.refuseOversize(79, 100000);
  lerror(r.sent[r.sent.length - 1], Errno.EMSGSIZE);
  equal(r.one(clunk(5, 0)).kind, 'Rclunk', 'session still works');
});

for (const [name, names] of [
  ['9 walk names', Array.from({ length: 9 }, () => a('proc'))],
  ["'..'", [a('proc'), a('..')]],
  ['empty component', [a('proc'), []]],
  ['NUL in a name', [a('pr\0oc')]],
  ['bad UTF-8', [[0xed, 0xa0, 0x80]]],
] as [string, number[][]][]) {
  test(`refusal: walk with ${name} → EINVAL with its tag, no fid created`, () => {
    const r = queenRig();
    const rep = r.raw(walkRaw(9, names));
    equal(rep[0].tag, 9);
    lerror(rep[0], Errno.EINVAL);
    deepEqual(r.session.liveFids(), [0]);
  });
}

test('refusal: write to a read-only node → EPERM', () => {
  const r = queenRig();
  openAt(r, 1, ['proc', 'boot']);
  lerror(r.one(write(3, 1, 'x')), Errno.EPERM);
});

test('refusal: write-open without the append bit → EPERM (and directories never)', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, ['proc', 'boot']));
  lerror(r.one(lopen(3, 1, OpenFlag.WRONLY)), Errno.EPERM, 'read-only file');
  lerror(r.one(lopen(4, 1, OpenFlag.RDWR)), Errno.EPERM, 'read-only file rdwr');
  lerror(r.one(lopen(5, 0, OpenFlag.WRONLY)), Errno.EPERM, 'directory');
  equal(r.fs.opens, 0, 'the provider never saw the refused opens');
});

test('refusal: tag reuse while in flight → EINVAL tag already in use', async () => {
  const r = queenRig();
  openAt(r, 1, ['slow']);
  equal(r.rpc(read(20, 1)).length, 0, 'slow read stays in flight');
  lerror(r.one(clunk(20, 0)), Errno.EINVAL);
  equal(r.fs.releaseSlowReads(), 1);
  await settle();
  const last = r.sent[r.sent.length - 1];
  ok(last.kind === 'Rread' && last.tag === 20);
  equal(r.one(clunk(20, 1)).kind, 'Rclunk', 'tag free again after its reply');
});

test('refusal: 17th in-flight tag → EAGAIN tag window exceeded', async () => {
  const r = queenRig();
  openAt(r, 1, ['slow']);
  for (let t = 100; t < 116; t++) equal(r.rpc(read(t, 1)).length, 0);
  equal(r.session.tagsInFlight(), 16);
  lerror(r.one(read(116, 1)), Errno.EAGAIN);
  r.fs.releaseSlowReads();
  await settle();
  equal(r.session.tagsInFlight(), 0);
  equal(r.one(clunk(116, 1)).kind, 'Rclunk');
});

test('session tags: a tag is free by the time its reply is sent (a synchronous transport reuses the slot at once)', async () => {
  const r = queenRig();
  openAt(r, 1, ['slow']);
  for (let t = 100; t < 116; t++) equal(r.rpc(read(t, 1)).length, 0);
  const seen: number[] = [];
  const send = r.session['o'].send;
  // A client that, on each reply, at once sends its next request: the window must have room for it.
  let next = 200;
  r.session['o'].send = (f: Uint8Array) => {
    send(f);
    seen.push(r.session.tagsInFlight());
    if (next < 204) r.session.handleFrame(encodeMessage(clunk(next++, 0x7777)));
  };
  r.fs.releaseSlowReads();
  await settle();
  ok(seen.every((n) => n <= 15), `in flight when each reply left: ${seen.join(',')}`);
  const clunks = r.sent.filter((m) => m.tag >= 200 && m.tag < 204);
  ok(clunks.length === 4 && clunks.every((m) => m.kind === 'Rlerror' && m.ecode === Errno.EBADF), `no EAGAIN for the follow-ups: ${JSON.stringify(clunks)}`);
});

test('refusal: double clunk → EBADF', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, []));
  equal(r.one(clunk(3, 1)).kind, 'Rclunk');
  lerror(r.one(clunk(4, 1)), Errno.EBADF);
  lerror(r.one(clunk(5, 42)), Errno.EBADF, 'never-used fid');
});

test('refusal: a clunked fid used again without being re-bound → EBADF already clunked', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, ['proc', 'boot']));
  r.one(lopen(3, 1, OpenFlag.RDONLY));
  r.one(clunk(4, 1));
  lerror(r.one(read(5, 1)), Errno.EBADF, 'read');
  lerror(r.one(walk(6, 1, 2, [])), Errno.EBADF, 'walk from it');
  lerror(r.one(clunk(7, 1)), Errno.EBADF, 'clunk again');
});

// Spec §5.3 retired clunked numbers; §0 overrides it: diod's libnpclient, Linux v9fs and Go p9 reuse
// a number straight after Rclunk (diodcat of two files fails otherwise), as 9P allows.
test('session fids: a clunked number may be bound again as a newfid or attach fid (standard clients reuse them)', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, ['proc', 'boot']));
  r.one(lopen(3, 1, OpenFlag.RDONLY));
  r.one(clunk(4, 1));
  const w = r.one(walk(5, 0, 1, ['log', 'queen.log']));
  ok(w.kind === 'Rwalk' && w.qids.length === 2, 'walk to the clunked number');
  equal(r.one(lopen(6, 1, OpenFlag.RDONLY)).kind, 'Rlopen', 'a fresh fid: not open from before');
  const d = r.one(read(7, 1));
  ok(d.kind === 'Rread');
  equal(utf8Decode(d.data), 'first\n', 'it names the new file');
  r.one(clunk(8, 1));
  equal(r.one({ kind: 'Tattach', tag: 9, fid: 1, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 }).kind, 'Rattach', 'attach fid');
});

test('refusal: newfid already in use → EBUSY', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, []));
  lerror(r.one(walk(3, 0, 1, [])), Errno.EBUSY);
});

test('refusal: any op after revocation → EBADF, with the reason logged', () => {
  const r = queenRig();
  r.one(walk(2, 0, 1, ['proc']));
  r.session.revoke('killed by queen');
  for (const m of [walk(3, 0, 2, []), clunk(4, 1), read(5, 1), { kind: 'Tgetattr' as const, tag: 6, fid: 0, requestMask: 1n },
    { kind: 'Tversion' as const, tag: 0xffff, msize: 8192, version: '9P2000.L' }]) {
    lerror(r.one(m), Errno.EBADF, m.kind);
  }
  ok(r.logs.includes('revoked queen: killed by queen'), r.logs.join('|'));
});

test('refusal: unknown message type → EINVAL with its tag', () => {
  const r = queenRig();
  const b = new Uint8Array([7, 0, 0, 0, 250, 33, 0]);
  const rep = r.raw(b);
  equal(rep[0].tag, 33);
  lerror(rep[0], Errno.EINVAL);
});

test('refusal: known but refused requests never drop the connection', () => {
  const r = queenRig();
  const frame = (type: number, tag: number) => {
    const b = new Uint8Array(11);
    new DataView(b.buffer).setUint32(0, 11, true);
    b[4] = type;
    b[5] = tag;
    return b;
  };
  lerror(r.raw(frame(MessageType.Tmkdir, 40))[0], Errno.EPERM, 'Tmkdir');
  lerror(r.raw(frame(MessageType.Tremove, 41))[0], Errno.EPERM, 'Tremove');
  lerror(r.raw(frame(MessageType.Tlcreate, 42))[0], Errno.EPERM, 'Tlcreate');
  lerror(r.raw(frame(MessageType.Tsetattr, 43))[0], Errno.EPERM, 'Tsetattr');
  lerror(r.raw(frame(MessageType.Txattrwalk, 44))[0], Errno.EOPNOTSUPP, 'Txattrwalk');
  lerror(r.raw(frame(MessageType.Tlock, 45))[0], Errno.EOPNOTSUPP, 'Tlock');
  deepEqual(r.closedWith, []);
});

test('refusal: an unreadable header closes the stream', () => {
  const r = queenRig();
  equal(r.raw(new Uint8Array([1, 2, 3])).length, 0);
  equal(r.closedWith.length, 1);
});

// ---- budgets, expiry, flush ----

test('budget: walk/open/read/write cost one op each; the op past the budget revokes', () => {
  const r = queenRig({ opsMax: 3 });
  equal(r.one(walk(2, 0, 1, ['proc', 'boot'])).kind, 'Rwalk');
  equal(r.one(lopen(3, 1, OpenFlag.RDONLY)).kind, 'Rlopen');
  equal(r.one({ kind: 'Tgetattr', tag: 4, fid: 1, requestMask: 1n }).kind, 'Rgetattr', 'getattr is free');
  equal(r.one(read(5, 1)).kind, 'Rread');
  equal(r.session.opsRemaining(), 0);
  lerror(r.one(read(6, 1)), Errno.EBADF);
  equal(r.session.revokedReason(), 'operation budget exhausted');
  lerror(r.one({ kind: 'Tgetattr', tag: 7, fid: 1, requestMask: 1n }), Errno.EBADF);
  ok(r.logs.includes('revoked queen: operation budget exhausted'));
});

test('budget: the ticket and the record budget combine by minimum; a re-attach cannot refill it', () => {
  const r = rig();
  r.fs.grantOpsMax = 5;
  attach(r, '', ticket({ role: 'worker-heartbeat', subject: 'worker-1', ops: 9n }, 'worker'));
  equal(r.session.opsRemaining(), 5);
  r.one(walk(2, 0, 1, []));
  attach(r, '', ticket({ role: 'worker-heartbeat', subject: 'worker-1', ops: 9n }, 'worker'));
  equal(r.session.opsRemaining(), 4);
});

test('expiry: ticket ttl passing revokes the session (ticket ttl expired)', () => {
  const reasons: string[] = [];
  const r = rig({ onRevoke: (why) => reasons.push(why) });
  attach(r, '', ticket({ role: 'worker-heartbeat', subject: 'worker-1', ttlS: 60n }, 'worker'));
  equal(r.one(walk(2, 0, 1, [])).kind, 'Rwalk');
  r.clock.now = NOW_MS + 60_000;
  lerror(r.one(walk(3, 0, 2, [])), Errno.EBADF);
  deepEqual(reasons, ['ticket ttl expired']);
  ok(r.logs.includes('revoked worker-1: ticket ttl expired'));
});

test('flush: Rflush follows the flushed request reply; an idle tag is flushed at once', async () => {
  const r = queenRig();
  openAt(r, 1, ['slow']);
  equal(r.rpc(read(50, 1)).length, 0);
  equal(r.rpc({ kind: 'Tflush', tag: 51, oldtag: 50 }).length, 0, 'flush waits for tag 50');
  r.fs.releaseSlowReads();
  await settle();
  deepEqual(r.sent.slice(-2).map((m) => [m.kind, m.tag]), [['Rread', 50], ['Rflush', 51]]);
  deepEqual(r.one({ kind: 'Tflush', tag: 52, oldtag: 999 }), { kind: 'Rflush', tag: 52 });
  equal(r.session.tagsInFlight(), 0);
});

test('flush: a Tflush of a waiting Tflush is answered after it, and no tag stays held', async () => {
  const r = queenRig();
  openAt(r, 1, ['slow']);
  equal(r.rpc(read(60, 1)).length, 0);
  equal(r.rpc({ kind: 'Tflush', tag: 61, oldtag: 60 }).length, 0, 'waits for the read');
  equal(r.rpc({ kind: 'Tflush', tag: 62, oldtag: 61 }).length, 0, 'waits for the first flush');
  equal(r.session.tagsInFlight(), 3);
  r.fs.releaseSlowReads();
  await settle();
  deepEqual(r.sent.slice(-3).map((m) => [m.kind, m.tag]), [['Rread', 60], ['Rflush', 61], ['Rflush', 62]]);
  equal(r.session.tagsInFlight(), 0);
});

test('version reset: a reply to a request from before Tversion is dropped', async () => {
  const r = queenRig();
  openAt(r, 1, ['slow']);
  r.rpc(read(60, 1));
  r.one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' });
  const before = r.sent.length;
  r.fs.releaseSlowReads();
  await settle();
  equal(r.sent.length, before);
});

test('trace: one flag logs every frame in and out', () => {
  const r = queenRig({ trace: true });
  r.one(clunk(9, 0));
  ok(r.logs.includes('9p <- Tclunk tag=9'));
  ok(r.logs.includes('9p -> Rclunk tag=9'));
});
