// The stream collector: ACK by label, lines until END, a later ERR of the same label fails, PONG and unrelated lines skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamCollector } from './collector.js';

function feed(c: StreamCollector, lines: string[]): number {
  for (let i = 0; i < lines.length; i++) if (c.feed(lines[i])) return i;
  return -1;
}

test('stream: skips unrelated lines before the ACK, collects until END, skips bare PONG inside', () => {
  const c = new StreamCollector('LS', 'stream');
  const at = feed(c, ['[log] something', 'OK PING reply=pong', 'PONG', 'OK LS path=/ entries=2', 'a', 'PONG', 'b', 'END', 'late']);
  assert.equal(at, 7);
  assert.deepEqual(c.result(), { ok: true, acks: ['OK LS path=/ entries=2'], lines: ['a', 'b'], problem: null });
});

test('stream: a later ERR with the same label is a failure and ends the stream', () => {
  const c = new StreamCollector('TAIL', 'stream');
  feed(c, ['OK TAIL path=/x', 'line', 'ERR TAIL reason=busy detail=busy error=EBUSY']);
  const r = c.result();
  assert.equal(r.ok, false);
  assert.deepEqual(r.acks, ['OK TAIL path=/x', 'ERR TAIL reason=busy detail=busy error=EBUSY']);
  assert.deepEqual(r.lines, ['line']);
});

test('ack: ERR of the label fails at once; ERR PARSE and ERR FRAME answer any request', () => {
  for (const line of ['ERR ECHO reason=policy detail=denied', 'ERR PARSE reason=policy detail=empty command', 'ERR FRAME reason=invalid-length']) {
    const c = new StreamCollector('ECHO', 'ack');
    assert.equal(c.feed(line), true);
    assert.equal(c.result().ok, false);
    assert.deepEqual(c.result().acks, [line]);
  }
  const other = new StreamCollector('ECHO', 'ack');
  assert.equal(other.feed('ERR CAT reason=policy'), false, 'another label is unrelated');
});

test('barrier: waits for the PING behind the request and catches a second ERR before it', () => {
  const c = new StreamCollector('ATTACH', 'barrier');
  assert.equal(c.feed('OK ATTACH role=queen'), false);
  assert.equal(c.feed('ERR ATTACH reason=busy detail=attach-timeout error=attach handshake timed out'), false);
  assert.equal(c.feed('OK PING reply=pong'), true);
  assert.equal(c.result().ok, false);
  const refused = new StreamCollector('ATTACH', 'barrier');
  assert.equal(refused.feed('ERR ATTACH reason=policy detail=invalid-role'), false, 'still waits for the barrier');
  assert.equal(refused.feed('OK PING reply=pong'), true);
  assert.equal(refused.result().ok, false);
});
