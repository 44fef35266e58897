// Fuzz target: the gpu bridge snapshot a gpu-bridge-host publishes (decodeSnapshot) and its re-encode.
import { utf8Encode } from '../../bytes/utf8.js';
import { decodeSnapshot, encodeSnapshot, type GpuSnapshot } from '../../ninedoor/snapshot.js';
import { NineError } from '../../secure9p/errors.js';
import type { FuzzTarget } from '../target.js';
import { broken } from './common.js';

const info = (id: string) => utf8Encode(JSON.stringify({ id, name: `Real ${id}`, memory_mb: 1024, sm_count: 8, driver_version: '1', runtime_version: '2' }));

function snapshot(gpuIds: string[], models: string[], active: string): GpuSnapshot {
  return {
    nodes: gpuIds.map((id) => ({ id, info: info(id), ctl: utf8Encode(`LEASE ${id}\n`), lease: new Uint8Array(0), status: utf8Encode('idle\n') })),
    models: models.map((id) => ({ id, manifest: utf8Encode(`id = "${id}"\n`) })),
    active,
    telemetrySchema: utf8Encode('{"schema_version":"gpu-telemetry/v1","max_record_bytes":4096}'),
  };
}

export const gpuSnapshot: FuzzTarget = {
  name: 'gpu-snapshot',
  maxInputBytes: 4096,
  dictionary: ['schema gpu-bridge-snapshot/v1', '\n', 'node ', 'model ', 'active ', 'telemetry ', 'end', 'info=', 'ctl=', 'lease=',
    'status=', 'manifest=', '==', '=', ' ', 'GPU-0', '{}'],
  seeds: () => [encodeSnapshot(snapshot(['GPU-0'], ['vision-base-v1', 'vision-lora-edge'], 'vision-lora-edge')),
    encodeSnapshot(snapshot(['GPU-0', 'GPU-1'], [], '')), encodeSnapshot(snapshot([], ['m'], 'm'))],
  run(input) {
    const s = decodeSnapshot(input);
    if (s instanceof NineError) {
      if (s.code !== 'Invalid') broken(`snapshot refusal is ${s.code}, not Invalid`);
      return `invalid:${s.message.slice(0, 40)}`;
    }
    // A snapshot the hive accepts must re-encode to one it accepts again (NineDoor serves what it decoded).
    if (decodeSnapshot(encodeSnapshot(s)) instanceof NineError) broken('an accepted snapshot does not survive a re-encode');
    return `ok:${s.nodes.length}:${s.models.length}`;
  },
};
