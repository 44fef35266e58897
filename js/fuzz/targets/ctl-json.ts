// Fuzz target: /queen/ctl writes: line splitting and the JSON command grammar (spec §7).
import { utf8Decode } from '../../bytes/utf8.js';
import { ctlLines, parseQueenCtlLine } from '../../root-task/policy/ctl-parse.js';
import { NineError } from '../../secure9p/errors.js';
import type { FuzzTarget } from '../target.js';
import { broken, text } from './common.js';

/** Lines of one write the target parses (a write is bounded by msize; this keeps one input's work bounded too). */
const CTL_LINES_MAX = 64;

export const ctlJson: FuzzTarget = {
  name: 'ctl-json',
  maxInputBytes: 2048,
  dictionary: ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e309', '-0', '0x10', '"spawn"', '"heartbeat"', '"gpu"', '"ticks"',
    '"budget"', '"ttl_s"', '"ops"', '"lease"', '"gpu_id"', '"mem_mb"', '"streams"', '"priority"', '"kill"', '"bind"', '"from"',
    '"to"', '"mount"', '"service"', '"at"', '"/proc/x"', '"__proto__"', '"constructor"', '4294967296', '9007199254740993', '\n'],
  seeds: () => text('{"spawn":"heartbeat","ticks":100}', '{"spawn":"heartbeat","ticks":5,"budget":{"ttl_s":10}}',
    '{"spawn":"gpu","lease":{"gpu_id":"GPU-0","mem_mb":4096,"streams":2,"ttl_s":60}}', '{"kill":"worker-3"}',
    '{"budget":{"ttl_s":30,"ops":7}}', '{"bind":{"from":"/log","to":"/proc/mylog"}}', '{"mount":{"service":"logs","at":"/proc/logs"}}',
    '{"kill":"worker-1"}\n\n{"spawn":"heartbeat","ticks":1}\n'),
  run(input) {
    const t = utf8Decode(input);
    if (t === null) return 'not-utf8';
    let last = 'blank';
    for (const line of ctlLines(t).slice(0, CTL_LINES_MAX)) {
      const c = parseQueenCtlLine(line);
      if (c instanceof NineError) {
        if (c.code !== 'Invalid') broken(`ctl refusal is ${c.code}, not Invalid`);
        last = `invalid:${c.message.slice(0, 40)}`;
      } else {
        // A command must survive a JSON round trip (it is logged and replayed as JSON).
        JSON.stringify(c);
        last = c.kind;
      }
    }
    return last;
  },
};
