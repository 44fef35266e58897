// Control files hand their text to the injected policy, keep the raw write, and pass refusals through unchanged.
import { test, equal, deepEqual, ok } from '../testkit/index.js';
import { utf8Decode, utf8Encode } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import type { Principal } from '../secure9p/fileserver.js';
import { ControlLog, openControl, type ControlPolicy } from './control.js';
import { CONTROL_RETAINED_BYTES_MAX } from './limits.js';

const QUEEN: Principal = { role: 'queen', identity: null, claims: null };

function policy(seen: string[], refuse = false): ControlPolicy {
  return {
    queenCtl: (t) => {
      seen.push(`queen:${t}`);
      return refuse ? new NineError('Invalid', 'invalid payload') : undefined;
    },
    lifecycleCtl: (t) => {
      seen.push(`lifecycle:${t}`);
      return Promise.resolve(undefined);
    },
  };
}

test('control: a /queen/ctl write reaches the policy and returns the full byte count', () => {
  const seen: string[] = [];
  const f = openControl('queen', new ControlLog(), policy(seen), QUEEN);
  const line = '{"spawn":"heartbeat","ticks":100}\n';
  equal(f.write?.(0n, utf8Encode(line)), line.length);
  deepEqual(seen, [`queen:${line}`]);
});

test('control: a refusal comes back as the policy gave it, and the raw write is still kept', () => {
  const log = new ControlLog();
  const f = openControl('queen', log, policy([], true), QUEEN);
  const r = f.write?.(0n, utf8Encode('{"bogus":1}'));
  ok(r instanceof NineError && r.code === 'Invalid');
  equal(utf8Decode(log.bytes()), '{"bogus":1}');
});

test('control: lifecycle writes may be answered later', async () => {
  const seen: string[] = [];
  const f = openControl('lifecycle', new ControlLog(), policy(seen), QUEEN);
  equal(await f.write?.(0n, utf8Encode('cordon')), 6);
  deepEqual(seen, ['lifecycle:cordon']);
});

test('control: non-UTF-8 is Invalid and never reaches the policy', () => {
  const seen: string[] = [];
  const r = openControl('queen', new ControlLog(), policy(seen), QUEEN).write?.(0n, new Uint8Array([0xc0, 0x80]));
  ok(r instanceof NineError && r.code === 'Invalid');
  deepEqual(seen, []);
});

test('control: the retained log is bounded, oldest bytes dropped', () => {
  const log = new ControlLog();
  log.append(new Uint8Array(CONTROL_RETAINED_BYTES_MAX).fill(0x61));
  log.append(utf8Encode('zz'));
  equal(log.bytes().length, CONTROL_RETAINED_BYTES_MAX);
  equal(utf8Decode(log.bytes().subarray(-3)), 'azz');
});
