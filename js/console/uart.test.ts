// UART console session: prompt, echo, same replies as TCP without AUTH, QUIT detaches, recovery verbs.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Encode } from '../bytes/utf8.js';
import { AttachGuard } from './attach-guard.js';
import { ProviderError } from './errors.js';
import { UartConsoleSession, UART_PROMPT } from './uart.js';
import { FakeBackend } from './session.support.js';

function uart() {
  const backend = new FakeBackend();
  let text = '';
  const extraVerbs = new Map([
    ['tasks', () => ['task root-task running arena=1048576']],
    ['restart', (rest: string) => (rest === 'net-console' ? ['restarted net-console'] : new ProviderError('invalid-path'))],
  ]);
  const s = new UartConsoleSession({ backend, guard: new AttachGuard(), write: (t) => (text += t), extraVerbs });
  const type = (t: string | number[]) => s.receive(typeof t === 'string' ? utf8Encode(t) : new Uint8Array(t), 1);
  const take = () => {
    const t = text;
    text = '';
    return t;
  };
  return { s, backend, type, take };
}

test('uart: start prints the prompt', () => {
  const u = uart();
  u.s.start();
  equal(u.take(), UART_PROMPT);
  equal(UART_PROMPT, 'cohesix> ');
});

test('uart: the first prompt is printed once, however many callers start it (online and the bounded wait)', () => {
  const u = uart();
  equal(u.take(), '');
  u.s.start();
  u.s.start();
  equal(u.take(), UART_PROMPT);
});

test('uart: a line typed before the first prompt is answered and ends in a prompt', () => {
  const u = uart();
  u.type('ping\r\n');
  equal(u.take(), 'ping\r\nOK PING reply=pong\r\nPONG\r\ncohesix> ');
});

test('uart: ping without AUTH echoes, answers with CRLF lines, then prompts', () => {
  const u = uart();
  u.type('ping\r\n');
  equal(u.take(), 'ping\r\nOK PING reply=pong\r\nPONG\r\ncohesix> ');
});

test('uart: backspace editing reaches the dispatcher as the edited line', () => {
  const u = uart();
  u.type([0x70, 0x6f, 0x08, 0x69, 0x6e, 0x67, 0x0a]);
  ok(u.take().includes('OK PING reply=pong'));
});

test('uart: a long line gets the parse error and the rest of it never runs', () => {
  const u = uart();
  u.type('x'.repeat(300) + ' kill worker-1\n');
  const t = u.take();
  ok(t.endsWith('\r\nERR PARSE reason=policy detail=console line exceeded maximum length\r\ncohesix> '), JSON.stringify(t.slice(-120)));
  ok(!u.backend.trace.some((x) => x.startsWith('call kill')));
});

// Issue 15: on seL4 a paste reaches the console in the PL011 drain's pieces (PL011_RX_DRAIN_BYTES_MAX = 64
// bytes a turn; sel4-platform/tests/test_pl011.c proves every byte gets there). The line bound must
// still give its ERR, and the console must go on: the next ping answers.
test('uart: a 300-byte paste arriving 64 bytes a turn gets the parse error, then ping answers', () => {
  const u = uart();
  const paste = 'attach worker-heartbeat ' + '7'.repeat(275) + '\n';
  equal(paste.length, 300);
  for (let at = 0; at < paste.length; at += 64) u.type(paste.slice(at, at + 64));
  ok(u.take().endsWith('\r\nERR PARSE reason=policy detail=console line exceeded maximum length\r\ncohesix> '));
  u.type('ping\n');
  equal(u.take(), 'ping\r\nOK PING reply=pong\r\nPONG\r\ncohesix> ');
  ok(!u.backend.trace.some((x) => x.startsWith('call attach')));
});

test('uart: same replies as TCP: attach, ls stream', () => {
  const u = uart();
  u.type('attach queen\nls /\n');
  equal(u.take(), 'attach queen\r\nOK ATTACH role=queen\r\ncohesix> ls /\r\nOK LS path=/ entries=5\r\ngpu\r\nlog\r\nproc\r\nqueen\r\nworker\r\nEND\r\ncohesix> ');
});

test('uart: empty line is an empty command, as on TCP', () => {
  const u = uart();
  u.type('\n');
  equal(u.take(), '\r\nERR PARSE reason=policy detail=empty command\r\ncohesix> ');
});

test('uart: QUIT answers OK QUIT, detaches, and the console stays', () => {
  const u = uart();
  u.type('attach queen\n');
  ok(u.s.attachment() !== null);
  u.take();
  u.type('quit\nping\n');
  equal(u.take(), 'quit\r\nOK QUIT\r\ncohesix> ping\r\nOK PING reply=pong\r\nPONG\r\ncohesix> ');
  equal(u.s.attachment(), null);
  deepEqual(u.backend.closedWith, ['quit']);
});

test('uart: recovery verbs: lines then OK <VERB>; refusals use the provider shape', () => {
  const u = uart();
  u.type('tasks\n');
  equal(u.take(), 'tasks\r\ntask root-task running arena=1048576\r\nOK TASKS\r\ncohesix> ');
  u.type('restart nothing\n');
  ok(u.take().includes('ERR RESTART reason=policy detail=invalid-path error=invalid path\r\n'));
});
