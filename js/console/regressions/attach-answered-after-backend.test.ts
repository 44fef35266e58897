// Regression, issue 13 bug 1 (attach then close leaked a session): OK ATTACH goes out only once NineDoor attached; a failure is the one reply.
import { test, deepEqual, equal, ok } from '../../testkit/index.js';
import { ProviderError } from '../errors.js';
import { authed } from '../session.support.js';

test('session ATTACH: OK ATTACH goes out only after the backend attach (issue 13 bug 1)', () => {
  const h = authed();
  h.send('attach queen');
  const ack = h.trace.indexOf('> OK ATTACH role=queen');
  const call = h.trace.indexOf('call attach queen');
  ok(call >= 0 && ack > call, h.trace.join(' | '));
});

test('session ATTACH: a forwarding failure is the one reply, ERR ATTACH, and leaves the session detached (issue 13 bug 1)', () => {
  const h = authed();
  h.backend.fail.attach = new ProviderError('attach-timeout');
  h.send('attach queen');
  deepEqual(h.out(), ['ERR ATTACH reason=busy detail=attach-timeout error=attach handshake timed out']);
  equal(h.session.phase(), 'authed');
});
