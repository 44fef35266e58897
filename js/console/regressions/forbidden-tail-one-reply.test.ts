// Regression, issue 13 bug 4 (a forbidden TAIL answered OK TAIL, then the refusal): TAIL and LOG call the provider first; a refusal is the one reply.
import { test, deepEqual, ok } from '../../testkit/index.js';
import { ProviderError } from '../errors.js';
import { attachedQueen } from '../session.support.js';

test('session TAIL: provider call first, then OK TAIL path=<p>, lines, END (issue 13 bug 4)', () => {
  const h = attachedQueen();
  h.send('tail /worker/worker-1/telemetry');
  deepEqual(h.out(), ['OK TAIL path=/worker/worker-1/telemetry', '{"tick":1}', '{"tick":2}', 'END']);
  ok(h.trace.indexOf('call tail /worker/worker-1/telemetry') < h.trace.indexOf('> OK TAIL path=/worker/worker-1/telemetry'));
});

test('session forbidden tail has one reply (issue 13 bug 4): a provider refusal is the only line, no OK, no END', () => {
  const h = attachedQueen();
  h.backend.fail.tail = new ProviderError('denied');
  h.send('tail /worker/worker-9/telemetry');
  deepEqual(h.out(), ['ERR TAIL reason=policy detail=denied path=/worker/worker-9/telemetry error=EPERM']);
});

test('session LOG: a provider refusal is the one reply, no OK LOG before it (issue 13 bug 4)', () => {
  const h = attachedQueen();
  h.backend.fail.log = new ProviderError('denied');
  h.send('log');
  deepEqual(h.out(), ['ERR LOG reason=policy detail=denied error=EPERM']);
});
