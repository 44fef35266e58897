// Per-session bind/mount table (spec §6, §7): the longest matching mount prefix is rewritten to its canonical target before policy runs.
import { utf8Length } from '../bytes/utf8.js';
import { NineError } from '../secure9p/errors.js';
import { nameProblem } from '../secure9p/names.js';
import { isPrefix } from './access.js';
import { BIND_PATH_BYTES_MAX, BIND_PATH_COMPONENTS_MAX, BINDS_PER_SESSION_MAX } from './limits.js';
import { canonicalWorkerPath } from './shard.js';

export interface MountEntry {
  /** Where the session sees it (view path). */
  at: readonly string[];
  /** Canonical path it stands for, resolved when the bind was made. */
  target: readonly string[];
}

/** An absolute path as components: `/` prefix, no empty, `.`, `..` or otherwise bad names (spec §7 → Invalid). */
export function parseAbsPath(path: string, what: string): string[] | NineError {
  if (!path.startsWith('/')) return new NineError('Invalid', `${what} ${path} is not absolute`);
  if (utf8Length(path) > BIND_PATH_BYTES_MAX) return new NineError('Invalid', `${what} longer than ${BIND_PATH_BYTES_MAX} bytes`);
  if (path === '/') return [];
  const parts = path.slice(1).split('/');
  if (parts.length > BIND_PATH_COMPONENTS_MAX) return new NineError('Invalid', `${what} has more than ${BIND_PATH_COMPONENTS_MAX} components`);
  for (const p of parts) {
    const bad = nameProblem(p);
    if (bad !== null) return new NineError('Invalid', `${what} ${path}: ${bad}`);
  }
  return parts;
}

export function showPath(p: readonly string[]): string {
  return '/' + p.join('/');
}

export class MountTable {
  private readonly entries: MountEntry[] = [];
  /** Bumped by every change, so a walk step remembered under older mounts is not reused (nssession.ts). */
  version = 0;

  /** View path → canonical path: longest mount prefix first, then the /worker/<id> alias. */
  rewrite(view: readonly string[]): readonly string[] {
    let best: MountEntry | null = null;
    // Indexed, not for-of: every walk step asks, and an iterator per call is measurable inside quickjs-ng.
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i];
      if (isPrefix(e.at, view) && (best === null || e.at.length > best.at.length)) best = e;
    }
    // Unmounted paths go through as they are (callers never change a path they are given).
    const mounted = best === null ? view : [...best.target, ...view.slice(best.at.length)];
    return canonicalWorkerPath(mounted);
  }

  /** Adds or replaces the mount at `at`; bounded per session. */
  add(at: readonly string[], target: readonly string[]): NineError | null {
    if (at.length === 0) return new NineError('Invalid', 'cannot bind over /');
    const i = this.entries.findIndex((e) => e.at.length === at.length && isPrefix(e.at, at));
    if (i >= 0) this.entries.splice(i, 1);
    else if (this.entries.length >= BINDS_PER_SESSION_MAX) return new NineError('TooBig', `more than ${BINDS_PER_SESSION_MAX} binds in one session`);
    this.entries.push({ at: [...at], target: [...target] });
    this.version++;
    return null;
  }

  /** Mount points that sit directly inside `view`, so a listing of the directory shows them. */
  childrenOf(view: readonly string[]): MountEntry[] {
    return this.entries.filter((e) => e.at.length === view.length + 1 && isPrefix(view, e.at));
  }

  size(): number {
    return this.entries.length;
  }

  /** The mounts, for a hot reload to carry. */
  list(): MountEntry[] {
    return this.entries.map((e) => ({ at: [...e.at], target: [...e.target] }));
  }
}
