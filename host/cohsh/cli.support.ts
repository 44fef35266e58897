// Test support for cohsh end-to-end tests: run the CLI in-process with captured output and a scripted stdin.
import { PassThrough, Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './cli.js';
import type { MockHive } from './mock/hive.js';

/** Longest a test waits for output, in ms. */
export const OUTPUT_WAIT_MS_MAX = 5000;

export interface Running {
  out: () => string;
  err: () => string;
  stdin: PassThrough;
  done: Promise<number>;
  waitOut(text: string): Promise<void>;
  waitErr(text: string): Promise<void>;
}

export function scratch(prefix = 'cohsh-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts cohsh with argv; stdin stays open until the test ends it. */
export function start(argv: string[], env: NodeJS.ProcessEnv = {}, mockHive?: MockHive): Running {
  let out = '';
  let err = '';
  const stdin = new PassThrough();
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  const fullEnv = { COHSH_HISTORY: join(scratch('cohsh-hist-'), 'history'), ...env };
  const done = run(argv, {
    env: fullEnv,
    io: { out: (t) => (out += t), err: (t) => (err += t) },
    stdin,
    stdout,
    tty: false,
    mockHive,
  });
  const wait = async (get: () => string, text: string, which: string) => {
    const until = performance.now() + OUTPUT_WAIT_MS_MAX;
    while (!get().includes(text)) {
      if (performance.now() > until) throw new Error(`timed out waiting for ${which} ${JSON.stringify(text)}; stdout=${JSON.stringify(out)} stderr=${JSON.stringify(err)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    out: () => out,
    err: () => err,
    stdin,
    done,
    waitOut: (t) => wait(() => out, t, 'stdout'),
    waitErr: (t) => wait(() => err, t, 'stderr'),
  };
}

/** Runs cohsh to completion with `input` on stdin. */
export async function cohsh(argv: string[], input = '', env: NodeJS.ProcessEnv = {}, mockHive?: MockHive): Promise<{ code: number; out: string; err: string }> {
  const r = start(argv, env, mockHive);
  r.stdin.end(input);
  const code = await r.done;
  return { code, out: r.out(), err: r.err() };
}
