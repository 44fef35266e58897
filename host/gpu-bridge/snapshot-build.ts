// Builds the gpu-bridge-snapshot/v1 payload from a discovery (encoding is js/ninedoor/snapshot.ts's), and its --list JSON view.
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8Decode, utf8Encode } from '../../js/bytes/utf8.js';
import { encodeSnapshot, SNAPSHOT_SCHEMA, type GpuNodeSpec, type GpuSnapshot } from '../../js/ninedoor/snapshot.js';
import type { Discovery, GpuFacts } from './discovery.js';
import { BridgeError } from './errors.js';
import { BRIDGE_PAYLOAD_BYTES_MAX } from './limits.js';

/** /gpu/telemetry/schema.json, exactly spec §10.4. */
export const GPU_TELEMETRY_SCHEMA_JSON =
  '{"schema_version":"gpu-telemetry/v1","max_record_bytes":4096,"required_fields":["schema_version","device_id","model_id","time_window","token_count","latency_histogram"],"optional_fields":["lora_id","confidence","entropy","drift","feedback_flags"]}';

/** The host-owned files a GPU already has on the hive; a republish carries them so leases and status survive. */
export interface CarriedFiles {
  ctl: string;
  lease: string;
  status: string;
}

/** `info` JSON: the spec §11.1 keys first, then what nvidia-smi adds (index, uuid). */
export function infoJson(g: GpuFacts): string {
  return JSON.stringify({
    id: g.id, name: g.name, memory_mb: g.memoryMb, sm_count: g.smCount, driver_version: g.driverVersion, runtime_version: g.runtimeVersion,
    index: g.index, uuid: g.uuid,
  });
}

export function buildSnapshot(d: Discovery, carried: ReadonlyMap<string, CarriedFiles> = new Map()): GpuSnapshot {
  const nodes: GpuNodeSpec[] = d.gpus.map((g) => {
    const c = carried.get(g.id);
    return {
      id: g.id,
      info: utf8Encode(infoJson(g)),
      // A fresh GPU's ctl starts `LEASE <id>` (spec §11.1); lease and status start empty.
      ctl: utf8Encode(c?.ctl ?? `LEASE ${g.id}\n`),
      lease: utf8Encode(c?.lease ?? ''),
      status: utf8Encode(c?.status ?? ''),
    };
  });
  return {
    nodes,
    models: d.models.map((m) => ({ id: m.id, manifest: utf8Encode(m.manifest) })),
    active: d.active,
    telemetrySchema: utf8Encode(GPU_TELEMETRY_SCHEMA_JSON),
  };
}

export interface EncodedSnapshot {
  payload: Uint8Array;
  sha256: string;
}

/** Encodes with the hive's own encoder; over the hive's payload bound is an error, never a truncated publish. */
export function encodeForPublish(s: GpuSnapshot): EncodedSnapshot | BridgeError {
  const payload = encodeSnapshot(s);
  if (payload.length > BRIDGE_PAYLOAD_BYTES_MAX) {
    return new BridgeError('snapshot-too-big', `snapshot is ${payload.length} bytes; the hive takes at most ${BRIDGE_PAYLOAD_BYTES_MAX}`);
  }
  return { payload, sha256: toHex(sha256(payload)) };
}

const text = (b: Uint8Array) => utf8Decode(b) ?? '';

/** What `--list` prints: the snapshot with blobs decoded (info and schema as JSON, files as text). */
export function snapshotJson(s: GpuSnapshot, e: EncodedSnapshot): unknown {
  return {
    schema: SNAPSHOT_SCHEMA,
    bytes: e.payload.length,
    sha256: e.sha256,
    nodes: s.nodes.map((n) => ({ id: n.id, info: JSON.parse(text(n.info)) as unknown, ctl: text(n.ctl), lease: text(n.lease), status: text(n.status) })),
    models: s.models.map((m) => ({ id: m.id, manifest: text(m.manifest) })),
    active: s.active,
    telemetry_schema: JSON.parse(text(s.telemetrySchema)) as unknown,
  };
}

/** The facts that make a republish necessary (readings change every poll and are not in the snapshot). */
export function staticKey(d: Discovery): string {
  return JSON.stringify([d.gpus.map(infoJson), d.models, d.active]);
}
