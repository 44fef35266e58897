// What a hot reload of NineDoor carries from the old code to the new: namespace content as JSON-safe text, checked on the way in.
//
// Carried: /log/queen.log, lifecycle/root/pressure facts, worker records with their budgets and
// telemetry rings (base offset and retained bytes), services, GPU nodes with ctl/lease/status/job,
// leases, models, the bridge status, /queen/telemetry ingest segments, and every 9P session:
// routed (channel) and TCP, with msize, principals, budgets, mounts and fids by path (open fids are
// opened again), and a TCP stream's half-received frame. The session parts are checked by their
// own importers (secure9p/handoff.ts, nssession.ts); a session that cannot be carried is closed,
// and its client attaches again — see docs/hot-reload.md.
import { base64Decode, base64Encode } from '../bytes/base64.js';
import { NineError } from '../secure9p/errors.js';
import type { LifecycleFacts, PressureFacts, RootFacts, WorkerKind } from './state.js';
import type { GpuSnapshot } from './snapshot.js';
import type { IngestDeviceState } from './ingest.js';

export const HANDOFF_SCHEMA = 'ninedoor-handoff/v1';

export interface DoorState {
  queenLog: Uint8Array;
  lifecycle: LifecycleFacts;
  root: RootFacts;
  pressure: PressureFacts;
  highestWorkerSeq: number;
  services: [string, string][];
  workers: {
    id: string;
    kind: WorkerKind;
    opsMax: number | null;
    expiresAtMs: number | null;
    ticks: number | null;
    ringBase: number;
    ring: Uint8Array;
  }[];
  gpus: { id: string; info: Uint8Array; ctl: Uint8Array; lease: Uint8Array; status: Uint8Array; job: Uint8Array; holder: string | null }[];
  models: GpuSnapshot | null;
  bridgeStatus: string;
  ingest: IngestDeviceState[];
}

/** One 9P session: its namespace half and its Secure9P half; null halves = not carried (requests were in flight). */
export interface SessionCarry {
  ns: unknown;
  s9: unknown;
}

/** The whole handoff: content plus the sessions the old code served. */
export interface Handoff {
  door: DoorState;
  /** Routed channel sessions, keyed `<ep>:<session>`. */
  channel: (SessionCarry & { key: string })[];
  /** TCP connections of the Secure9P listener, with the bytes of a frame not yet whole. */
  tcp: (SessionCarry & { sock: number; peer: string; held: Uint8Array; skipBytes: number })[];
}

const b64 = (b: Uint8Array): string => base64Encode(b);

/*
 * JSON text around each part of the handoff, over its bytes, in bytes: generous upper guesses for
 * the keys, numbers and punctuation of one record (the estimate only has to keep a reload from
 * building a text the arena cannot hold; an over-guess refuses a reload that would have fit).
 */
/** The door's fixed fields: lifecycle, counters, pressure, config. */
const HANDOFF_FIXED_JSON_BYTES = 4096;
/** One worker record beside its ring. */
const HANDOFF_WORKER_JSON_BYTES = 128;
/** One GPU record beside its five files. */
const HANDOFF_GPU_JSON_BYTES = 128;
/** One model record beside its manifest. */
const HANDOFF_MODEL_JSON_BYTES = 64;
/** One ingest segment beside its data. */
const HANDOFF_SEGMENT_JSON_BYTES = 96;
/** One session: its principal (claims up to ~300 bytes), budgets and mounts. */
const HANDOFF_SESSION_JSON_BYTES = 1024;
/** One fid: its path and open state. */
const HANDOFF_FID_JSON_BYTES = 256;

/**
 * About how many bytes of JSON text encodeHandoff makes of `d` (base64 is 4/3 of the bytes), so
 * NineDoor can refuse a reload cleanly instead of building a text its arena cannot hold.
 */
export function handoffBytesEstimate(d: DoorState): number {
  let bytes = d.queenLog.length + HANDOFF_FIXED_JSON_BYTES;
  for (const w of d.workers) bytes += w.ring.length + HANDOFF_WORKER_JSON_BYTES;
  for (const g of d.gpus) bytes += g.info.length + g.ctl.length + g.lease.length + g.status.length + g.job.length + HANDOFF_GPU_JSON_BYTES;
  if (d.models !== null) for (const m of d.models.models) bytes += m.manifest.length + HANDOFF_MODEL_JSON_BYTES;
  for (const v of d.ingest) for (const g of v.segments) bytes += g.data.length + HANDOFF_SEGMENT_JSON_BYTES;
  return Math.ceil((bytes * 4) / 3);
}

/** About how many bytes of JSON text the sessions add: principals (claims ≤ ~300 bytes), budgets, mounts, and a path per fid. */
export function sessionsBytesEstimate(sessions: number, fids: number): number {
  return sessions * HANDOFF_SESSION_JSON_BYTES + fids * HANDOFF_FID_JSON_BYTES;
}

/** Bytes become base64 strings; everything else is JSON already. */
export function encodeHandoff(h: Handoff): unknown {
  const d = h.door;
  return {
    schema: HANDOFF_SCHEMA,
    channel: h.channel,
    tcp: h.tcp.map((t) => ({ ...t, held: b64(t.held) })),
    door: {
      ...d,
      queenLog: b64(d.queenLog),
      workers: d.workers.map((w) => ({ ...w, ring: b64(w.ring) })),
      gpus: d.gpus.map((g) => ({ ...g, info: b64(g.info), ctl: b64(g.ctl), lease: b64(g.lease), status: b64(g.status), job: b64(g.job) })),
      ingest: d.ingest.map((v) => ({ ...v, segments: v.segments.map((g) => ({ ...g, data: b64(g.data) })) })),
      models: d.models === null ? null : {
        active: d.models.active,
        telemetrySchema: b64(d.models.telemetrySchema),
        models: d.models.models.map((m) => ({ id: m.id, manifest: b64(m.manifest) })),
      },
    },
  };
}

class Bad extends Error {}

function bytes(v: unknown, what: string): Uint8Array {
  const b = typeof v === 'string' ? base64Decode(v) : null;
  if (b === null) throw new Bad(`${what} is not base64`);
  return b;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Bad(`${what} is not a number`);
  return v;
}

function numOrNull(v: unknown, what: string): number | null {
  return v === null || v === undefined ? null : num(v, what);
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Bad(`${what} is not a string`);
  return v;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Bad(`${what} is not a list`);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Bad(`${what} is not an object`);
  return v as Record<string, unknown>;
}

/** Checks and decodes what encodeHandoff made (possibly by an older code); Invalid names the first bad field. */
export function decodeHandoff(v: unknown): Handoff | NineError {
  try {
    const top = obj(v, 'handoff');
    if (top.schema !== HANDOFF_SCHEMA) throw new Bad(`schema ${String(top.schema)} is not ${HANDOFF_SCHEMA}`);
    const d = obj(top.door, 'door');
    const lc = obj(d.lifecycle, 'lifecycle');
    const root = obj(d.root, 'root');
    const pr = obj(d.pressure, 'pressure');
    const models = d.models === null || d.models === undefined ? null : obj(d.models, 'models');
    const door: DoorState = {
      queenLog: bytes(d.queenLog, 'queenLog'),
      lifecycle: { state: str(lc.state, 'lifecycle.state') as LifecycleFacts['state'], reason: str(lc.reason, 'lifecycle.reason'), sinceMs: num(lc.sinceMs, 'lifecycle.sinceMs') },
      root: { reachable: root.reachable === true, lastSeenMs: num(root.lastSeenMs, 'root.lastSeenMs'), cutReason: str(root.cutReason, 'root.cutReason') as RootFacts['cutReason'] },
      pressure: { busy: num(pr.busy, 'pressure.busy'), quota: num(pr.quota, 'pressure.quota'), cut: num(pr.cut, 'pressure.cut'), policy: num(pr.policy, 'pressure.policy') },
      highestWorkerSeq: num(d.highestWorkerSeq, 'highestWorkerSeq'),
      services: arr(d.services, 'services').map((p, i) => {
        const pair = arr(p, `services[${i}]`);
        return [str(pair[0], `services[${i}]`), str(pair[1], `services[${i}]`)] as [string, string];
      }),
      workers: arr(d.workers, 'workers').map((x, i) => {
        const w = obj(x, `workers[${i}]`);
        const kind = str(w.kind, `workers[${i}].kind`);
        if (kind !== 'heartbeat' && kind !== 'gpu') throw new Bad(`workers[${i}].kind is ${kind}`);
        return {
          id: str(w.id, `workers[${i}].id`), kind,
          opsMax: numOrNull(w.opsMax, 'opsMax'), expiresAtMs: numOrNull(w.expiresAtMs, 'expiresAtMs'), ticks: numOrNull(w.ticks, 'ticks'),
          ringBase: num(w.ringBase, `workers[${i}].ringBase`), ring: bytes(w.ring, `workers[${i}].ring`),
        };
      }),
      gpus: arr(d.gpus, 'gpus').map((x, i) => {
        const g = obj(x, `gpus[${i}]`);
        return {
          id: str(g.id, `gpus[${i}].id`), info: bytes(g.info, 'info'), ctl: bytes(g.ctl, 'ctl'), lease: bytes(g.lease, 'lease'),
          status: bytes(g.status, 'status'), job: bytes(g.job, 'job'), holder: g.holder === null ? null : str(g.holder, 'holder'),
        };
      }),
      models: models === null ? null : {
        nodes: [],
        active: str(models.active, 'models.active'),
        telemetrySchema: bytes(models.telemetrySchema, 'models.telemetrySchema'),
        models: arr(models.models, 'models.models').map((x, i) => {
          const m = obj(x, `models[${i}]`);
          return { id: str(m.id, `models[${i}].id`), manifest: bytes(m.manifest, `models[${i}].manifest`) };
        }),
      },
      bridgeStatus: str(d.bridgeStatus, 'bridgeStatus'),
      ingest: arr(d.ingest, 'ingest').map((x, i) => {
        const v = obj(x, `ingest[${i}]`);
        return {
          id: str(v.id, `ingest[${i}].id`),
          seq: num(v.seq, `ingest[${i}].seq`),
          segments: arr(v.segments, `ingest[${i}].segments`).map((y, j) => {
            const g = obj(y, `ingest[${i}].segments[${j}]`);
            return {
              id: str(g.id, 'segment id'), mime: g.mime === null ? null : str(g.mime, 'segment mime'),
              mtimeMs: num(g.mtimeMs, 'segment mtimeMs'), data: bytes(g.data, `ingest[${i}].segments[${j}].data`),
            };
          }),
        };
      }),
    };
    const channel = arr(top.channel, 'channel').map((x, i) => {
      const c = obj(x, `channel[${i}]`);
      const key = str(c.key, `channel[${i}].key`);
      if (!/^[0-9]{1,5}:[0-9]{1,5}$/.test(key)) throw new Bad(`channel[${i}].key is ${key}`);
      return { key, ns: c.ns ?? null, s9: c.s9 ?? null };
    });
    const tcp = arr(top.tcp, 'tcp').map((x, i) => {
      const t = obj(x, `tcp[${i}]`);
      return {
        sock: num(t.sock, `tcp[${i}].sock`), peer: str(t.peer, `tcp[${i}].peer`), held: bytes(t.held, `tcp[${i}].held`),
        skipBytes: num(t.skipBytes, `tcp[${i}].skipBytes`), ns: t.ns ?? null, s9: t.s9 ?? null,
      };
    });
    return { door, channel, tcp };
  } catch (e) {
    if (e instanceof Bad) return new NineError('Invalid', `handoff: ${e.message}`);
    throw e;
  }
}
