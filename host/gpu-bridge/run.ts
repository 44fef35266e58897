// Entry point for `node build/tsc/host/gpu-bridge/run.js ...` (device-check.sh, no launcher needed): runs the CLI with SIGINT/SIGTERM wired to stop.
import { main } from './cli.js';

const stop = new AbortController();
process.once('SIGINT', () => stop.abort());
process.once('SIGTERM', () => stop.abort());
const code = await main(process.argv.slice(2), undefined, { signal: stop.signal });
process.exitCode = code;
// A socket left half-closed must not keep a finished run alive.
setTimeout(() => process.exit(code), 100).unref();
