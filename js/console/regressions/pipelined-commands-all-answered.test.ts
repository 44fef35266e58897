// Regression, issue 13 bug 3 (pipelined commands past the queue were dropped): frames wait undecoded with reads paused, none dropped, order kept.
import { test, deepEqual, equal, ok } from '../../testkit/index.js';
import { attachedQueen, frame, settle } from '../session.support.js';

test('session pipelined commands are all answered (issue 13 bug 3): 8 wait, the rest stay unread with reads paused, none dropped', async () => {
  const h = attachedQueen();
  h.backend.hold = true;
  const lines = ['ls /', ...Array.from({ length: 100 }, (_, i) => `echo /log/queen.log pipelined-${i}`)];
  h.session.receive(new Uint8Array(lines.flatMap((l) => [...frame(l)])), 2);
  const c = h.session.queueCounters();
  equal(c.waiting, 8, 'the queue is full');
  equal(c.dropped, 0);
  ok(c.backlogBytes > 0, 'the rest is held undecoded');
  ok(h.transport.paused, 'reads are paused while the queue is full');
  for (let i = 0; i < 200 && h.backend.release() > 0; i++) await settle();
  const echoes = h.out().filter((l) => l.startsWith('OK ECHO'));
  deepEqual(echoes, Array.from({ length: 100 }, (_, i) => `OK ECHO path=/log/queen.log bytes=${`pipelined-${i}`.length}`));
  equal(h.session.queueCounters().dropped, 0);
  equal(h.session.queueCounters().backlogBytes, 0);
  ok(!h.transport.paused, 'reads resume once the backlog is drained');
  deepEqual(h.backend.notes.filter((n) => n.kind === 'inbound-dropped'), []);
});

test('session pipelined commands are all answered: bytes that come while paused wait behind the backlog, in order', async () => {
  const h = attachedQueen();
  h.backend.hold = true;
  h.send('ls /');
  for (let i = 0; i < 20; i++) h.send(`echo /log/queen.log m${i}`);
  ok(h.transport.paused);
  for (let i = 0; i < 100 && h.backend.release() > 0; i++) await settle();
  const echoes = h.out().filter((l) => l.startsWith('OK ECHO'));
  equal(echoes.length, 20);
  ok(h.trace.filter((t) => t.startsWith('call echo')).every((t, i) => t === `call echo /log/queen.log m${i}`));
});
