// Reply lines: ACK builders, the §3.6 provider table, stream bounds, the CAT digest and the client-side parser.
import { test, equal, deepEqual } from '../testkit/index.js';
import { ProviderError, providerCodeOfNineError } from './errors.js';
import { catDigest } from './digest.js';
import { okLine, errLine, providerRefusalLine, refusalClassOf, refusalLine, streamReply } from './reply.js';
import { parseReplyLine, replyTokens } from './reply-parse.js';

test('reply: OK and ERR lines with and without detail', () => {
  equal(okLine('AUTH'), 'OK AUTH');
  equal(okLine('ATTACH', 'role=queen'), 'OK ATTACH role=queen');
  equal(errLine('FRAME', 'reason=invalid-length'), 'ERR FRAME reason=invalid-length');
  equal(refusalLine('TEST', 'policy', 'detail=host-only'), 'ERR TEST reason=policy detail=host-only');
});

test('reply: every row of the §3.6 provider table', () => {
  equal(providerRefusalLine('BI', new ProviderError('unsupported', '', 'bi')), 'ERR BI reason=policy detail=unsupported error=unsupported command: bi');
  equal(providerRefusalLine('ATTACH', 'attach-timeout'), 'ERR ATTACH reason=busy detail=attach-timeout error=attach handshake timed out');
  equal(providerRefusalLine('CAT', 'invalid-path', '/nope'), 'ERR CAT reason=policy detail=invalid-path path=/nope error=invalid path');
  equal(providerRefusalLine('ECHO', 'denied', '/queen/ctl'), 'ERR ECHO reason=policy detail=denied path=/queen/ctl error=EPERM');
  equal(providerRefusalLine('TAIL', 'buffer-full', '/log/queen.log'), 'ERR TAIL reason=quota detail=buffer-full path=/log/queen.log error=buffer full');
  equal(providerRefusalLine('SPAWN', 'invalid-payload'), 'ERR SPAWN reason=policy detail=invalid-payload error=invalid payload');
});

test('reply: ticket scope rows carry no detail', () => {
  equal(providerRefusalLine('CAT', 'scope-denied', '/queen/ctl'), 'ERR CAT reason=policy path=/queen/ctl error=EPERM');
  equal(providerRefusalLine('TAIL', 'scope-quota', '/log/queen.log'), 'ERR TAIL reason=quota path=/log/queen.log error=ELIMIT');
});

test('reply: root-unreachable is the cut class with no path or error text', () => {
  equal(providerRefusalLine('LS', 'root-unreachable', '/proc'), 'ERR LS reason=cut detail=root-unreachable');
});

test('reply: Secure9P error names map to console codes (spec §5.5)', () => {
  deepEqual(
    (['Permission', 'NotFound', 'Busy', 'Invalid', 'TooBig', 'Closed'] as const).map(providerCodeOfNineError),
    ['denied', 'invalid-path', 'busy', 'invalid-payload', 'buffer-full', 'root-unreachable'],
  );
});

test('reply: a stream is ACK, lines, END', () => {
  deepEqual(streamReply('TAIL', 'path=/x', ['a', 'b']), ['OK TAIL path=/x', 'a', 'b', 'END']);
});

test('reply: a stream of 64 lines passes, 65 is refused buffer-full', () => {
  const l64 = Array.from({ length: 64 }, (_, i) => `l${i}`);
  equal(streamReply('LS', 'path=/', l64).length, 66);
  deepEqual(streamReply('LS', 'path=/', [...l64, 'x']), ['ERR LS reason=quota detail=buffer-full']);
});

test('reply: refusal class is read from ERR lines only', () => {
  equal(refusalClassOf('ERR ATTACH reason=quota detail=throttled delay_ms=250'), 'quota');
  equal(refusalClassOf('ERR PARSE reason=policy detail=empty command'), 'policy');
  equal(refusalClassOf('ERR AUTH reason=invalid-token'), null);
  equal(refusalClassOf('ERR FRAME reason=invalid-length'), null);
  equal(refusalClassOf('OK LS path=/ entries=0'), null);
});

test('reply parser: status, label, rest', () => {
  deepEqual(parseReplyLine('OK ATTACH role=queen'), { kind: 'ack', status: 'OK', label: 'ATTACH', rest: 'role=queen' });
  deepEqual(parseReplyLine('OK AUTH'), { kind: 'ack', status: 'OK', label: 'AUTH', rest: '' });
  deepEqual(parseReplyLine('  ERR AUTH reason=expected-token\n'), { kind: 'ack', status: 'ERR', label: 'AUTH', rest: 'reason=expected-token' });
});

test('reply parser: END, bare PONG and plain text', () => {
  deepEqual(parseReplyLine('END'), { kind: 'end' });
  deepEqual(parseReplyLine('PONG'), { kind: 'pong' });
  deepEqual(parseReplyLine('[bi] cores=4'), { kind: 'text', text: '[bi] cores=4' });
  deepEqual(parseReplyLine('OK then'), { kind: 'text', text: 'OK then' });
});

test('reply parser: tokens keep multi-word values together', () => {
  const t = replyTokens('reason=policy detail=unsupported path=/x error=unsupported command: bi');
  equal(t.get('reason'), 'policy');
  equal(t.get('error'), 'unsupported command: bi');
  equal(replyTokens('reason=policy detail=missing required argument: path').get('detail'), 'missing required argument: path');
});

test('cat digest: newest short lines, non-[ preferred, oldest first, joined by |', () => {
  equal(catDigest(['Cohesix boot: root-task online', '[net] up', 'ready']), 'Cohesix boot: root-task online|ready');
  equal(catDigest(['[a]', '[b]']), '[a]|[b]', 'only tagged lines: use them');
  equal(catDigest(['x'.repeat(65), 'short']), 'short', 'lines over 64 bytes are skipped');
  equal(catDigest([]), '');
});

test('cat digest: stays within 128 bytes, keeping the newest', () => {
  equal(catDigest(Array.from({ length: 10 }, (_, i) => `${i}`.repeat(40))), ['7', '8', '9'].map((c) => c.repeat(40)).join('|'), '3×40+2 = 122 fits');
  equal(catDigest(Array.from({ length: 10 }, (_, i) => `${i}`.repeat(50))), ['8', '9'].map((c) => c.repeat(50)).join('|'), 'a third 50-byte line would not');
});
