// LineStore and LineReader (issue 13, bug 9): whole lines evicted, audit lines held to their share, readers never start mid-line.
import { test, equal, ok } from '../testkit/index.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { LineReader, LineStore } from './store.js';

const put = (s: LineStore, line: string) => s.append(utf8Encode(line));
const text = (b: Uint8Array) => utf8Decode(b) ?? '';

test('store: the log ring evicts whole records: after many wraps the window starts with a whole line', () => {
  const s = new LineStore(256, 64);
  for (let i = 0; i < 500; i++) put(s, `{"tick":${i},"ts_ms":${1796682591511 + i}}`.slice(0, 10 + (i % 30)));
  const w = text(s.bytes());
  ok(w.length <= 256);
  const first = w.split('\n')[0];
  ok(s.lines().includes(first), 'the window opens with a line that was appended whole');
});

test('store: a reader that goes on after lines were dropped under it never starts mid-line (test_log_ring_evicts_whole_records)', () => {
  const s = new LineStore(200, 64);
  for (let i = 0; i < 10; i++) put(s, `line-${i}-${'x'.repeat(i)}`);
  const r = new LineReader(s);
  const first = text(r.read(0n, 25));
  for (let i = 10; i < 40; i++) put(s, `line-${i}-${'x'.repeat(i % 7)}`);
  let rest = '';
  let at = BigInt(first.length);
  for (;;) {
    const b = r.read(at, 25);
    if (b.length === 0) break;
    rest += text(b);
    at += BigInt(b.length);
  }
  const whole = first + rest;
  // The snapshot the first read took goes on to its end, then the lines appended since follow.
  for (const line of whole.split('\n').filter((l) => l !== '')) ok(/^line-\d+-x*$/.test(line), `a whole line: ${line}`);
  ok(whole.endsWith('line-39-xxxx\n'), 'and it reaches the newest line');
});

test('store: a reader at the end sees only what is appended after (a 9P tail -f)', () => {
  const s = new LineStore(1024, 64);
  put(s, 'one');
  const r = new LineReader(s);
  equal(text(r.read(0n, 100)), 'one\n');
  equal(r.read(4n, 100).length, 0);
  put(s, 'two');
  equal(text(r.read(4n, 100)), 'two\n');
});

test('store: budgeted lines hold only their share, so a flood of them leaves the other lines in place', () => {
  const s = new LineStore(1000, 100, { prefixes: ['[audit] '], bytesMax: 250 });
  put(s, 'operator: first');
  put(s, 'operator: second');
  for (let i = 0; i < 500; i++) put(s, `[audit] refused src=9p op=walk n=${i}`);
  const lines = s.lines();
  ok(lines.includes('operator: first') && lines.includes('operator: second'), 'operator lines survive the flood');
  const audit = lines.filter((l) => l.startsWith('[audit] '));
  ok(audit.reduce((n, l) => n + l.length + 1, 0) <= 250, 'audit lines within their share');
  equal(audit[audit.length - 1], '[audit] refused src=9p op=walk n=499', 'the newest audit line is kept');
});
