// NineClient against the real Session + MemFs over an in-memory transport: the messages, the helpers, bounds, errno mapping, timeouts.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import {
  CLIENT_QUEUE_MAX, CLIENT_REQUEST_TIMEOUT_MS, ETIMEDOUT, NineClient, READ_ALL_BYTES_MAX, errorFromErrno, type ClientOptions,
} from './client.js';
import { decodeFrame } from './codec.js';
import { Errno, NineError } from './errors.js';
import { TAGS_IN_FLIGHT_MAX } from './limits.js';
import type { Request } from './messages.js';
import type { MemNode } from './memfs.js';
import { OpenFlag } from './opcodes.js';
import { Session } from './session.js';
import { SECRETS, rig, ticket, type Rig } from './session.support.js';

interface Wired {
  r: Rig;
  c: NineClient;
  /** Every request frame the client sent, decoded. */
  sent: Request[];
}

/** A client wired straight to a session: frames cross in both directions synchronously. */
function wired(opts: Partial<ClientOptions> = {}, r: Rig = rig()): Wired {
  const sent: Request[] = [];
  let c: NineClient | null = null;
  r.session = new Session<MemNode>({
    fs: r.fs,
    send: (f) => c?.receive(f),
    nowMs: () => r.clock.now,
    attach: { secrets: SECRETS, allowTicketlessQueen: true },
  });
  c = new NineClient({
    send: (f) => {
      const d = decodeFrame(f);
      ok(d.ok, 'client sent an undecodable frame');
      sent.push(d.message as Request);
      r.session.handleFrame(f);
    },
    nowMs: () => r.clock.now,
    ...opts,
  });
  return { r, c, sent };
}

async function queen(opts: Partial<ClientOptions> = {}): Promise<Wired> {
  const w = wired(opts);
  const root = await w.c.connect('', 'queen', 1000);
  equal(root, 0, 'root fid');
  return w;
}

function isErr(v: unknown, errno: number, what = ''): asserts v is NineError {
  ok(v instanceof NineError, `${what}: expected NineError errno ${errno}, got ${String(v)}`);
  equal(v.errno, errno, what);
}

/** Lets promise chains run (js/ has no timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}

test('client: version offers 9P2000.L and msize 65536, gets 8192, and keeps working', async () => {
  const w = wired({ msizeBytes: 65536 });
  // The client caps its own offer at MSIZE_MAX_BYTES; offer 65536 on the wire by hand to prove the server caps too.
  deepEqual(await w.c.version(), { msize: 8192, version: '9P2000.L' });
  equal(w.c.msize(), 8192);
  equal(await w.c.attach('', 'queen', 1000), 0);
  equal(await w.c.readText('/proc/boot'), 'Cohesix boot: root-task online\n');
});

test('client: a 9P2000.L.Google.7 offer is answered 9P2000.L', async () => {
  const w = wired({ version: '9P2000.L.Google.7' });
  deepEqual(await w.c.version(), { msize: 8192, version: '9P2000.L' });
  const v = w.sent[0];
  ok(v.kind === 'Tversion' && v.version === '9P2000.L.Google.7' && v.tag === 0xffff);
});

test('client: list, readAll, append and read back through the real session', async () => {
  const { c, r } = await queen();
  deepEqual(await c.list('/'), ['empty', 'log', 'proc', 'slow']);
  deepEqual(await c.list('/empty'), []);
  equal(await c.append('/log/queen.log', 'second\n'), 7);
  equal(await c.readText('/log/queen.log'), 'first\nsecond\n');
  deepEqual(c.openFids(), [0], 'helpers clunk what they walk');
  deepEqual(r.session.liveFids(), [0]);
});

test('client: getattr and statfs', async () => {
  const { c } = await queen();
  const a = await c.getattr(0);
  ok(!(a instanceof NineError) && a.mode === 0o040555);
  const f = await c.walkPath('/log/queen.log');
  ok(typeof f === 'number');
  const fa = await c.getattr(f);
  ok(!(fa instanceof NineError) && fa.size === 6n && fa.qid.type === 0x40);
  const s = await c.statfs(0);
  ok(!(s instanceof NineError) && s.type === 0x01021997 && s.namelen === 255);
});

test('client: fid numbers are never reused in a session (the server retires clunked ones)', async () => {
  const { c, sent } = await queen();
  for (let i = 0; i < 5; i++) equal(await c.readText('/proc/boot'), 'Cohesix boot: root-task online\n');
  const newfids = sent.filter((m) => m.kind === 'Twalk').map((m) => (m.kind === 'Twalk' ? m.newfid : -1));
  deepEqual(newfids, [1, 2, 3, 4, 5]);
});

test('client: refusals come back as NineError with the exact errno and the project name', async () => {
  const { c } = await queen();
  const nf = await c.readAll('/nope');
  isErr(nf, Errno.ENOENT, 'missing');
  equal(nf.code, 'NotFound');
  const deep = await c.walkPath('/proc/nope');
  isErr(deep, Errno.ENOENT, 'partial walk');
  const ro = await c.append('/proc/boot', 'x');
  isErr(ro, Errno.EPERM, 'write-open of a read-only file');
  equal(ro.code, 'Permission');
  isErr(await c.clunk(99), Errno.EBADF, 'unknown fid');
  deepEqual(c.openFids(), [0]);
});

test('client attach: a forged ticket is EACCES, a valid one attaches with the ticket role', async () => {
  const good = ticket({ role: 'worker-heartbeat', subject: 'worker-1' }, 'worker');
  const w = wired();
  isErr(await w.c.connect('', good.slice(0, -2) + '00'), Errno.EACCES, 'forged');
  equal(w.c.root, null);
  equal(await w.c.attach('', good), 1, 'a refused attach burns its fid number, never reuses it');
  equal(w.r.session.who()?.identity, 'worker-1');
});

test('client: write() cuts a large payload into msize pieces, in order', async () => {
  const { c, sent } = await queen();
  const f = await c.walkPath('/log/queen.log');
  ok(typeof f === 'number');
  await c.lopen(f, OpenFlag.WRONLY | OpenFlag.APPEND);
  equal(await c.write(f, 0xffffffffffffffffn, utf8Encode('x'.repeat(20000))), 20000);
  const writes = sent.filter((m) => m.kind === 'Twrite');
  deepEqual(writes.map((m) => (m.kind === 'Twrite' ? m.data.length : 0)), [8168, 8168, 3664]);
  ok(writes.every((m) => m.kind === 'Twrite' && m.offset === 0xffffffffffffffffn), 'at-end offset kept for every piece');
  const back = await c.readAll('/log/queen.log');
  ok(back instanceof Uint8Array && back.length === 6 + 20000);
});

test('client: append() cuts only after a newline (append-only nodes take whole records); an overlong line is TooBig', async () => {
  const { c, sent } = await queen();
  const line = 'z'.repeat(999) + '\n';
  equal(await c.append('/log/queen.log', line.repeat(10)), 10000);
  const writes = sent.filter((m) => m.kind === 'Twrite');
  deepEqual(writes.map((m) => (m.kind === 'Twrite' ? m.data.length : 0)), [8000, 2000]);
  ok(writes.every((m) => m.kind === 'Twrite' && m.data[m.data.length - 1] === 0x0a));
  const before = sent.length;
  isErr(await c.append('/log/queen.log', 'w'.repeat(9000)), Errno.EMSGSIZE, 'one line over a frame');
  equal(sent.length, before, 'nothing sent');
});

test('client: readAll refuses a file over its bound with TooBig, and clunks', async () => {
  const { c } = await queen();
  isErr(await c.readAll('/proc/boot', 10), Errno.EMSGSIZE, 'bounded');
  deepEqual(c.openFids(), [0]);
  equal(READ_ALL_BYTES_MAX, 65536);
});

test('client: a path longer than 8 names is walked in steps', async () => {
  const w = wired();
  let d = w.r.fs.root;
  const names: string[] = [];
  for (let i = 0; i < 11; i++) {
    d = w.r.fs.mkdir(d, `d${i}`);
    names.push(`d${i}`);
  }
  w.r.fs.file(d, 'leaf', utf8Encode('deep'));
  await w.c.connect('queen', '');
  equal(await w.c.readText('/' + names.join('/') + '/leaf'), 'deep');
  const walks = w.sent.filter((m) => m.kind === 'Twalk');
  deepEqual(walks.map((m) => (m.kind === 'Twalk' ? m.names.length : 0)), [8, 4]);
});

test('client tags: beyond 16 in flight requests queue, then all complete; the server never sees EAGAIN', async () => {
  const { c, r, sent } = await queen();
  const f = await c.walkPath('/slow');
  ok(typeof f === 'number');
  ok(!((await c.lopen(f, OpenFlag.RDONLY)) instanceof NineError));
  const reads = [];
  for (let i = 0; i < TAGS_IN_FLIGHT_MAX + 4; i++) reads.push(c.read(f, 0n, 5));
  equal(c.tagsInFlight(), TAGS_IN_FLIGHT_MAX);
  equal(c.queued(), 4);
  // Release in rounds: each round answers what is on the wire and lets the queue move up.
  for (let i = 0; i < 4 && r.fs.releaseSlowReads() > 0; i++) await settle();
  for (const p of reads) {
    const d = await p;
    ok(d instanceof Uint8Array, `read: ${String(d)}`);
    equal(utf8Decode(d), "later");
  }
  equal(c.tagsInFlight(), 0);
  const tags = sent.filter((m) => m.kind === 'Tread').map((m) => m.tag);
  equal(tags.length, 20);
});

test('client tags: a full queue refuses the next request with Busy EAGAIN at once', async () => {
  const { c } = await queen();
  const f = await c.walkPath('/slow');
  ok(typeof f === 'number');
  await c.lopen(f, OpenFlag.RDONLY);
  for (let i = 0; i < TAGS_IN_FLIGHT_MAX + CLIENT_QUEUE_MAX; i++) void c.read(f, 0n, 5);
  equal(c.queued(), CLIENT_QUEUE_MAX);
  const over = await c.read(f, 0n, 5);
  isErr(over, Errno.EAGAIN, 'queue full');
  equal(over.code, 'Busy');
});

test('client timeout: a request past its deadline fails ETIMEDOUT and is flushed; the tag frees after Rflush', async () => {
  const { c, r, sent } = await queen();
  const f = await c.walkPath('/slow');
  ok(typeof f === 'number');
  await c.lopen(f, OpenFlag.RDONLY);
  const p = c.read(f, 0n, 5);
  equal(c.expire(), 0, 'not yet');
  r.clock.now += CLIENT_REQUEST_TIMEOUT_MS;
  equal(c.expire(), 1);
  isErr(await p, ETIMEDOUT, 'timed out');
  const flush = sent[sent.length - 1];
  ok(flush.kind === 'Tflush', 'a Tflush went out');
  equal(c.tagsInFlight(), 2, 'the read and its flush are still on the wire');
  r.fs.releaseSlowReads();
  await settle();
  equal(c.tagsInFlight(), 0, 'Rread (dropped) then Rflush freed both tags');
  equal(await c.readText('/proc/boot'), 'Cohesix boot: root-task online\n');
});

test('client close: waiting requests and later calls get Closed', async () => {
  const { c } = await queen();
  const f = await c.walkPath('/slow');
  ok(typeof f === 'number');
  await c.lopen(f, OpenFlag.RDONLY);
  const p = c.read(f, 0n, 5);
  c.close('connection reset');
  isErr(await p, Errno.EBADF, 'pending');
  const later = await c.readAll('/proc/boot');
  isErr(later, Errno.EBADF, 'later');
  equal(later.message, 'connection reset');
});

test('client: a reply with an unknown tag is counted as stray, never fatal', async () => {
  const { c } = await queen();
  c.receive(new Uint8Array([11, 0, 0, 0, 7, 0x34, 0x12, 2, 0, 0, 0]));
  c.receive(new Uint8Array([1, 2, 3]));
  equal(c.strayReplies, 2);
  equal(await c.readText('/proc/boot'), 'Cohesix boot: root-task online\n');
});

test('client errno map: each wire errno back to its project name', () => {
  const names = [Errno.EPERM, Errno.EACCES, Errno.ENOENT, Errno.EBUSY, Errno.EAGAIN, Errno.EINVAL, Errno.EMSGSIZE, Errno.EBADF, 999]
    .map((e) => errorFromErrno(e, 'x').code);
  deepEqual(names, ['Permission', 'Permission', 'NotFound', 'Busy', 'Busy', 'Invalid', 'TooBig', 'Closed', 'Invalid']);
  equal(errorFromErrno(Errno.EACCES, 'x').errno, Errno.EACCES, 'errno kept');
});
