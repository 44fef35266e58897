// Property test: the fast decoder (handleSmall) and the general one (handleDecoded) give the same reply bytes for any request sequence.
import fc from 'fast-check';
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Encode } from '../bytes/utf8.js';
import { encodeMessage } from './codec.js';
import type { Request } from './messages.js';
import { OpenFlag } from './opcodes.js';
import { NOW_MS, SECRETS, rig, ticket, type Rig } from './session.support.js';

/** Sequences per run and steps per sequence: enough to reach revocation, held tags and flushes often. */
const PROPERTY_RUNS = 300;
const STEPS_PER_SEQUENCE_MIN = 10;
const STEPS_PER_SEQUENCE_MAX = 60;
/** Microtask turns that let the MemFs's slow reads and the session's reply chains run out. */
const SETTLE_TURNS = 20;
/** How far a clock step goes: past a short ticket's ttl within a few steps. */
const CLOCK_STEP_MS_MAX = 4000;
const NOFID = 0xffffffff;

/** Few fid and tag numbers, so reuse, collisions, held tags and flushes of them happen often. */
const fidArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(NOFID));
const tagArb = fc.integer({ min: 0, max: 3 });
const namesArb = fc.oneof(
  fc.constantFrom<string[]>([], ['proc', 'boot'], ['log', 'queen.log'], ['slow'], ['proc'], ['empty'], ['proc', 'nope'], ['proc', 'boot', 'x']),
  fc.array(fc.constantFrom('proc', 'boot', 'log', 'queen.log', 'empty', 'slow', 'nope'), { maxLength: 4 }),
);
/** Worker tickets with a small op budget and a short ttl: revocation by either happens within a sequence. */
const unameArb = fc.constantFrom(['queen', ''], ['', 'queen'], ['nobody', ''], ['bogus:x', ''], ['worker-heartbeat:w1', 'TICKET'], ['queen', 'BADTICKET']);

type Step =
  | { do: 'send'; m: Request }
  /** A small request's frame with a byte too many: the fast decoder must leave it to the general one. */
  | { do: 'padded'; m: Request }
  | { do: 'settle' }
  | { do: 'release' }
  | { do: 'clock'; ms: number };

const requestArb: fc.Arbitrary<Request> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Tversion' as const), tag: fc.constant(0xffff),
    msize: fc.constantFrom(100, 512, 4096, 8192, 65536), version: fc.constantFrom('9P2000.L', '9P2000.L.Google.7', '9P2000', '9P2000.Lx') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('Tattach' as const), tag: tagArb, fid: fidArb, afid: fc.constantFrom(NOFID, 1),
    un: unameArb, nUname: fc.constant(0) }).map(({ un, ...m }) => ({ ...m, uname: un[0], aname: un[1] })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Tauth' as const), tag: tagArb, afid: fidArb, uname: fc.constant(''), aname: fc.constant('queen'), nUname: fc.constant(0) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('Twalk' as const), tag: tagArb, fid: fidArb, newfid: fidArb, names: namesArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('Tlopen' as const), tag: tagArb, fid: fidArb,
    flags: fc.constantFrom(OpenFlag.RDONLY, OpenFlag.WRONLY, OpenFlag.RDWR, OpenFlag.NOACCESS, OpenFlag.RDONLY | OpenFlag.DIRECTORY) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('Tread' as const), tag: tagArb, fid: fidArb,
    offset: fc.constantFrom(0n, 1n, 3n, 31n, 1000n, 2n ** 63n, 2n ** 64n - 1n), count: fc.constantFrom(0, 1, 7, 64, 4096, 8192, 100000, 0xffffffff) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('Twrite' as const), tag: tagArb, fid: fidArb, offset: fc.constant(0n),
    data: fc.constantFrom('x\n', '', 'line\n').map((t) => utf8Encode(t)) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('Tclunk' as const), tag: tagArb, fid: fidArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('Tgetattr' as const), tag: tagArb, fid: fidArb, requestMask: fc.constantFrom(0x7ffn, 0n) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Treaddir' as const), tag: tagArb, fid: fidArb, offset: fc.constantFrom(0n, 1n, 9n), count: fc.constantFrom(0, 30, 4096) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Tstatfs' as const), tag: tagArb, fid: fidArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Tflush' as const), tag: tagArb, oldtag: tagArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('Trefused' as const), tag: tagArb, name: fc.constantFrom('Tremove' as const, 'Txattrwalk' as const),
    fid: fidArb }).map(({ fid, ...m }) => {
    const body = new Uint8Array(4);
    new DataView(body.buffer).setUint32(0, fid, true);
    return { ...m, type: m.name === 'Tremove' ? 122 : 30, body };
  }) },
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 20, arbitrary: requestArb.map((m) => ({ do: 'send' as const, m })) },
  { weight: 1, arbitrary: requestArb.filter((m) => m.kind === 'Tgetattr' || m.kind === 'Tclunk').map((m) => ({ do: 'padded' as const, m })) },
  { weight: 2, arbitrary: fc.constant({ do: 'settle' as const }) },
  { weight: 2, arbitrary: fc.constant({ do: 'release' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: CLOCK_STEP_MS_MAX }).map((ms) => ({ do: 'clock' as const, ms })) },
);

/** A worker ticket with 8 ops and a 10 s ttl stands in for the 'TICKET' aname. */
const WORKER_TICKET = ticket({ role: 'worker-heartbeat', subject: 'w1', ops: 8n, ttlS: 10n }, SECRETS['worker-heartbeat']);

function frameOf(s: Step & { m: Request }): Uint8Array {
  let m = s.m;
  if (m.kind === 'Tattach' && m.aname === 'TICKET') m = { ...m, aname: WORKER_TICKET };
  const f = encodeMessage(m);
  if (s.do !== 'padded') return f;
  const padded = new Uint8Array(f.length + 1);
  padded.set(f);
  new DataView(padded.buffer).setUint32(0, padded.length, true);
  return padded;
}

/** A rig whose every reply is kept as bytes, from send or (lent) from sendPart. */
function bytesRig(lend: boolean): { r: Rig; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  const r = rig({
    send: (f) => frames.push(f.slice()),
    ...(lend ? { sendPart: (b: Uint8Array, n: number) => frames.push(b.slice(0, n)) } : {}),
  });
  return { r, frames };
}

async function settle(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await Promise.resolve();
}

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

test('fast path property: every request sequence gives the same reply bytes through handleSmall as through handleDecoded', async () => {
  let fastFrames = 0;
  let fastReplies = 0;
  await fc.assert(fc.asyncProperty(fc.array(stepArb, { minLength: STEPS_PER_SEQUENCE_MIN, maxLength: STEPS_PER_SEQUENCE_MAX, size: 'max' }), async (steps) => {
    // Both start versioned and attached as queen on fid 0 most of the time: the small requests then get past the first checks.
    const fast = bytesRig(true);
    const general = bytesRig(false);
    for (const { r } of [fast, general]) {
      r.session.handleDecoded(encodeMessage({ kind: 'Tversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }));
      r.session.handleDecoded(encodeMessage({ kind: 'Tattach', tag: 1, fid: 0, afid: NOFID, uname: 'queen', aname: '', nUname: 0 }));
    }
    const check = (what: string): void => {
      deepEqual(fast.frames.map(hex), general.frames.map(hex), what);
      deepEqual(fast.r.session.liveFids(), general.r.session.liveFids(), `${what}: fids`);
      equal(fast.r.session.opsRemaining(), general.r.session.opsRemaining(), `${what}: ops left`);
      equal(fast.r.session.revokedReason(), general.r.session.revokedReason(), `${what}: revoked`);
      equal(fast.r.session.tagsInFlight(), general.r.session.tagsInFlight(), `${what}: tags in flight`);
      equal(fast.r.session.msize(), general.r.session.msize(), `${what}: msize`);
    };
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      const what = `step ${i} ${JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? hex(v) : v))}`;
      if (s.do === 'send' || s.do === 'padded') {
        const bytes = frameOf(s);
        const before = fast.frames.length;
        if (fast.r.session.handleSmall(bytes)) {
          fastFrames++;
          fastReplies += fast.frames.length - before;
        } else {
          fast.r.session.handleDecoded(bytes);
        }
        general.r.session.handleDecoded(bytes);
      } else if (s.do === 'settle') {
        await settle();
      } else if (s.do === 'release') {
        fast.r.fs.releaseSlowReads();
        general.r.fs.releaseSlowReads();
      } else {
        fast.r.clock.now += s.ms;
        general.r.clock.now += s.ms;
      }
      check(what);
    }
    fast.r.fs.releaseSlowReads();
    general.r.fs.releaseSlowReads();
    await settle();
    check('at the end');
    equal(fast.r.clock.now >= NOW_MS, true);
  }), { numRuns: PROPERTY_RUNS });
  // Not vacuous: the fast decoder took many frames and answered most of them itself.
  ok(fastFrames > PROPERTY_RUNS, `fast decoder took ${fastFrames} frames`);
  ok(fastReplies > PROPERTY_RUNS, `fast decoder answered ${fastReplies} at once`);
});
