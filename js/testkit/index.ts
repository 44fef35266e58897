// A tiny test registry and assertions that run unchanged on Node and inside quickjs-ng.
//
// Test files call `test()` at import; a runner (host/node/run-tests.ts on Node, the
// js/testkit/firmware-runner bundle in the firmware) calls `runTests()` and reports.

export type TestFn = () => void | Promise<void>;

interface TestCase {
  name: string;
  fn: TestFn;
}

/** Bound on registered tests, so a runaway generator cannot exhaust a task's arena. */
export const TESTS_MAX = 4096;

const registry: TestCase[] = [];

export function test(name: string, fn: TestFn): void {
  if (registry.length >= TESTS_MAX) throw new Error(`testkit: more than ${TESTS_MAX} tests`);
  registry.push({ name, fn });
}

export function registeredTests(): readonly TestCase[] {
  return registry;
}

export interface TestResult {
  name: string;
  ok: boolean;
  error: string;
}

export async function runTests(filter?: (name: string) => boolean): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const t of registry) {
    if (filter && !filter(t.name)) continue;
    try {
      await t.fn();
      results.push({ name: t.name, ok: true, error: '' });
    } catch (e) {
      results.push({ name: t.name, ok: false, error: describe(e) });
    }
  }
  return results;
}

export class AssertionError extends Error {
  override name = 'AssertionError';
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.stack ? '\n' + e.stack : ''}`;
  return String(e);
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array[${Array.from(v).join(',')}]`;
  if (typeof v === 'bigint') return `${v}n`;
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? Array.from(x) : x));
  } catch {
    return String(v);
  }
}

export function ok(cond: unknown, msg = 'expected a truthy value'): asserts cond {
  if (!cond) throw new AssertionError(msg);
}

export function equal<T>(actual: T, expected: T, msg?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(`${msg ? msg + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function deepEqual(actual: unknown, expected: unknown, msg?: string): void {
  if (!deepEq(actual, expected)) {
    throw new AssertionError(`${msg ? msg + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

function deepEq(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!deepEq((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Asserts fn throws; `match` checks the error's message (substring) or the error itself. */
export function throws(fn: () => unknown, match?: string | ((e: unknown) => boolean), msg?: string): void {
  try {
    fn();
  } catch (e) {
    if (match === undefined) return;
    if (typeof match === 'string') {
      const text = e instanceof Error ? e.message : String(e);
      if (text.includes(match)) return;
      throw new AssertionError(`${msg ? msg + ': ' : ''}error ${show(text)} does not contain ${show(match)}`);
    }
    if (match(e)) return;
    throw new AssertionError(`${msg ? msg + ': ' : ''}error did not match: ${describe(e)}`);
  }
  throw new AssertionError(`${msg ? msg + ': ' : ''}expected a throw`);
}
