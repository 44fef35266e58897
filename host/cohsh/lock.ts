// The console lock (spec §4.1): `cohesix-console-<host>-<port>.lock` in the temp dir, so two cohsh shells do not share one console by accident.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CohshError } from './errors.js';

export function consoleLockPath(host: string, port: number, dir: string = tmpdir()): string {
  // A host name or address goes into a file name: keep it to safe characters.
  return join(dir, `cohesix-console-${host.replace(/[^A-Za-z0-9._-]/g, '_')}-${port}.lock`);
}

export interface ConsoleLock {
  path: string;
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock by creating the file exclusively with our pid in it. A lock whose pid is gone
 * (a cohsh that was killed) is stale and taken over once; a live holder makes this fail with
 * `console busy: lock held at <path>`.
 */
export function acquireConsoleLock(host: string, port: number, dir?: string): ConsoleLock | CohshError {
  const path = consoleLockPath(host, port, dir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      return {
        path,
        release: () => {
          if (!held) return;
          held = false;
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return new CohshError('io', `cannot create console lock ${path}: ${(e as NodeJS.ErrnoException).code}`);
      let pid = NaN;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // Vanished between open and read: try again.
        continue;
      }
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) break;
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first; the next open decides.
      }
    }
  }
  return new CohshError('lock-busy', `console busy: lock held at ${path}`);
}
