// Regression, issue 13 bug 13d (PyPI p9fs ls('/') was refused EINVAL): a lone '/' walk name stays in the directory, as diod takes it.
import { test, deepEqual, equal, ok } from '../../testkit/index.js';
import { Errno } from '../errors.js';
import { a, clunk, lerror, openAt, walkRaw } from '../requests.support.js';
import { queenRig } from '../session.support.js';

test("walk: p9fs ls('/') walks the name '/', a step that stays in the directory (diod takes it)", () => {
  // Bug: PyPI p9fs walks pathlib's parts, so ls('/') sent Twalk ['/'] and cat('/proc/boot')
  // ['/', 'proc', 'boot']; both were refused EINVAL at decode. A lone '/' now stays where it is.
  const r = queenRig();
  const root = r.one({ kind: 'Tgetattr', tag: 1, fid: 0, requestMask: 1n });
  ok(root.kind === 'Rgetattr');
  for (const [path, tag] of [[[['/']], 2], [[['/'], ['/', 'proc', 'boot']], 3]] as [string[][], number][]) {
    for (const names of path) {
      const rep = r.raw(walkRaw(tag, names.map(a)))[0];
      ok(rep.kind === 'Rwalk' && rep.qids.length === names.length, `${names.join(',')}: ${JSON.stringify(rep, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      if (rep.kind === 'Rwalk' && names[0] === '/') deepEqual(rep.qids[0], root.qid, "'/' stays at the root");
      equal(r.one(clunk(tag + 10, 1)).kind, 'Rclunk');
    }
  }
  openAt(r, 1, ['proc', 'boot']);
  equal(r.one(clunk(30, 1)).kind, 'Rclunk');
  // A '/' past a file is ENOTDIR like any other name; '/' inside a name is still refused.
  const past = r.raw(walkRaw(31, [a('proc'), a('boot'), a('/')]))[0];
  ok(past.kind === 'Rwalk' && past.qids.length === 2, 'partial walk: boot is no directory');
  lerror(r.raw(walkRaw(32, [a('proc/boot')]))[0], Errno.EINVAL, "'/' inside a name");
  lerror(r.raw(walkRaw(33, [a('//')]))[0], Errno.EINVAL, "'//'");
});
