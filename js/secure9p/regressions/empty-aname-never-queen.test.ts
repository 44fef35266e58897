// Regression, issue 13 bug 7 (an empty aname attached as the ticketless queen): a uname that names no role is EACCES.
import { test, deepEqual, equal } from '../../testkit/index.js';
import { Errno } from '../errors.js';
import { attach, lerror } from '../requests.support.js';
import { rig } from '../session.support.js';

test('session attach: empty aname does not attach queen (any uname that names no role is EACCES)', () => {
  // Bug: aname '' with a uname that is not a role (a Linux v9fs mount's default: '', nobody, a
  // Unix user) attached as the ticketless queen. Only aname `queen` or uname `queen` names it.
  for (const uname of ['', 'nobody', 'root', 'alice']) {
    const r = rig();
    lerror(attach(r, uname, ''), Errno.EACCES, `uname ${JSON.stringify(uname)}`);
    equal(r.session.who(), null, 'no principal');
    deepEqual(r.session.liveFids(), [], 'no fid');
  }
  for (const uname of ['', 'nobody']) equal(attach(rig(), uname, 'queen').kind, 'Rattach', `${uname} with aname queen`);
  equal(attach(rig(), 'queen', '').kind, 'Rattach', 'uname queen names the role');
});
