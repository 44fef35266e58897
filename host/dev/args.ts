// `npm run dev` flags: its own (source root, bundles, debounce, attach to a running hive) on top of `npm start`'s hive flags.
import { resolve } from 'node:path';
import { parseStartArgs, type StartOptions } from '../start/start.js';

/** Quiet time after the last save before a rebuild starts, in ms (rollup's buildDelay). */
export const DEV_DEBOUNCE_MS_DEFAULT = 100;
/** Longest debounce accepted, in ms: a typo must not mean "never rebuild". */
export const DEV_DEBOUNCE_MS_MAX = 5_000;
/** Console token when neither --auth-token nor COHSH_AUTH_TOKEN says (the dev manifest's). */
export const DEV_AUTH_TOKEN_DEFAULT = 'changeme';

export interface DevOptions {
  /** Where js/, tsconfig*.json and rollup.config.mjs are read and build/bundles, build/dev/ written. */
  root: string;
  /** Bundles to watch (manifest task names); null = every task of the dev manifest. */
  only: string[] | null;
  debounceMs: number;
  /** Attach to a hive already running here instead of booting one. */
  attach: { host: string; port: number } | null;
  authToken: string;
  /** How to boot the hive when not attaching (npm start's flags). */
  start: StartOptions;
}

export const DEV_USAGE = `usage: npm run dev -- [options]   (or: node build/tsc/host/dev/dev.js [options])

Boots the dev hive as npm start does (or attaches to a running one), watches js/ and, on each
save, rebuilds the bundles that import the saved file (rollup, then cohc) and hot-reloads every
bundle whose bytes changed into the running hive (the same RELOAD path as \`cohsh reload <task>\`).
Ctrl-C stops the watcher and the hive it started.

  --root <dir>         source tree to watch and build (default: this checkout); needs js/,
                       tsconfig.json, tsconfig.js.json, rollup.config.mjs and node_modules
  --only <t1,t2,...>   watch only these bundles (manifest task names; faster first build)
  --debounce-ms <n>    quiet time after a save before rebuilding (0..${DEV_DEBOUNCE_MS_MAX}, default ${DEV_DEBOUNCE_MS_DEFAULT})
  --tcp-host <host>    with --tcp-port: push to a hive already running there (default 127.0.0.1)
  --tcp-port <n>       push to the hive whose TCP console listens on <n>; boot none
  --auth-token <tok>   console token (COHSH_AUTH_TOKEN, default ${DEV_AUTH_TOKEN_DEFAULT})
  npm start's hive options: --console-port, --9p-port, --interval-ms, --no-bridge, --uart, --log
  --help
`;

/** Parses the dev flags; everything else goes to npm start's parser. 'help' or a usage error as a string. */
export function parseDevArgs(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): DevOptions | string {
  let root = resolve(cwd);
  let only: string[] | null = null;
  let debounceMs = DEV_DEBOUNCE_MS_DEFAULT;
  let host = '127.0.0.1';
  let port: number | null = null;
  let authToken = env.COHSH_AUTH_TOKEN !== undefined && env.COHSH_AUTH_TOKEN !== '' ? env.COHSH_AUTH_TOKEN : DEV_AUTH_TOKEN_DEFAULT;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string | null => {
      const v = argv[++i];
      return v === undefined || v === '' ? null : v;
    };
    if (a === '--help' || a === '-h') return 'help';
    else if (a === '--root') {
      const v = value();
      if (v === null) return '--root takes a directory';
      root = resolve(cwd, v);
    } else if (a === '--only') {
      const v = value();
      const names = v === null ? [] : v.split(',').filter((s) => s !== '');
      if (names.length === 0 || names.some((n) => !/^[A-Za-z0-9._-]+$/.test(n))) return '--only takes task names separated by commas';
      only = names;
    } else if (a === '--debounce-ms') {
      const v = value();
      const n = v !== null && /^[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n >= 0 && n <= DEV_DEBOUNCE_MS_MAX)) return `--debounce-ms takes an integer 0..${DEV_DEBOUNCE_MS_MAX}`;
      debounceMs = n;
    } else if (a === '--tcp-host') {
      const v = value();
      if (v === null) return '--tcp-host takes a host';
      host = v;
    } else if (a === '--tcp-port') {
      const v = value();
      const n = v !== null && /^[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n >= 1 && n <= 65535)) return '--tcp-port takes an integer 1..65535';
      port = n;
    } else if (a === '--auth-token') {
      const v = value();
      if (v === null) return '--auth-token takes a token';
      authToken = v;
    } else rest.push(a);
  }
  const start = parseStartArgs(rest, env);
  if (typeof start === 'string') return start;
  return { root, only, debounceMs, attach: port === null ? null : { host, port }, authToken, start };
}
