// Control files: the raw write is kept before the handler runs, refusals pass through, gates and bounds come first.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import type { OpenFile } from '../secure9p/fileserver.js';
import { ControlLog } from './control.js';
import { CONTROL_RETAINED_BYTES_MAX } from './limits.js';
import { ControlFile, type IoContext } from './nodes.js';

function io(gateShut = false): IoContext {
  return {
    who: { role: 'queen', identity: null, claims: null },
    session: { id: 1, who: () => null, bind: () => null, mount: () => null },
    canon: ['queen', 'ctl'],
    nowMs: () => 5,
    gate: (g) => (gateShut ? new NineError('Permission', `closed ${g}`) : null),
    tickAvailable: () => null,
    tickSpent: () => undefined,
  };
}

const open = (f: ControlFile, shut = false) => f.open('write', io(shut)) as OpenFile;

test('control: a write reaches the handler as text and returns the full byte count', () => {
  const seen: string[] = [];
  const f = new ControlFile((t) => void seen.push(t));
  const line = '{"spawn":"heartbeat","ticks":100}\n';
  equal(open(f).write?.(0n, utf8Encode(line)), line.length);
  deepEqual(seen, [line]);
  equal(f.size(), line.length, 'stat size = kept bytes');
});

test('control: a refusal comes back as the handler gave it, and the raw write is still kept', () => {
  const f = new ControlFile(() => new NineError('Invalid', 'invalid payload'));
  const r = open(f).write?.(0n, utf8Encode('{"bogus":1}'));
  ok(r instanceof NineError && r.code === 'Invalid');
  equal(utf8Decode(f.log.bytes()), '{"bogus":1}');
});

test('control: handlers may answer later', async () => {
  const f = new ControlFile(() => Promise.resolve(undefined));
  equal(await open(f).write?.(0n, utf8Encode('cordon')), 6);
});

test('control: non-UTF-8 queen ctl write is kept as its raw record, then refused Invalid without reaching the handler', () => {
  // Bug: a non-UTF-8 write was refused before it was kept; spec §7 keeps the raw write before
  // parsing (UTF-8 is the parse's first rule), as for any other invalid payload.
  const seen: string[] = [];
  const f = new ControlFile((t) => void seen.push(t));
  equal(open(f).write?.(0n, utf8Encode('{"kill":"worker-1"}\n')), 20);
  const r = open(f).write?.(0n, new Uint8Array([0xc0, 0x80, 0x0a]));
  ok(r instanceof NineError && r.code === 'Invalid' && r.message === 'control write is not UTF-8');
  deepEqual(seen, ['{"kill":"worker-1"}\n']);
  deepEqual(Array.from(f.log.bytes().subarray(-3)), [0xc0, 0x80, 0x0a], 'the raw bytes are kept');
  equal(f.size(), 23);
});

test('control: a closed gate refuses before anything is kept; an oversize write is TooBig', () => {
  const f = new ControlFile(() => undefined, 'host-publish', 8);
  const r = open(f, true).write?.(0n, utf8Encode('begin'));
  ok(r instanceof NineError && r.code === 'Permission');
  equal(f.log.bytes().length, 0);
  const big = open(f).write?.(0n, utf8Encode('123456789'));
  ok(big instanceof NineError && big.code === 'TooBig');
});

test('control: the retained log is bounded, oldest bytes dropped', () => {
  const log = new ControlLog();
  log.append(new Uint8Array(CONTROL_RETAINED_BYTES_MAX).fill(0x61));
  log.append(utf8Encode('zz'));
  equal(log.bytes().length, CONTROL_RETAINED_BYTES_MAX);
  equal(utf8Decode(log.bytes().subarray(-3)), 'azz');
});
