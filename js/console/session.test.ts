// TCP console session: every AUTH row, the deadline, framing per phase, each verb's reply shape, ACK-before-side-effect, queue, idle, QUIT.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { InfoRefusal } from './backend.js';
import { ProviderError } from './errors.js';
import { attachedQueen, authed, frame, open, rawFrame, settle } from './session.support.js';

// --- AUTH rows (spec §2), in order -------------------------------------------------------

test('session AUTH: match → OK AUTH, phase authed', () => {
  const h = open();
  h.send('AUTH changeme');
  deepEqual(h.transport.lines, ['OK AUTH']);
  equal(h.session.phase(), 'authed');
  ok(!h.transport.closed);
});

test('session AUTH: length ≠ 5 + len(token) → invalid-length, close', () => {
  const h = open();
  h.send('AUTH changeme!');
  deepEqual(h.transport.lines, ['ERR AUTH reason=invalid-length']);
  ok(h.transport.closed);
  equal(h.session.closeReason(), 'auth-failed');
});

test('session AUTH: length checked before prefix: `PING` → invalid-length', () => {
  const h = open();
  h.send('PING');
  deepEqual(h.transport.lines, ['ERR AUTH reason=invalid-length']);
});

test('session AUTH: right length, no `AUTH ` prefix → expected-token, close', () => {
  const h = open();
  h.send('ATTACH queen1');
  deepEqual(h.transport.lines, ['ERR AUTH reason=expected-token']);
  ok(h.transport.closed);
});

test('session AUTH: right length, blank token → expected-token', () => {
  const h = open();
  h.send('AUTH ' + ' '.repeat(8));
  deepEqual(h.transport.lines, ['ERR AUTH reason=expected-token']);
});

test('session AUTH: empty configured token and `AUTH ` → expected-token', () => {
  const h = open('');
  h.send('AUTH ');
  deepEqual(h.transport.lines, ['ERR AUTH reason=expected-token']);
});

test('session AUTH: token mismatch → invalid-token, close', () => {
  const h = open();
  h.send('AUTH changemE');
  deepEqual(h.transport.lines, ['ERR AUTH reason=invalid-token']);
  ok(h.transport.closed);
  deepEqual(h.backend.closedWith, ['auth-failed']);
});

test('session AUTH: each refused row is noted with that row, the reply unchanged (audit said only reason=auth-failed)', () => {
  for (const [line, row] of [['AUTH changeme!', 'invalid-length'], ['ATTACH queen1', 'expected-token'], ['AUTH changemE', 'invalid-token']]) {
    const h = open();
    h.send(line);
    deepEqual(h.transport.lines, [`ERR AUTH reason=${row}`], line);
    deepEqual(h.backend.notes, [{ kind: 'auth-refused', reason: row }], line);
    deepEqual(h.backend.closedWith, ['auth-failed'], line);
  }
  const h = open();
  h.send('AUTH changeme');
  deepEqual(h.backend.notes, [], 'a passed AUTH notes nothing');
});

test('session AUTH: nothing within 5 s → close without a reply', () => {
  const h = open();
  h.session.tick(4_999);
  ok(!h.transport.closed);
  equal(h.session.nextDeadlineMs(), 5_000);
  h.session.tick(5_000);
  ok(h.transport.closed);
  deepEqual(h.transport.lines, []);
  equal(h.session.closeReason(), 'auth-timeout');
});

test('session AUTH: half a frame then silence still hits the deadline', () => {
  const h = open();
  h.session.receive(frame('AUTH changeme').subarray(0, 6), 100);
  h.session.tick(5_000);
  ok(h.transport.closed);
});

test('session AUTH: the deadline does not apply once authenticated', () => {
  const h = authed();
  h.session.tick(6_000);
  ok(!h.transport.closed);
});

test('session: garbage before AUTH closes without a reply', () => {
  const h = open();
  h.session.receive(new Uint8Array([0xff, 0xff, 0xff, 0x7f, 1, 2, 3]), 1);
  ok(h.transport.closed);
  deepEqual(h.transport.lines, []);
  equal(h.session.closeReason(), 'frame-error');
});

test('session: oversize frame before AUTH closes', () => {
  const h = open();
  h.session.receive(rawFrame(4 + 300, 'x'.repeat(300)), 1);
  ok(h.transport.closed);
});

test('session: invalid UTF-8 before AUTH closes', () => {
  const h = open();
  h.session.receive(rawFrame(4 + 13, new Uint8Array([0x41, 0x55, 0x54, 0x48, 0x20, 0xff, 0, 0, 0, 0, 0, 0, 0])), 1);
  ok(h.transport.closed);
  deepEqual(h.transport.lines, []);
});

test('session: AUTH with a command pipelined behind it in one chunk', () => {
  const h = open();
  h.session.receive(new Uint8Array([...frame('AUTH changeme'), ...frame('PING')]), 1);
  deepEqual(h.out(), ['OK AUTH', 'OK PING reply=pong', 'PONG']);
});

test('session: oversize frame after AUTH → ERR FRAME reason=invalid-length, session kept', () => {
  const h = authed();
  h.session.receive(rawFrame(4 + 5000, 'z'.repeat(5000)), 2);
  h.send('PING');
  deepEqual(h.out(), ['ERR FRAME reason=invalid-length', 'OK PING reply=pong', 'PONG']);
  ok(!h.transport.closed);
});

test('session: AUTH frame followed by an oversize one in the same chunk uses after-AUTH rules', () => {
  const h = open();
  h.session.receive(new Uint8Array([...frame('AUTH changeme'), ...rawFrame(4 + 300, 'q'.repeat(300)), ...frame('PING')]), 1);
  deepEqual(h.out(), ['OK AUTH', 'ERR FRAME reason=invalid-length', 'OK PING reply=pong', 'PONG']);
});

test('session: empty frame after AUTH is an empty command', () => {
  const h = authed();
  h.session.receive(rawFrame(4, ''), 2);
  deepEqual(h.out(), ['ERR PARSE reason=policy detail=empty command']);
});

test('session: invalid UTF-8 after AUTH is a parse refusal and the session goes on', () => {
  const h = authed();
  h.session.receive(rawFrame(5, new Uint8Array([0xc0])), 2);
  deepEqual(h.out(), ['ERR PARSE reason=policy detail=invalid value for argument line']);
  ok(!h.transport.closed);
});

test('session: declared length < 4 after AUTH cannot be resynchronised: close', () => {
  const h = authed();
  h.session.receive(new Uint8Array([1, 0, 0, 0]), 2);
  ok(h.transport.closed);
  equal(h.session.closeReason(), 'frame-error');
});

// --- verbs -------------------------------------------------------------------------------

test('session PING works without attach: OK PING reply=pong then bare PONG', () => {
  const h = authed();
  h.send('ping');
  deepEqual(h.out(), ['OK PING reply=pong', 'PONG']);
});

test('session info verbs: lines, then OK <LABEL>', () => {
  const h = authed();
  for (const [verb, label] of [['help', 'HELP'], ['bi', 'BOOTINFO'], ['caps', 'CAPS'], ['mem', 'MEM'], ['nettest', 'NETTEST'], ['netstats', 'NETSTATS'], ['cachelog 5', 'CACHELOG']]) {
    h.send(verb);
    const name = verb.split(' ')[0];
    deepEqual(h.out(), [`[${name}] line`, `OK ${label}`]);
  }
  ok(h.trace.includes('call cachelog 5'));
});

test('session info verbs: unavailable and unsupported refusals', () => {
  const h = authed();
  h.backend.fail.nettest = new InfoRefusal('net-disabled');
  h.send('nettest');
  deepEqual(h.out(), ['ERR NETTEST reason=policy detail=net-disabled']);
  h.backend.fail.mem = new ProviderError('unsupported');
  h.send('mem');
  deepEqual(h.out(), ['ERR MEM reason=policy detail=unsupported error=unsupported command: mem']);
});

test('session TEST is host-only', () => {
  const h = authed();
  h.send('test');
  deepEqual(h.out(), ['ERR TEST reason=policy detail=host-only']);
});

test('session file verbs before ATTACH are unauthenticated', () => {
  const h = authed();
  for (const [cmd, label] of [['tail /log/queen.log', 'TAIL'], ['cat /proc/boot', 'CAT'], ['ls /', 'LS'], ['echo /log/queen.log hi', 'ECHO'], ['log', 'LOG'], ['spawn {}', 'SPAWN'], ['kill worker-1', 'KILL']]) {
    h.send(cmd);
    deepEqual(h.out(), [`ERR ${label} reason=policy detail=unauthenticated`]);
  }
  ok(!h.trace.some((t) => t.startsWith('call ')), 'no backend call without an attachment');
});

test('session file verbs with the root unreachable are cut', () => {
  const h = attachedQueen();
  h.backend.reachable = false;
  for (const [cmd, label] of [['tail /log/queen.log', 'TAIL'], ['cat /proc/boot', 'CAT'], ['ls /', 'LS'], ['echo /log/queen.log hi', 'ECHO']]) {
    h.send(cmd);
    deepEqual(h.out(), [`ERR ${label} reason=cut detail=root-unreachable`]);
  }
});

test('session ATTACH: OK ATTACH role=<label> lowercase, phase attached', () => {
  const h = authed();
  h.send('attach QUEEN');
  deepEqual(h.out(), ['OK ATTACH role=queen']);
  equal(h.session.phase(), 'attached');
});

test('session ATTACH: while the backend attach is pending nothing is said; a close then ends it quietly', async () => {
  const h = authed();
  h.backend.hold = true;
  h.send('attach queen');
  deepEqual(h.out(), []);
  h.session.peerClosed();
  h.backend.release();
  await settle();
  deepEqual(h.out(), []);
  deepEqual(h.backend.closedWith, ['peer-closed']);
});

test('session ATTACH: refusals are counted as pressure and reported', () => {
  const h = authed();
  h.backend.lifecycle = 'BOOTING';
  h.send('attach worker cohesix-ticket-00.00');
  deepEqual(h.out(), ['ERR ATTACH reason=policy detail=lifecycle-denied state=BOOTING']);
  deepEqual(h.backend.notes, [
    { kind: 'refusal', cls: 'policy', label: 'ATTACH' },
    { kind: 'log', line: 'lifecycle denied action=worker-attach state=BOOTING reason=gate-denied' },
    { kind: 'attach-refused', role: 'worker-heartbeat', code: 'lifecycle-denied' },
  ]);
});

test('session ATTACH: throttle uses the session clock', () => {
  const h = authed();
  h.session.receive(frame('attach worker bad'), 1_000);
  h.session.receive(frame('attach queen'), 1_100);
  deepEqual(h.out(), ['ERR ATTACH reason=policy detail=denied', 'ERR ATTACH reason=quota detail=throttled delay_ms=150']);
  h.session.receive(frame('attach queen'), 1_250);
  deepEqual(h.out(), ['OK ATTACH role=queen']);
});

test('session LOG: queen only; OK LOG, lines, END', () => {
  const h = attachedQueen();
  h.send('log');
  deepEqual(h.out(), ['OK LOG', 'boot', 'spawned worker-1 ticks=5 ttl=300 ops=10000', 'END']);
});

test('session LOG: streams only the newest 64 lines', () => {
  const h = attachedQueen();
  h.backend.files.set('/log/queen.log', Array.from({ length: 100 }, (_, i) => `l${i}`));
  h.send('log');
  const o = h.out();
  equal(o.length, 66);
  equal(o[1], 'l36');
  equal(o[64], 'l99');
});

test('session TAIL: a path that is not a tail target is invalid-path, no call', () => {
  const h = attachedQueen();
  h.send('tail /proc/boot');
  deepEqual(h.out(), ['ERR TAIL reason=policy detail=invalid-path path=/proc/boot']);
  ok(!h.trace.includes('call tail /proc/boot'));
});

test('session TAIL: more than 64 lines is refused buffer-full, as the one reply', () => {
  const h = attachedQueen();
  h.backend.files.set('/log/queen.log', Array.from({ length: 65 }, (_, i) => `l${i}`));
  h.send('tail /log/queen.log');
  deepEqual(h.out(), ['ERR TAIL reason=quota detail=buffer-full path=/log/queen.log error=buffer full']);
});

test('session CAT: provider call first, then OK CAT path= data=<digest>, lines, END', () => {
  const h = attachedQueen();
  h.send('cat /proc/boot');
  deepEqual(h.out(), ['OK CAT path=/proc/boot data=Cohesix boot: root-task online|ready', 'Cohesix boot: root-task online', '[net] up', 'ready', 'END']);
  ok(h.trace.indexOf('call cat /proc/boot') < h.trace.indexOf('> OK CAT path=/proc/boot data=Cohesix boot: root-task online|ready'));
});

test('session CAT: provider error is one ERR CAT with path and error text', () => {
  const h = attachedQueen();
  h.backend.fail.cat = new ProviderError('invalid-path');
  h.send('cat /gpu/models');
  deepEqual(h.out(), ['ERR CAT reason=policy detail=invalid-path path=/gpu/models error=invalid path']);
});

test('session LS: OK LS path= entries=<n>, names, END', () => {
  const h = attachedQueen();
  h.send('ls /');
  deepEqual(h.out(), ['OK LS path=/ entries=5', 'gpu', 'log', 'proc', 'queen', 'worker', 'END']);
  h.send('ls /empty');
  deepEqual(h.out(), ['OK LS path=/empty entries=0', 'END']);
});

test('session ECHO: provider call first, then OK ECHO path= bytes=<utf8 len>', () => {
  const h = attachedQueen();
  h.send('echo /log/queen.log héllo world');
  deepEqual(h.out(), ['OK ECHO path=/log/queen.log bytes=12']);
  ok(h.trace.indexOf('call echo /log/queen.log héllo world') < h.trace.indexOf('> OK ECHO path=/log/queen.log bytes=12'));
});

test('session ECHO: a worker may echo only under /bus/ or /lora/', () => {
  const h = authed();
  h.backend.lifecycle = 'ONLINE';
  // Attach as a worker through a ticket minted with the dev secret.
  return import('../tickets/index.js').then(({ mintTicket, baseClaims }) => {
    const t = mintTicket({ ...baseClaims('worker-heartbeat', 0n), subject: 'worker-1' }, 'worker') as string;
    h.send(`attach worker ${t}`);
    deepEqual(h.out(), ['OK ATTACH role=worker-heartbeat']);
    h.send('echo /queen/ctl {"kill":"worker-2"}');
    deepEqual(h.out(), ['ERR ECHO reason=policy detail=denied']);
    ok(!h.trace.some((x) => x.startsWith('call echo')));
    h.send('echo /bus/modbus/ctl ping');
    deepEqual(h.out(), ['OK ECHO path=/bus/modbus/ctl bytes=4']);
    h.send('spawn {"spawn":"heartbeat","ticks":1}');
    deepEqual(h.out(), ['ERR SPAWN reason=policy detail=unauthenticated'], 'spawn is the queen\'s');
  });
});

test('session SPAWN: ACK (with the payload) before the action', () => {
  const h = attachedQueen();
  const j = '{"spawn":"heartbeat","ticks":5}';
  h.send(`spawn ${j}`);
  deepEqual(h.out(), [`OK SPAWN payload=${j}`]);
  ok(h.trace.indexOf(`> OK SPAWN payload=${j}`) < h.trace.indexOf(`call spawn ${j}`));
});

test('session SPAWN: failing action adds a second ERR SPAWN', () => {
  const h = attachedQueen();
  h.backend.fail.spawn = new ProviderError('invalid-payload');
  h.send('spawn {bad');
  deepEqual(h.out(), ['OK SPAWN payload={bad', 'ERR SPAWN reason=policy detail=invalid-payload error=invalid payload']);
});

test('session KILL: OK KILL id=<w> before the action; unknown worker adds ERR KILL', () => {
  const h = attachedQueen();
  h.send('kill worker-1');
  deepEqual(h.out(), ['OK KILL id=worker-1']);
  ok(h.trace.indexOf('> OK KILL id=worker-1') < h.trace.indexOf('call kill worker-1'));
  h.backend.fail.kill = new ProviderError('invalid-path');
  h.send('kill worker-9');
  deepEqual(h.out(), ['OK KILL id=worker-9', 'ERR KILL reason=policy detail=invalid-path error=invalid path']);
});

test('session QUIT: OK QUIT then close; a clean quit is reported as such', () => {
  const h = attachedQueen();
  h.session.receive(new Uint8Array([...frame('quit'), ...frame('PING')]), 2);
  deepEqual(h.out(), ['OK QUIT'], 'nothing after QUIT runs');
  ok(h.transport.closed);
  deepEqual(h.backend.closedWith, ['quit']);
  equal(h.session.phase(), 'closed');
});

test('session: authenticated and idle for more than 300 s is closed', () => {
  const h = authed();
  h.send('ping', 10_000);
  h.session.tick(310_000);
  ok(!h.transport.closed, 'exactly 300 s idle is still open');
  h.session.tick(310_001);
  ok(h.transport.closed);
  equal(h.session.closeReason(), 'idle');
});

test('session: peer EOF ends it without closing the transport again', () => {
  const h = attachedQueen();
  h.session.peerClosed();
  deepEqual(h.backend.closedWith, ['peer-closed']);
  ok(!h.transport.closed);
});

test('session: a peer that stops reading (write throws) is dropped', () => {
  const h = authed();
  h.transport.full = true;
  h.send('ping');
  equal(h.session.closeReason(), 'slow-peer');
});

test('session: backend that throws becomes an internal refusal and the session survives', () => {
  const h = attachedQueen();
  h.backend.ls = () => {
    throw new Error('boom');
  };
  h.send('ls /');
  deepEqual(h.out(), ['ERR LS reason=busy detail=internal path=/ error=internal error']);
  h.send('ping');
  deepEqual(h.out(), ['OK PING reply=pong', 'PONG']);
});

test('session: refusals increment pressure by class; stream content never does', () => {
  const h = attachedQueen();
  h.backend.files.set('/log/queen.log', ['ERR FAKE reason=quota detail=not-a-reply']);
  h.send('tail /log/queen.log');
  h.send('frobnicate');
  h.send('test');
  deepEqual(h.backend.notes.filter((n) => n.kind === 'refusal').map((n) => n.kind === 'refusal' && `${n.label}:${n.cls}`), ['PARSE:policy', 'TEST:policy']);
});

// --- async backend, ordering and the inbound queue ------------------------------------------

test('session async: replies keep command order while answers are pending', async () => {
  const h = attachedQueen();
  h.backend.async = true;
  h.session.receive(new Uint8Array([...frame('ls /'), ...frame('ping'), ...frame('cat /proc/boot')]), 2);
  deepEqual(h.out(), [], 'ls waits for its answer; ping waits behind it');
  await settle();
  deepEqual(h.out(), [
    'OK LS path=/ entries=5', 'gpu', 'log', 'proc', 'queen', 'worker', 'END',
    'OK PING reply=pong', 'PONG',
    'OK CAT path=/proc/boot data=Cohesix boot: root-task online|ready', 'Cohesix boot: root-task online', '[net] up', 'ready', 'END',
  ]);
});

test('session async: SPAWN ACK goes out before the pending action resolves', async () => {
  const h = attachedQueen();
  h.backend.hold = true;
  h.send('spawn {"spawn":"heartbeat","ticks":1}');
  deepEqual(h.out(), ['OK SPAWN payload={"spawn":"heartbeat","ticks":1}']);
  h.backend.fail.spawn = new ProviderError('denied');
  h.backend.release();
  await settle();
  deepEqual(h.out(), ['ERR SPAWN reason=policy detail=denied error=EPERM']);
});

test('session: bytes past the backlog bound (a transport that ignored the pause) cut the session with ERR FRAME', () => {
  const h = attachedQueen();
  h.backend.hold = true;
  h.send('ls /');
  const line = frame(`echo /log/queen.log ${'x'.repeat(100)}`);
  let n = 0;
  while (!h.transport.closed && n < 10_000) {
    h.session.receive(line, 3);
    n++;
  }
  ok(h.transport.closed);
  equal(h.out().at(-1), 'ERR FRAME reason=busy detail=backlog-full');
  equal(h.session.closeReason(), 'backlog-full');
  ok(n * line.length > 65_536, 'not before the bound');
});

test('session async: an answer arriving after close writes nothing', async () => {
  const h = attachedQueen();
  h.backend.hold = true;
  h.send('ls /');
  h.session.peerClosed();
  h.backend.release();
  await settle();
  deepEqual(h.out(), []);
});
