// Property test: random walk/open/read/write/clunk sequences agree with a simple model of the fid table.
import fc from 'fast-check';
import { test, equal, deepEqual } from '../testkit/index.js';
import { utf8Encode } from '../bytes/utf8.js';
import { Errno } from './errors.js';
import type { Message, Reply } from './messages.js';
import { OpenFlag } from './opcodes.js';
import { queenRig } from './session.support.js';

/** Sequences per run and ops per sequence: enough to revisit every fid number many times. */
const PROPERTY_RUNS = 300;
const OPS_PER_SEQUENCE_MIN = 20;
const OPS_PER_SEQUENCE_MAX = 60;

/** The fixture tree (session.support.ts) as the model sees it: dirs map names, files say if they append. */
type ModelNode = { dir: Record<string, ModelNode> } | { append: boolean };
const TREE: ModelNode = {
  dir: {
    proc: { dir: { boot: { append: false } } },
    log: { dir: { 'queen.log': { append: true } } },
    empty: { dir: {} },
  },
};

type Op =
  | { op: 'walk'; fid: number; newfid: number; names: string[] }
  | { op: 'open'; fid: number; mode: number }
  | { op: 'read'; fid: number }
  | { op: 'write'; fid: number }
  | { op: 'clunk'; fid: number };

// Few fid numbers, so clunk-then-reuse and in-use collisions happen often.
const fidArb = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('walk' as const), fid: fidArb, newfid: fidArb,
    names: fc.oneof(
      // Whole paths from the root reach the files often; free arrays cover relative and failing walks.
      fc.constantFrom<string[]>([], ['proc', 'boot'], ['log', 'queen.log'], ['proc'], ['empty'], ['proc', 'nope'], ['proc', 'boot', 'x']),
      fc.array(fc.constantFrom<string>('proc', 'boot', 'log', 'queen.log', 'empty', 'nope'), { maxLength: 3 }),
    ) }),
  fc.record({ op: fc.constant('open' as const), fid: fidArb, mode: fc.constantFrom(OpenFlag.RDONLY, OpenFlag.WRONLY, OpenFlag.RDWR) }),
  fc.record({ op: fc.constant('read' as const), fid: fidArb }),
  fc.record({ op: fc.constant('write' as const), fid: fidArb }),
  fc.record({ op: fc.constant('clunk' as const), fid: fidArb }),
);

interface ModelFid { node: ModelNode; open: null | 'read' | 'write' | 'read-write' }

/** What the spec says should happen: a reply kind, or the errno of an Rlerror. */
function expect(live: Map<number, ModelFid>, retired: Set<number>, o: Op): string | number {
  const f = live.get(o.fid);
  if (o.op === 'clunk') {
    if (!f) return Errno.EBADF;
    live.delete(o.fid);
    retired.add(o.fid);
    return 'Rclunk';
  }
  if (!f) return Errno.EBADF;
  switch (o.op) {
    case 'walk': {
      if (f.open && o.newfid === o.fid) return Errno.EINVAL;
      if (o.newfid !== o.fid) {
        if (live.has(o.newfid)) return Errno.EBUSY;
        // A clunked number may be bound again (spec §0 interop overrides §5.3's retirement).
        retired.delete(o.newfid);
      }
      let node = f.node;
      for (let i = 0; i < o.names.length; i++) {
        const next = 'dir' in node ? node.dir[o.names[i]] : undefined;
        if (!('dir' in node)) return i === 0 ? Errno.ENOTDIR : 'Rwalk';
        if (next === undefined) return i === 0 ? Errno.ENOENT : 'Rwalk';
        node = next;
      }
      live.set(o.newfid, { node, open: null });
      return 'Rwalk';
    }
    case 'open': {
      if (f.open) return Errno.EINVAL;
      const access = o.mode === OpenFlag.WRONLY ? 'write' : o.mode === OpenFlag.RDWR ? 'read-write' : 'read';
      if (access !== 'read' && ('dir' in f.node || !f.node.append)) return Errno.EPERM;
      f.open = access;
      return 'Rlopen';
    }
    case 'read':
      if (!f.open) return Errno.EINVAL;
      return f.open === 'write' ? Errno.EPERM : 'Rread';
    case 'write':
      if (!f.open) return Errno.EINVAL;
      return f.open === 'read' ? Errno.EPERM : 'Rwrite';
  }
}

function request(o: Op, tag: number): Message {
  switch (o.op) {
    case 'walk': return { kind: 'Twalk', tag, fid: o.fid, newfid: o.newfid, names: o.names };
    case 'open': return { kind: 'Tlopen', tag, fid: o.fid, flags: o.mode };
    case 'read': return { kind: 'Tread', tag, fid: o.fid, offset: 0n, count: 64 };
    case 'write': return { kind: 'Twrite', tag, fid: o.fid, offset: 0n, data: utf8Encode('x\n') };
    case 'clunk': return { kind: 'Tclunk', tag, fid: o.fid };
  }
}

const outcome = (r: Reply): string | number => (r.kind === 'Rlerror' ? r.ecode : r.kind);

test('session property: random fid operations match the fid-table model', () => {
  fc.assert(fc.property(fc.array(opArb, { minLength: OPS_PER_SEQUENCE_MIN, maxLength: OPS_PER_SEQUENCE_MAX, size: 'max' }), (ops) => {
    const r = queenRig();
    const live = new Map<number, ModelFid>([[0, { node: TREE, open: null }]]);
    const retired = new Set<number>();
    ops.forEach((o, i) => {
      const want = expect(live, retired, o);
      equal(outcome(r.one(request(o, i % 0xffff))), want, `op ${i} ${JSON.stringify(o)}`);
      deepEqual(r.session.liveFids(), [...live.keys()].sort((x, y) => x - y), `fids after op ${i}`);
    });
    equal(r.session.tagsInFlight(), 0);
  }), { numRuns: PROPERTY_RUNS });
});
