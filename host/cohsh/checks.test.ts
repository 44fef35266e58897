// Client-side checks of spec §4.3 with their exact messages: paths, JSON values, echo syntax, roles and worker tickets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkJsonValue, checkPath, ECHO_SYNTAX_MESSAGE, parseEchoArgs, resolveRole, roleDisplayName } from './checks.js';
import { CohshError } from './errors.js';
import { mintRoleTicket } from './mint.js';
import { checkAttachTicket } from './ticket-check.js';

const m = (v: unknown) => (v instanceof CohshError ? v.message : v);

test('paths: absolute, no . or .. or empty components or NUL, at most 8 components', () => {
  assert.equal(checkPath('/'), '/');
  assert.equal(checkPath('/proc/'), '/proc');
  assert.equal(checkPath('/a/b/c/d/e/f/g/h'), '/a/b/c/d/e/f/g/h');
  assert.equal(m(checkPath('proc')), "invalid path 'proc': must be absolute");
  assert.equal(m(checkPath('/proc/../x')), "invalid path '/proc/../x': '..' is not allowed");
  assert.equal(m(checkPath('/proc/./x')), "invalid path '/proc/./x': '.' is not allowed");
  assert.equal(m(checkPath('/a//b')), "invalid path '/a//b': empty component");
  assert.equal(m(checkPath('/a\0b')), "invalid path '/a\\0b': contains NUL");
  assert.equal(m(checkPath('/a/b/c/d/e/f/g/h/i')), "invalid path '/a/b/c/d/e/f/g/h/i': more than 8 components");
});

test('JSON values refuse quotes, backslashes and control characters', () => {
  assert.equal(checkJsonValue('id', 'worker-1'), 'worker-1');
  for (const bad of ['a"b', 'a\\b', 'a\nb', 'a\u0001b']) {
    assert.equal(m(checkJsonValue('id', bad)), 'invalid value for id: contains a quote, backslash or control character');
  }
});

test('echo syntax: text > path, outer quotes stripped, refusals use the spec message', () => {
  assert.deepEqual(parseEchoArgs('hello world > /log/queen.log'), { text: 'hello world', path: '/log/queen.log' });
  assert.deepEqual(parseEchoArgs('"quoted > inside" > /x'), { text: 'quoted > inside', path: '/x' });
  assert.deepEqual(parseEchoArgs("'single' >/x"), { text: 'single', path: '/x' });
  for (const bad of ['hello', '> /x', 'hello >', '']) assert.equal(m(parseEchoArgs(bad)), ECHO_SYNTAX_MESSAGE);
  assert.equal(ECHO_SYNTAX_MESSAGE, 'echo requires syntax: echo <text> > <path>');
  assert.equal(m(parseEchoArgs('x > relative')), "invalid path 'relative': must be absolute");
});

test('roles: labels case-insensitive, worker means worker-heartbeat, display names', () => {
  assert.equal(resolveRole('QUEEN'), 'queen');
  assert.equal(resolveRole('worker'), 'worker-heartbeat');
  assert.equal(resolveRole('observer'), null);
  assert.equal(roleDisplayName('queen'), 'Queen');
  assert.equal(roleDisplayName('worker-heartbeat'), 'WorkerHeartbeat');
});

test('worker tickets: required, decodable, role-matching, with subject, at most 224 characters', () => {
  const hb = mintRoleTicket('worker-heartbeat', 'worker-1', 'worker', 0) as string;
  const queen = mintRoleTicket('queen', null, 'bootstrap', 0) as string;
  assert.equal(checkAttachTicket('queen', null), null);
  assert.equal(checkAttachTicket('queen', queen), null);
  assert.equal(checkAttachTicket('worker-heartbeat', hb), null);
  assert.equal(m(checkAttachTicket('worker-heartbeat', null)), 'attach worker-heartbeat requires a ticket (mint one with --mint-ticket)');
  assert.equal(m(checkAttachTicket('worker-gpu', hb)), 'ticket role mismatch: ticket is for worker-heartbeat, not worker-gpu');
  assert.equal(m(checkAttachTicket('worker-heartbeat', 'nope')), 'ticket invalid: missing cohesix-ticket- prefix');
  assert.equal(m(checkAttachTicket('worker-heartbeat', 'x'.repeat(225))), 'ticket longer than 224 characters');
  // A subjectless heartbeat ticket (the §8.3 queen vector's shape, for another role) is refused.
  const noSubject = 'cohesix-ticket-010100' + '00'.repeat(8 + 4) + '.' + '00'.repeat(32);
  assert.equal(m(checkAttachTicket('worker-heartbeat', noSubject)), 'ticket has no subject; worker tickets need --ticket-subject');
});
