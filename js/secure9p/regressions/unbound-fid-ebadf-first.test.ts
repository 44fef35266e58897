// Regression, issue 13 bug 13c (a refused request on an unbound fid answered EPERM): an unknown fid is EBADF before anything else.
import { test, deepEqual, equal } from '../../testkit/index.js';
import { Errno } from '../errors.js';
import { lerror } from '../requests.support.js';
import { MessageType } from '../opcodes.js';
import { queenRig } from '../session.support.js';

test('refusal: Tlcreate on an unbound fid is EBADF, before EPERM', () => {
  // Bug: a refused request on a fid the session never bound answered EPERM (or EOPNOTSUPP);
  // a request on an unknown fid is EBADF before anything else.
  const r = queenRig();
  const frame = (type: number, tag: number, fid: number) => {
    const b = new Uint8Array(11 + 4 + 4 + 4 + 2 + 1);
    const v = new DataView(b.buffer);
    v.setUint32(0, b.length, true);
    b[4] = type;
    b[5] = tag;
    v.setUint32(7, fid, true);
    return b;
  };
  lerror(r.raw(frame(MessageType.Tlcreate, 50, 77))[0], Errno.EBADF, 'Tlcreate, unbound fid');
  lerror(r.raw(frame(MessageType.Tmkdir, 51, 77))[0], Errno.EBADF, 'Tmkdir, unbound fid');
  lerror(r.raw(frame(MessageType.Txattrwalk, 52, 77))[0], Errno.EBADF, 'Txattrwalk, unbound fid');
  lerror(r.raw(frame(MessageType.Tlcreate, 53, 0))[0], Errno.EPERM, 'Tlcreate on the root fid');
  equal(r.one({ kind: 'Tclunk', tag: 54, fid: 0 }).kind, 'Rclunk');
  lerror(r.raw(frame(MessageType.Tlcreate, 55, 0))[0], Errno.EBADF, 'Tlcreate on a clunked fid');
  deepEqual(r.closedWith, []);
});
