// Tab completion: command names, roles, lifecycle words, spawn keys, and namespace paths (LS of the parent when attached).
import { LIFECYCLE_COMMANDS } from './lifecycle.js';

/** Lists a directory's entries, or null when it cannot (not attached, refused, timed out). */
export type Lister = (dir: string) => Promise<string[] | null>;

const ROLES = ['queen', 'worker', 'worker-heartbeat', 'worker-gpu', 'worker-bus', 'worker-lora'];
const SPAWN_WORDS = ['heartbeat', 'gpu', 'ticks=', 'ttl_s=', 'ops=', 'gpu_id=', 'mem_mb=', 'streams=', 'priority=', 'budget_ttl_s=', 'budget_ops='];
const PATH_COMMANDS = new Set(['tail', 'cat', 'ls', 'echo', 'bind', 'mount']);

function prefixed(candidates: readonly string[], word: string): string[] {
  return candidates.filter((c) => c.startsWith(word));
}

/** Completions for the word under the cursor (the line's last word), as node:readline's completer returns them. */
export async function complete(line: string, commands: readonly string[], list: Lister): Promise<[string[], string]> {
  const endsWithSpace = /\s$/.test(line);
  const parts = line.trimStart().split(/\s+/);
  const word = endsWithSpace ? '' : (parts[parts.length - 1] ?? '');
  const argIndex = endsWithSpace ? parts.length : parts.length - 1;
  if (argIndex === 0 || (parts.length === 1 && !endsWithSpace)) {
    const hits = prefixed(commands, word);
    return [hits.length === 1 ? [`${hits[0]} `] : hits, word];
  }
  const cmd = parts[0].toLowerCase();
  if (word.startsWith('/') || (PATH_COMMANDS.has(cmd) && word === '' && cmd !== 'echo')) {
    const path = word === '' ? '/' : word;
    const slash = path.lastIndexOf('/');
    const dir = slash === 0 ? '/' : path.slice(0, slash);
    const stem = path.slice(slash + 1);
    const entries = await list(dir);
    if (entries === null) return [[], word];
    const base = dir === '/' ? '/' : `${dir}/`;
    return [entries.filter((e) => e.startsWith(stem)).map((e) => base + e), word];
  }
  if ((cmd === 'attach' || cmd === 'login') && argIndex === 1) return [prefixed(ROLES, word), word];
  if (cmd === 'lifecycle' && argIndex === 1) return [prefixed(LIFECYCLE_COMMANDS, word), word];
  if (cmd === 'help' && argIndex === 1) return [prefixed(commands, word), word];
  if (cmd === 'spawn') return [prefixed(SPAWN_WORDS, word), word];
  if (cmd === 'telemetry' && argIndex === 1) return [prefixed(['push'], word), word];
  return [[], word];
}
