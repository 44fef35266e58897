// GPU discovery: what /gpu will mirror, from nvidia-smi (query CSV + header) or the mock set; a failure yields an error, never a partial list.
import { BridgeError } from './errors.js';
import { parseCudaVersion, parseQueryCsv, SMI_QUERY_ARGS } from './nvidia-smi.js';

/** Live readings; null where the GPU cannot report one. */
export interface GpuReading {
  memoryUsedMb: number | null;
  utilizationPct: number | null;
  temperatureC: number | null;
  powerW: number | null;
}

export interface GpuFacts {
  /** The /gpu/<id> name: `GPU-<index>`, like the spec's mock ids. */
  id: string;
  index: number;
  uuid: string;
  name: string;
  memoryMb: number;
  /** nvidia-smi has no SM count: 0 means unknown (see docs/gpu-bridge-host.md). */
  smCount: number;
  driverVersion: string;
  runtimeVersion: string;
  reading: GpuReading;
}

export interface Discovery {
  source: 'nvidia-smi' | 'mock';
  gpus: GpuFacts[];
  models: { id: string; manifest: string }[];
  active: string;
}

/** The model id published as active when there are no models (real GPUs: models are not discovered yet). */
export const NO_ACTIVE_MODEL = 'none';

/** How nvidia-smi is run: stdout of a finished run, or why it could not run (missing, timeout, exit status). */
export type SmiRunner = (args: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string } | BridgeError>;

async function runOk(run: SmiRunner, args: readonly string[]): Promise<string | BridgeError> {
  const r = await run(args);
  if (r instanceof BridgeError) return r;
  if (r.code !== 0) {
    // nvidia-smi prints its failure text on stdout; show it, or stderr, with the status.
    const text = (r.stdout.trim() !== '' ? r.stdout : r.stderr).trim().split('\n')[0] ?? '';
    return new BridgeError(r.code === 6 ? 'smi-no-gpus' : 'smi-failed', `nvidia-smi ${args.join(' ').slice(0, 40)} exited ${r.code}: ${text.slice(0, 160)}`);
  }
  return r.stdout;
}

/** Runs the query and the plain header; both must parse. */
export async function discoverReal(run: SmiRunner): Promise<Discovery | BridgeError> {
  const csv = await runOk(run, SMI_QUERY_ARGS);
  if (csv instanceof BridgeError) return csv;
  const gpus = parseQueryCsv(csv);
  if (gpus instanceof BridgeError) return gpus;
  const header = await runOk(run, []);
  if (header instanceof BridgeError) return header;
  const cuda = parseCudaVersion(header);
  if (cuda instanceof BridgeError) return cuda;
  return {
    source: 'nvidia-smi',
    gpus: gpus.map((g) => ({
      id: `GPU-${g.index}`, index: g.index, uuid: g.uuid, name: g.name, memoryMb: g.memoryTotalMb, smCount: 0,
      driverVersion: g.driverVersion, runtimeVersion: cuda,
      reading: { memoryUsedMb: g.memoryUsedMb, utilizationPct: g.utilizationPct, temperatureC: g.temperatureC, powerW: g.powerW },
    })),
    models: [],
    active: NO_ACTIVE_MODEL,
  };
}
