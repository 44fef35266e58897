// /queen/ctl parsing (spec §7): each accepted shape, and each malformed line named after the refusal it provokes.
import { test, equal, deepEqual, ok } from '../../testkit/index.js';
import { NineError } from '../../secure9p/errors.js';
import { ctlLines, parseQueenCtlLine } from './ctl-parse.js';

function invalid(line: string, why: string): void {
  const r = parseQueenCtlLine(line);
  ok(r instanceof NineError, `${line}: expected Invalid, got ${JSON.stringify(r)}`);
  equal(r.code, 'Invalid', line);
  equal(r.message, `invalid payload: ${why}`, line);
}

test('ctl-parse: spawn heartbeat with and without a budget; an omitted budget member is null (unbounded)', () => {
  deepEqual(parseQueenCtlLine('{"spawn":"heartbeat","ticks":100}'), { kind: 'spawn-heartbeat', ticks: 100, budget: null });
  deepEqual(parseQueenCtlLine('{"spawn":"heartbeat","ticks":5,"budget":{"ttl_s":10}}'),
    { kind: 'spawn-heartbeat', ticks: 5, budget: { ttlS: 10, ops: null } });
  deepEqual(parseQueenCtlLine(' {"budget":{},"ticks":1,"spawn":"heartbeat"} '),
    { kind: 'spawn-heartbeat', ticks: 1, budget: { ttlS: null, ops: null } });
});

test('ctl-parse: spawn gpu; priority defaults to 0 (spec §17.2)', () => {
  deepEqual(parseQueenCtlLine('{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":4096,"streams":2,"ttl_s":60}}'), {
    kind: 'spawn-gpu', lease: { gpuId: 'GPU-0', memMb: 4096, streams: 2, ttlS: 60, priority: 0 }, budget: null,
  });
  deepEqual(parseQueenCtlLine('{"spawn":"gpu","lease":{"gpu_id":"GPU-1","mem_mb":1,"streams":255,"ttl_s":1,"priority":7},"budget":{"ops":3}}'), {
    kind: 'spawn-gpu', lease: { gpuId: 'GPU-1', memMb: 1, streams: 255, ttlS: 1, priority: 7 }, budget: { ttlS: null, ops: 3 },
  });
});

test('ctl-parse: kill, budget, bind, mount', () => {
  deepEqual(parseQueenCtlLine('{"kill":"worker-3"}'), { kind: 'kill', workerId: 'worker-3' });
  deepEqual(parseQueenCtlLine('{"budget":{"ttl_s":30,"ops":7}}'), { kind: 'budget', budget: { ttlS: 30, ops: 7 } });
  deepEqual(parseQueenCtlLine('{"bind":{"from":"/log","to":"/proc/mylog"}}'), { kind: 'bind', from: '/log', to: '/proc/mylog' });
  deepEqual(parseQueenCtlLine('{"mount":{"service":"logs","at":"/proc/logs"}}'), { kind: 'mount', service: 'logs', at: '/proc/logs' });
});

test('ctl-parse: malformed JSON → Invalid', () => {
  invalid('{"spawn":"heartbeat",', 'not JSON');
  invalid("{'kill':'worker-1'}", 'not JSON');
  invalid('spawn heartbeat ticks=5', 'not JSON');
});

test('ctl-parse: not an object, or no command → Invalid', () => {
  invalid('[1,2]', 'command must be an object');
  invalid('"kill"', 'command must be an object');
  invalid('null', 'command must be an object');
  invalid('{}', 'no command');
});

test('ctl-parse: more than one command → Invalid', () => {
  invalid('{"kill":"worker-1","budget":{"ops":1}}', 'more than one command: kill,budget');
  invalid('{"bind":{"from":"/log","to":"/x"},"mount":{"service":"logs","at":"/y"}}', 'more than one command: bind,mount');
});

test('ctl-parse: unknown field, at the top and inside each object → Invalid', () => {
  invalid('{"spawn":"heartbeat","ticks":1,"colour":"red"}', 'unknown field colour');
  invalid('{"spawn":"heartbeat","ticks":1,"lease":{}}', 'unknown field lease');
  invalid('{"spawn":"gpu","ticks":1,"lease":{"gpu_id":"GPU-0","mem_mb":1,"streams":1,"ttl_s":1}}', 'unknown field ticks');
  invalid('{"spawn":"heartbeat","ticks":1,"budget":{"ttl_s":1,"ticks":2}}', 'unknown field budget.ticks');
  invalid('{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":1,"streams":1,"ttl_s":1,"cores":2}}', 'unknown field lease.cores');
  invalid('{"kill":"worker-1","why":"because"}', 'unknown field why');
  invalid('{"budget":{"ttl_s":1,"ticks":5}}', 'unknown field budget.ticks');
  invalid('{"bind":{"from":"/log","to":"/x","mode":"ro"}}', 'unknown field bind.mode');
  invalid('{"mount":{"service":"logs","at":"/x","ro":true}}', 'unknown field mount.ro');
});

test('ctl-parse: missing ticks or lease → Invalid', () => {
  invalid('{"spawn":"heartbeat"}', 'missing ticks');
  invalid('{"spawn":"heartbeat","budget":{"ttl_s":1}}', 'missing ticks');
  invalid('{"spawn":"gpu"}', 'missing lease');
  invalid('{"spawn":"gpu","lease":{"gpu_id":"GPU-0","streams":1,"ttl_s":1}}', 'lease.mem_mb must be an integer 0..4294967295');
});

test('ctl-parse: spawn of another kind → Invalid', () => {
  invalid('{"spawn":"worker","ticks":1}', 'spawn must be "heartbeat" or "gpu"');
  invalid('{"spawn":"lora","ticks":1}', 'spawn must be "heartbeat" or "gpu"');
});

test('ctl-parse: streams 0 → Invalid; u8/u32/u64 ranges and non-integers → Invalid', () => {
  invalid('{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":1,"streams":0,"ttl_s":1}}', 'lease.streams must be at least 1');
  invalid('{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":1,"streams":256,"ttl_s":1}}', 'lease.streams must be an integer 0..255');
  invalid('{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":1,"streams":1,"ttl_s":1,"priority":300}}', 'lease.priority must be an integer 0..255');
  invalid('{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":4294967296,"streams":1,"ttl_s":1}}', 'lease.mem_mb must be an integer 0..4294967295');
  invalid('{"spawn":"heartbeat","ticks":-1}', 'ticks must be an integer 0..9007199254740991');
  invalid('{"spawn":"heartbeat","ticks":1.5}', 'ticks must be an integer 0..9007199254740991');
  invalid('{"spawn":"heartbeat","ticks":"5"}', 'ticks must be an integer 0..9007199254740991');
  invalid('{"spawn":"heartbeat","ticks":18446744073709551615}', 'ticks must be an integer 0..9007199254740991');
  invalid('{"budget":{"ops":null}}', 'budget.ops must be an integer 0..9007199254740991');
  invalid('{"spawn":"gpu","lease":{"gpu_id":"","mem_mb":1,"streams":1,"ttl_s":1}}', 'lease.gpu_id must be a non-empty string');
  invalid('{"spawn":"gpu","lease":{"gpu_id":"../x","mem_mb":1,"streams":1,"ttl_s":1}}', "lease.gpu_id: name contains '/'");
});

test('ctl-parse: relative paths, . and .., and / as a target → Invalid', () => {
  invalid('{"bind":{"from":"log","to":"/x"}}', 'bind.from log is not absolute');
  invalid('{"bind":{"from":"/log","to":"x"}}', 'bind.to x is not absolute');
  invalid('{"bind":{"from":"/log/../proc","to":"/x"}}', "bind.from /log/../proc: name is '..'");
  invalid('{"bind":{"from":"/log/.","to":"/x"}}', "bind.from /log/.: name is '.'");
  invalid('{"bind":{"from":"/log","to":"/"}}', 'bind.to must not be /');
  invalid('{"mount":{"service":"logs","at":"/"}}', 'mount.at must not be /');
  invalid('{"mount":{"service":"logs","at":"proc"}}', 'mount.at proc is not absolute');
  invalid('{"mount":{"service":"a/b","at":"/x"}}', "mount.service: name contains '/'");
});

test('ctl-parse: kill needs a worker id string', () => {
  invalid('{"kill":3}', 'kill must be a non-empty string');
  invalid('{"kill":"a/b"}', 'kill must name a worker id');
  invalid(`{"kill":"${'w'.repeat(33)}"}`, 'kill must name a worker id');
});

test('ctl-parse: blank lines are skipped, order kept', () => {
  deepEqual(ctlLines('\n{"a":1}\n  \n{"b":2}\r\n\n'), ['{"a":1}', '{"b":2}\r']);
});
