// Parses nvidia-smi output: the --query-gpu CSV (one GPU a line) and the CUDA version in the plain header; anything unknown is an error value.
import { BridgeError } from './errors.js';
import { GPUS_MAX } from './limits.js';

/** The fields asked for, in this order; the CSV must have exactly these columns. */
export const SMI_QUERY_FIELDS = [
  'index', 'uuid', 'name', 'memory.total', 'memory.used', 'utilization.gpu', 'temperature.gpu', 'power.draw', 'driver_version',
] as const;

/** Arguments of the query run (discovery and device-check.sh use the same ones). */
export const SMI_QUERY_ARGS: readonly string[] = [`--query-gpu=${SMI_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'];

/** One GPU as nvidia-smi reports it; readings it cannot give are null. */
export interface SmiGpu {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMb: number;
  memoryUsedMb: number | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerW: number | null;
  driverVersion: string;
}

/**
 * Values nvidia-smi prints for a reading it cannot give: `[N/A]` (current drivers), `[Not Supported]`
 * (before ~2020), bare `N/A` (some fields), and the bracketed NVML errors. Accepted only in the
 * optional reading columns; a required column holding one is refused.
 */
const UNAVAILABLE = /^(\[(N\/A|Not Supported|Unknown Error|Insufficient Permissions|Not Available)\]|N\/A)$/;
const UINT = /^\d{1,9}$/;
const DECIMAL = /^\d{1,9}(\.\d{1,6})?$/;
const UUID = /^(GPU|MIG)-[0-9A-Fa-f][0-9A-Fa-f-]{7,63}$/;
const DRIVER = /^\d{1,4}(\.\d{1,4}){1,3}$/;
/** GPU names are printable ASCII without commas (a comma would break the CSV columns). */
const NAME = /^[\x20-\x2b\x2d-\x7e]{1,96}$/;

/** Lines nvidia-smi prints instead of data when it cannot run; matched anywhere in its output. */
const FAILURE_TEXTS: ReadonlyArray<[RegExp, string]> = [
  [/NVIDIA-SMI has failed/, 'nvidia-smi cannot talk to the NVIDIA driver (is it loaded?)'],
  [/Failed to initialize NVML/, 'NVML failed to initialize'],
  [/No devices were found/, 'no devices were found'],
];

/** The driver failure text nvidia-smi printed, if any; null when the output looks like data. */
export function smiFailure(text: string): BridgeError | null {
  for (const [re, why] of FAILURE_TEXTS) {
    if (re.test(text)) {
      const first = text.split('\n').find((l) => l.trim() !== '') ?? '';
      return new BridgeError(why === 'no devices were found' ? 'smi-no-gpus' : 'smi-failed', `${why}: ${first.trim().slice(0, 160)}`);
    }
  }
  return null;
}

function reading(v: string, re: RegExp, col: string, line: number): number | null | BridgeError {
  if (UNAVAILABLE.test(v)) return null;
  if (!re.test(v)) return new BridgeError('smi-unknown-format', `line ${line}: ${col} is ${JSON.stringify(v.slice(0, 32))}, not a number or [N/A]`);
  return Number(v);
}

/** Parses the query CSV. Any line it does not fully understand refuses the whole output (no half snapshot). */
export function parseQueryCsv(text: string): SmiGpu[] | BridgeError {
  const failure = smiFailure(text);
  if (failure !== null) return failure;
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  if (lines.length === 0) return new BridgeError('smi-no-gpus', 'nvidia-smi printed no GPU lines');
  if (lines.length > GPUS_MAX) return new BridgeError('smi-too-many', `nvidia-smi lists ${lines.length} GPUs; /gpu mirrors at most ${GPUS_MAX}`);
  const out: SmiGpu[] = [];
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const cols = lines[i].split(',').map((c) => c.trim());
    if (cols.length !== SMI_QUERY_FIELDS.length) {
      return new BridgeError('smi-unknown-format', `line ${n}: ${cols.length} fields, expected ${SMI_QUERY_FIELDS.length} (${SMI_QUERY_FIELDS.join(',')})`);
    }
    const [index, uuid, name, memTotal, memUsed, util, temp, power, driver] = cols;
    if (!UINT.test(index)) return new BridgeError('smi-unknown-format', `line ${n}: index is ${JSON.stringify(index.slice(0, 32))}`);
    if (!UUID.test(uuid)) return new BridgeError('smi-unknown-format', `line ${n}: uuid is ${JSON.stringify(uuid.slice(0, 48))}`);
    if (!NAME.test(name)) return new BridgeError('smi-unknown-format', `line ${n}: name is ${JSON.stringify(name.slice(0, 48))}`);
    if (!UINT.test(memTotal)) return new BridgeError('smi-unknown-format', `line ${n}: memory.total is ${JSON.stringify(memTotal.slice(0, 32))}`);
    if (!DRIVER.test(driver)) return new BridgeError('smi-unknown-format', `line ${n}: driver_version is ${JSON.stringify(driver.slice(0, 32))}`);
    const used = reading(memUsed, UINT, 'memory.used', n);
    const u = reading(util, UINT, 'utilization.gpu', n);
    const t = reading(temp, UINT, 'temperature.gpu', n);
    const p = reading(power, DECIMAL, 'power.draw', n);
    for (const r of [used, u, t, p]) if (r instanceof BridgeError) return r;
    const g: SmiGpu = {
      index: Number(index), uuid, name, memoryTotalMb: Number(memTotal),
      memoryUsedMb: used as number | null, utilizationPct: u as number | null, temperatureC: t as number | null, powerW: p as number | null,
      driverVersion: driver,
    };
    if (out.some((o) => o.index === g.index)) return new BridgeError('smi-unknown-format', `line ${n}: index ${g.index} listed twice`);
    out.push(g);
  }
  return out;
}

/**
 * The CUDA version from plain `nvidia-smi`'s header: `CUDA Version: 12.4` (R410..R5xx) or
 * `CUDA UMD Version: 13.3` (R610+). A header without one (drivers before R410) is refused.
 */
export function parseCudaVersion(text: string): string | BridgeError {
  const failure = smiFailure(text);
  if (failure !== null) return failure;
  const m = /CUDA (?:UMD )?Version:\s*(\d{1,3}\.\d{1,3})\b/.exec(text);
  if (m === null) return new BridgeError('smi-no-cuda-version', 'the nvidia-smi header has no "CUDA Version: X.Y" (driver older than R410, or an unknown layout)');
  return m[1];
}
