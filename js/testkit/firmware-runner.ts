// Runs the registered testkit suites inside the firmware, one test per pump turn, and logs a summary line.
import type { Caps, TaskConfig } from '../caps/index.js';
import { registeredTests } from './index.js';

/** Per-test failure text kept in the log; the log line bound cuts the rest. */
const FAILURE_TEXT_BYTES_MAX = 300;

export default function main(caps: Caps, _config: TaskConfig): void {
  const tests = registeredTests();
  let next = 0;
  let passed = 0;
  let failed = 0;
  const t0 = caps.timer.nowMs();
  const done = (name: string, error: unknown): void => {
    if (error === undefined) passed++;
    else {
      failed++;
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      caps.log.write(`not ok - ${name}: ${text.replace(/[\r\n]+/g, ' ').slice(0, FAILURE_TEXT_BYTES_MAX)}`);
    }
    // One test per delivery: each gets its own CPU slice, and the consoles stay live in between.
    caps.timer.setTimeout(step, 0);
  };
  const step = (): void => {
    if (next >= tests.length) {
      caps.log.write(`testkit in quickjs-ng: ${tests.length} tests in ${Math.round(caps.timer.nowMs() - t0)} ms`);
      caps.log.write(`${passed} passed, ${failed} failed`);
      return;
    }
    const t = tests[next++];
    let r: void | Promise<void>;
    try {
      r = t.fn();
    } catch (e) {
      return done(t.name, e ?? new Error('threw a nullish value'));
    }
    if (r && typeof (r as Promise<void>).then === 'function') {
      (r as Promise<void>).then(() => done(t.name, undefined), (e: unknown) => done(t.name, e ?? new Error('rejected')));
    } else done(t.name, undefined);
  };
  step();
}
