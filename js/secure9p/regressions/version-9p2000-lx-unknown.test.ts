// Regression, issue 13 bug 13b (Tversion took any string starting 9P2000.L): only 9P2000.L and 9P2000.L.<suffix> are taken.
import { test, deepEqual } from '../../testkit/index.js';
import { Errno } from '../errors.js';
import { lerror } from '../requests.support.js';
import { rig } from '../session.support.js';

test('session version: 9P2000.Lx is unknown; only 9P2000.L and 9P2000.L.<suffix> are taken', () => {
  // Bug: any string beginning 9P2000.L was taken (9P2000.Lx, 9P2000.L-extra).
  for (const version of ['9P2000.Lx', '9P2000.L-extra', '9P2000.L.', '9P2000.l', ' 9P2000.L', '9P2000.L ']) {
    const r = rig();
    deepEqual(r.one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version }), { kind: 'Rversion', tag: 0xffff, msize: 8192, version: 'unknown' }, version);
    lerror(r.one({ kind: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'queen', aname: '', nUname: 0 }), Errno.EINVAL, `${version}: not versioned`);
  }
  for (const version of ['9P2000.L', '9P2000.L.Google.7', '9P2000.L.x']) {
    deepEqual(rig().one({ kind: 'Tversion', tag: 0xffff, msize: 8192, version }), { kind: 'Rversion', tag: 0xffff, msize: 8192, version: '9P2000.L' }, version);
  }
});
