// Console paths NineDoor would refuse to walk are Invalid before they reach the 9P client (spec §5.3).
import { test, equal } from '../testkit/index.js';
import { Errno } from '../secure9p/errors.js';
import { pathProblem } from './namespace.js';

test('root-task namespace: `.` and `..` components are Invalid EINVAL (console invalid-payload), not TooBig', () => {
  for (const p of ['/worker/../queen', '/..', '/proc/./boot', '..']) {
    const e = pathProblem(p);
    equal(e?.code, 'Invalid', p);
    equal(e?.errno, Errno.EINVAL, p);
  }
  equal(pathProblem('/worker/../queen')?.message, "invalid path: name is '..'");
});

test('root-task namespace: ordinary paths, the root and doubled slashes pass', () => {
  for (const p of ['/', '/worker', '/worker/worker-1/telemetry', '//proc//boot', 'log/queen.log']) equal(pathProblem(p), null, p);
});
