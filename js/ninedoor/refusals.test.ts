// Every refused check in NineDoor leaves one bounded audit line (issue 13, bug 10): attach, traversal, role views, ticket scopes, floods.
import { test, equal, ok } from '../testkit/index.js';
import { encodeMessage } from '../secure9p/codec.js';
import { Errno } from '../secure9p/errors.js';
import { AUDIT_INTERVAL_MS, AUDIT_LINES_PER_INTERVAL_MAX, QUEEN_LOG_AUDIT_BYTES_MAX } from './limits.js';
import { NOW_MS, hive, refused, ticket, type Client } from './door.support.js';

const refusals = (lines: string[]) => lines.filter((l) => l.startsWith('[audit] refused '));

/** A Twalk with `..` as raw bytes: our encoder refuses to make one. */
function traversalWalk(c: Client): void {
  const head = encodeMessage({ kind: 'Twalk', tag: 9, fid: 0, newfid: 77, names: ['x'] });
  const body = new Uint8Array(head.length + 1);
  body.set(head);
  body[head.length - 3] = 2; // name length 2
  body[head.length - 1] = 0x2e;
  body[head.length] = 0x2e; // 'x' became '..'
  body[0] = body.length;
  c.ns.session.handleFrame(body);
}

test('refusals: forged and expired tickets, a traversal, a cross-worker walk and a worker write to /queen/ctl each leave a line', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  h.door.addWorker('worker-2', 'heartbeat');
  const forged = ticket({ role: 'queen', subject: 'mallory' }).replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
  refused(h.client('', forged).attachReply, Errno.EACCES, 'forged');
  const expired = ticket({ role: 'worker-heartbeat', subject: 'worker-1', issuedAtMs: BigInt(NOW_MS - 10_000), ttlS: 1n });
  refused(h.client('', expired).attachReply, Errno.EACCES, 'expired');
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  traversalWalk(w);
  refused(w.walk('/worker/worker-2/telemetry'), Errno.EPERM, 'cross-worker');
  refused(w.append('/queen/ctl', '{"spawn":"heartbeat","ticks":1}'), Errno.EPERM, 'worker → /queen/ctl');
  const lines = refusals(h.door.logLines());
  equal(lines.length, 5, lines.join('\n'));
  equal(lines[0], '[audit] refused src=9p op=attach role=queen subject=- path=/ reason=ticket-rejected');
  ok(/op=attach .*reason=ticket-expired$/.test(lines[1]), lines[1]);
  equal(lines[2], '[audit] refused src=9p op=walk role=worker-heartbeat subject=worker-1 path=- reason=traversal');
  equal(lines[3], '[audit] refused src=9p op=walk role=worker-heartbeat subject=worker-1 path=/shard/1c reason=permission');
  equal(lines[4], '[audit] refused src=9p op=walk role=worker-heartbeat subject=worker-1 path=/queen reason=permission');
  for (const l of lines) ok(h.sink.includes(l), 'mirrored to the firmware log');
});

test('refusals: listing a directory hides what a worker may not walk without calling that a refusal', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  const names = w.ls('/proc');
  ok(Array.isArray(names) && names.includes('boot') && !names.includes('tests'), JSON.stringify(names));
  equal(refusals(h.door.logLines()).length, 0);
});

test('refusals: a flood is summarised and the operator lines survive it', () => {
  const h = hive();
  h.door.addWorker('worker-1', 'heartbeat');
  const q = h.client();
  q.append('/log/queen.log', 'operator: before the flood');
  const w = h.client('', ticket({ role: 'worker-heartbeat', subject: 'worker-1' }));
  const flood = 5000;
  for (let i = 0; i < flood; i++) {
    h.clock.now = NOW_MS + Math.floor((i * AUDIT_INTERVAL_MS * 20) / flood); // twenty intervals
    refused(w.walk('/queen/ctl'), Errno.EPERM);
  }
  h.clock.now += AUDIT_INTERVAL_MS;
  refused(w.walk('/queen/ctl'), Errno.EPERM); // closes the last interval
  const log = h.door.logLines();
  ok(log.includes('operator: before the flood'), 'the operator line survives');
  const audit = log.filter((l) => l.startsWith('[audit] '));
  ok(audit.reduce((n, l) => n + l.length + 1, 0) <= QUEEN_LOG_AUDIT_BYTES_MAX, 'audit lines hold their share only');
  const sunk = h.sink.filter((l) => l.startsWith('[audit] refused '));
  ok(sunk.length <= 21 * AUDIT_LINES_PER_INTERVAL_MAX && sunk.length < flood / 10, `rate-bounded: ${sunk.length} lines`);
  const summed = h.sink.filter((l) => l.startsWith('[audit] refusals suppressed ')).reduce((n, l) => n + Number(/count=(\d+)/.exec(l)?.[1]), 0);
  equal(sunk.length + summed, flood + 1, 'every refusal is either a line or counted in a summary');
});

test('refusals: ticket scope denials keep their spec line, under the same bounds', () => {
  const h = hive();
  const t = ticket({ role: 'queen', subject: 'ui', scopes: [{ path: '/proc', verb: 'read', ratePerS: 0 }] });
  const c = h.client('', t);
  for (let i = 0; i < 50; i++) refused(c.walk('/log/queen.log'), Errno.EPERM);
  const deny = h.door.logLines().filter((l) => l.startsWith('ui-ticket outcome=deny'));
  ok(deny.length >= 1 && deny.length < 50, `bounded: ${deny.length}`);
  equal(deny[0], 'ui-ticket outcome=deny reason=scope role=queen ticket=ui path=/log verb=read');
});
