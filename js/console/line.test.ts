// UART line discipline: CR, LF, backspace/DEL with echo, control characters, the 256-byte bound.
import { test, equal, deepEqual } from '../testkit/index.js';
import { utf8Encode } from '../bytes/utf8.js';
import { ERASE_ECHO, LineDiscipline } from './line.js';

const feed = (d: LineDiscipline, s: string | number[]) => d.push(typeof s === 'string' ? utf8Encode(s) : new Uint8Array(s));

test('line: LF ends a line and echoes CRLF', () => {
  deepEqual(feed(new LineDiscipline(), 'ping\n'), { echo: 'ping\r\n', events: [{ kind: 'line', text: 'ping' }] });
});

test('line: CR is ignored (CRLF terminals give one line)', () => {
  deepEqual(feed(new LineDiscipline(), 'pi\rng\r\n').events, [{ kind: 'line', text: 'ping' }]);
});

test('line: backspace 0x08 erases one character and echoes BS SP BS', () => {
  const r = feed(new LineDiscipline(), [0x70, 0x69, 0x78, 0x08, 0x6e, 0x67, 0x0a]);
  deepEqual(r.events, [{ kind: 'line', text: 'ping' }]);
  equal(r.echo, `pix${ERASE_ECHO}ng\r\n`);
});

test('line: DEL 0x7f erases like backspace', () => {
  deepEqual(feed(new LineDiscipline(), [0x61, 0x62, 0x7f, 0x0a]).events, [{ kind: 'line', text: 'a' }]);
});

test('line: backspace on an empty line does nothing and echoes nothing', () => {
  deepEqual(feed(new LineDiscipline(), [0x08, 0x7f, 0x61, 0x0a]), { echo: 'a\r\n', events: [{ kind: 'line', text: 'a' }] });
});

test('line: backspace erases a whole multi-byte character', () => {
  const r = feed(new LineDiscipline(), [...utf8Encode('aé'), 0x08, 0x0a]);
  deepEqual(r.events, [{ kind: 'line', text: 'a' }]);
  equal(r.echo, `aé${ERASE_ECHO}\r\n`);
});

test('line: a multi-byte character is echoed once whole, even split across chunks', () => {
  const d = new LineDiscipline();
  equal(d.push(new Uint8Array([0xe2, 0x82])).echo, '');
  equal(d.push(new Uint8Array([0xac])).echo, '€');
});

test('line: other control characters (NUL, TAB, ESC, BEL) are dropped without echo', () => {
  const r = feed(new LineDiscipline(), [0x00, 0x6c, 0x09, 0x73, 0x1b, 0x07, 0x0a]);
  deepEqual(r, { echo: 'ls\r\n', events: [{ kind: 'line', text: 'ls' }] });
});

test('line: a line of exactly 256 bytes passes', () => {
  deepEqual(feed(new LineDiscipline(), 'a'.repeat(256) + '\n').events, [{ kind: 'line', text: 'a'.repeat(256) }]);
});

test('line: a line of 257 bytes is discarded with an overlong event at its LF, and the tail never runs', () => {
  const d = new LineDiscipline();
  const r = feed(d, 'a'.repeat(256) + 'kill worker-1\nping\n');
  deepEqual(r.events, [{ kind: 'overlong' }, { kind: 'line', text: 'ping' }]);
  equal(r.echo, 'a'.repeat(256) + '\r\nping\r\n', 'echo stops at the bound');
  equal(d.buffered(), 0);
});

test('line: invalid UTF-8 in a line is reported, not passed on', () => {
  deepEqual(feed(new LineDiscipline(), [0x61, 0xff, 0x0a]).events, [{ kind: 'invalid-utf8' }]);
});

test('line: an empty line is still a line (the parser answers `empty command`)', () => {
  deepEqual(feed(new LineDiscipline(), '\r\n').events, [{ kind: 'line', text: '' }]);
});
