// `tail -f`: poll TAIL snapshots (spec §3.3: bounded snapshots, not a live follow) and print only lines not seen yet.
import { TAIL_POLL_MS_MAX, TAIL_POLL_MS_MIN } from './limits.js';

/**
 * Lines of `next` after its overlap with the end of `prev`: the largest k with
 * prev[-k:] == next[:k]. A snapshot that shares nothing with the last one is printed whole
 * (the ring wrapped past everything we saw).
 */
export function unseenLines(prev: readonly string[], next: readonly string[]): string[] {
  for (let k = Math.min(prev.length, next.length); k > 0; k--) {
    let same = true;
    for (let i = 0; i < k; i++) {
      if (prev[prev.length - k + i] !== next[i]) {
        same = false;
        break;
      }
    }
    if (same) return next.slice(k);
  }
  return [...next];
}

/** A poll interval from the command line, or an error message naming the bounds. */
export function parsePollInterval(text: string): number | string {
  if (!/^[0-9]+$/.test(text)) return `invalid poll interval '${text}': expected milliseconds`;
  const n = Number(text);
  if (n < TAIL_POLL_MS_MIN || n > TAIL_POLL_MS_MAX) return `poll interval ${n} ms is outside ${TAIL_POLL_MS_MIN}..${TAIL_POLL_MS_MAX} ms`;
  return n;
}

/** Sleeps `ms` or until `signal` aborts; true when aborted. */
export function sleepOrAbort(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(true);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
