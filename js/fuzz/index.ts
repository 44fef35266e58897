// Every TS fuzz target, in the order runs and reports list them.
import type { FuzzTarget } from './target.js';
import { consoleFrame } from './targets/console-frame.js';
import { consoleLine } from './targets/console-line.js';
import { consoleRequest } from './targets/console-request.js';
import { ctlJson } from './targets/ctl-json.js';
import { gpuSnapshot } from './targets/gpu-snapshot.js';
import { ninepCodec } from './targets/ninep-codec.js';
import { ninepSession } from './targets/ninep-session.js';
import { tickets } from './targets/tickets.js';

export const FUZZ_TARGETS: readonly FuzzTarget[] = [ninepCodec, ninepSession, consoleFrame, consoleLine, consoleRequest, ctlJson, tickets, gpuSnapshot];

export function fuzzTarget(name: string): FuzzTarget | undefined {
  return FUZZ_TARGETS.find((t) => t.name === name);
}

export { Fuzzer, checkInput, type FuzzFailure, type FuzzStats } from './engine.js';
export type { FuzzTarget } from './target.js';
