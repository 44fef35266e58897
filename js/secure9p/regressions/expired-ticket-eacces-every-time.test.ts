// Regression, issue 13 bug 6 on Secure9P (an expired genuine ticket was not answered the same each time): EACCES every time, no throttle.
import { test } from '../../testkit/index.js';
import { Errno } from '../errors.js';
import { attach, lerror } from '../requests.support.js';
import { NOW_MS, rig, ticket } from '../session.support.js';

test('session attach: an expired ticket is EACCES every time (9P has no throttle)', () => {
  const t = ticket({ role: 'worker-heartbeat', subject: 'worker-1', ttlS: 10n }, 'worker');
  const r = rig();
  r.clock.now = NOW_MS + 10_000;
  lerror(attach(r, '', t), Errno.EACCES, 'first');
  lerror(attach(r, '', t, 1), Errno.EACCES, 'second');
});
