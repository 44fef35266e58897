// Request parsing: every verb's arguments and limits, and every ERR PARSE message of spec §3.2.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { ParseError, parseRequest } from './request.js';

function refusal(line: string): string {
  const r = parseRequest(line);
  ok(r instanceof ParseError, `expected a refusal for ${JSON.stringify(line)}, got ${JSON.stringify(r)}`);
  return r.line();
}

const P = 'ERR PARSE reason=policy detail=';

test('request: empty and blank lines are `empty command`', () => {
  equal(refusal(''), `${P}empty command`);
  equal(refusal('   \t '), `${P}empty command`);
});

test('request: unknown verb is `unsupported console command`', () => {
  equal(refusal('frobnicate /x'), `${P}unsupported console command`);
  equal(refusal('observer'), `${P}unsupported console command`);
});

test('request: a line over 256 bytes is `console line exceeded maximum length`', () => {
  equal(refusal('echo /log/queen.log ' + 'x'.repeat(237)), `${P}console line exceeded maximum length`);
  ok(!(parseRequest('help ' + 'x'.repeat(251)) instanceof ParseError), '256 bytes is fine');
});

test('request: verbs are case-insensitive and the line is trimmed', () => {
  deepEqual(parseRequest('  PiNg  '), { verb: 'ping' });
  deepEqual(parseRequest('\tLS   /proc  '), { verb: 'ls', path: '/proc' });
});

test('request: plain verbs ignore trailing text', () => {
  for (const v of ['help', 'ping', 'log', 'quit', 'nettest', 'netstats', 'bi', 'caps', 'mem']) {
    deepEqual(parseRequest(`${v} extra words`), { verb: v });
  }
});

test('request: test takes no argument: `invalid value for argument test`', () => {
  deepEqual(parseRequest('test'), { verb: 'test' });
  equal(refusal('test --mode quick'), `${P}invalid value for argument test`);
});

test('request: cachelog defaults to 64 and takes a u16', () => {
  deepEqual(parseRequest('cachelog'), { verb: 'cachelog', count: 64 });
  deepEqual(parseRequest('cachelog 0'), { verb: 'cachelog', count: 0 });
  deepEqual(parseRequest('cachelog 65535'), { verb: 'cachelog', count: 65535 });
  equal(refusal('cachelog 65536'), `${P}invalid value for argument count`);
  equal(refusal('cachelog -1'), `${P}invalid value for argument count`);
  equal(refusal('cachelog ten'), `${P}invalid value for argument count`);
});

test('request: tail/cat/ls take the first token as path', () => {
  deepEqual(parseRequest('tail /log/queen.log trailing'), { verb: 'tail', path: '/log/queen.log' });
  deepEqual(parseRequest('cat /proc/boot'), { verb: 'cat', path: '/proc/boot' });
  for (const v of ['tail', 'cat', 'ls']) equal(refusal(v), `${P}missing required argument: path`);
});

test('request: path limit is 96 bytes', () => {
  const p96 = '/' + 'p'.repeat(95);
  deepEqual(parseRequest(`ls ${p96}`), { verb: 'ls', path: p96 });
  equal(refusal(`ls ${p96}x`), `${P}argument path exceeds allowed length`);
  equal(refusal(`echo ${p96}x hi`), `${P}argument path exceeds allowed length`);
});

test('request: echo takes a path and the rest of the line as payload', () => {
  deepEqual(parseRequest('echo /log/queen.log hello   there'), { verb: 'echo', path: '/log/queen.log', payload: 'hello   there' });
  equal(refusal('echo'), `${P}missing required argument: path`);
  equal(refusal('echo /log/queen.log'), `${P}missing required argument: payload`);
  equal(refusal('echo /log/queen.log    '), `${P}missing required argument: payload`);
});

test('request: echo payload limit is 128 bytes', () => {
  deepEqual(parseRequest(`echo /x ${'e'.repeat(128)}`), { verb: 'echo', path: '/x', payload: 'e'.repeat(128) });
  equal(refusal(`echo /x ${'e'.repeat(129)}`), `${P}argument payload exceeds allowed length`);
});

test('request: attach takes a role and an optional ticket (rest of line)', () => {
  deepEqual(parseRequest('attach queen'), { verb: 'attach', role: 'queen', ticket: null });
  deepEqual(parseRequest('ATTACH Worker cohesix-ticket-ab.cd'), { verb: 'attach', role: 'Worker', ticket: 'cohesix-ticket-ab.cd' });
  equal(refusal('attach'), `${P}missing required argument: role`);
});

test('request: role limit 16, ticket limit 224', () => {
  ok(!(parseRequest(`attach ${'r'.repeat(16)}`) instanceof ParseError));
  equal(refusal(`attach ${'r'.repeat(17)}`), `${P}argument role exceeds allowed length`);
  ok(!(parseRequest(`attach queen ${'t'.repeat(224)}`) instanceof ParseError));
  equal(refusal(`attach queen ${'t'.repeat(225)}`), `${P}argument ticket exceeds allowed length`);
});

test('request: spawn takes raw JSON, limit 192 bytes', () => {
  const j = '{"spawn":"heartbeat","ticks":5}';
  deepEqual(parseRequest(`spawn ${j}`), { verb: 'spawn', json: j });
  equal(refusal('spawn'), `${P}missing required argument: payload`);
  ok(!(parseRequest(`spawn ${'j'.repeat(192)}`) instanceof ParseError));
  equal(refusal(`spawn ${'j'.repeat(193)}`), `${P}argument payload exceeds allowed length`);
});

test('request: kill takes a worker id, limit 32 bytes', () => {
  deepEqual(parseRequest('kill worker-3'), { verb: 'kill', workerId: 'worker-3' });
  equal(refusal('kill'), `${P}missing required argument: worker`);
  ok(!(parseRequest(`kill ${'w'.repeat(32)}`) instanceof ParseError));
  equal(refusal(`kill ${'w'.repeat(33)}`), `${P}argument worker exceeds allowed length`);
});

test('request: limits count UTF-8 bytes, not characters', () => {
  equal(refusal(`kill ${'é'.repeat(17)}`), `${P}argument worker exceeds allowed length`);
});

test('request: extra verbs are recognised only when given, and never shadow spec verbs', () => {
  const extra = new Set(['tasks', 'ping']);
  deepEqual(parseRequest('TASKS all', extra), { verb: 'extra', name: 'tasks', rest: 'all' });
  deepEqual(parseRequest('ping', extra), { verb: 'ping' });
  equal(refusal('tasks'), `${P}unsupported console command`);
});
