// Validates a hive manifest (cohesix-manifest/v1) field by field, and fills a template in from its bundles.
//
// Two shapes of one schema: a template (hand-written, e.g. boards/host/manifest.json) leaves out
// `engine` and each task's `size` and `sha256`; the manifest inside an image has them all.
// Unknown fields are refused at every level so a typo (`arena` for `arena_bytes`) is an error,
// not a default. Keep in sync with: docs/image-format.md, firmware/image.c.
import { CAP_NAMES, type CapName } from '../../js/caps/index.js';
import {
  CONSOLE_SESSIONS_HARD_MAX, FRAME_REQUEST_PAYLOAD_BYTES_MAX, IDLE_TIMEOUT_MS_MAX, IDLE_TIMEOUT_MS_MIN,
} from '../../js/console/limits.js';
import { ImageError } from './errors.js';
import { isEngineVersion, isHex64, QBC_HEADER_BYTES } from './qbc.js';
import { IMAGE_BYTES_MAX } from './cpio.js';
import { decodeUtf8Strict, parseStrictJson } from './strict-json.js';

export const MANIFEST_SCHEMA_V0 = 'cohesix-manifest/v0';
/** The schema of every manifest inside an image (format v1, signed). A template may still say v0. */
export const MANIFEST_SCHEMA_V1 = 'cohesix-manifest/v1';
const TEMPLATE_SCHEMAS: readonly string[] = [MANIFEST_SCHEMA_V0, MANIFEST_SCHEMA_V1];
/** The manifest's CPIO entry name; always the first entry. */
export const MANIFEST_ENTRY_NAME = 'manifest.json';
export const PROFILES = ['dev', 'release'] as const;
export type Profile = (typeof PROFILES)[number];

// The manifest bounds below carry the firmware's names (bindings/manifest.h) and are checked against it
// by host/node/limits.test.ts: one name, one meaning, in C, TS and Python.
/** Task entries in one manifest (not TASKS_MAX, the firmware's task table, which also holds spawned workers). */
export const MANIFEST_TASKS_MAX = 32;
/** Longest task name in a manifest, in bytes (not MANIFEST_NAME_BYTES_MAX, a running task's label). */
export const MANIFEST_NAME_BYTES_MAX = 31;
/** Longest image id in bytes. */
export const MANIFEST_IMAGE_ID_BYTES_MAX = 64;
/** Smallest task arena (memory quota) in bytes; the firmware's TASK_ARENA_BYTES_MIN (engine/port/task.h, checked by a test). */
export const TASK_ARENA_BYTES_MIN = 64 * 1024;
/** Largest task arena in bytes; TASK_ARENA_BYTES_MAX there. */
export const TASK_ARENA_BYTES_MAX = 256 * 1024 * 1024;
/** A manifest's arenas are whole pages, in bytes (TASK_ARENA_PAGE_BYTES in bindings/manifest.h; the engine's allocator aligns to ARENA_ALIGN_BYTES, 16, inside one). */
export const TASK_ARENA_PAGE_BYTES = 4096;
/** A task's CPU slice per delivery, in ms; TASK_CPU_SLICE_MS_MIN/MAX there. */
export const TASK_CPU_SLICE_MS_MIN = 1;
export const TASK_CPU_SLICE_MS_MAX = 10000;
export const CONSOLE_PORT_MIN = 1;
export const CONSOLE_PORT_MAX = 65535;
/** `AUTH <token>` must fit the console's 256-byte frame payload (spec/INTERFACES.md §2). */
export const AUTH_TOKEN_BYTES_MAX = FRAME_REQUEST_PAYLOAD_BYTES_MAX - 'AUTH '.length;

export const BUNDLE_SUFFIX = '.qbc';

export interface EngineId {
  version: string;
  /** 64 lowercase hex digits. */
  fingerprint: string;
}

export interface TaskEntry {
  name: string;
  bundle: string;
  size: number;
  sha256: string;
  arena_bytes: number;
  cpu_slice_ms: number;
  grants: CapName[];
  config: unknown;
}

export interface ConsoleSettings {
  port: number;
  auth_token: string;
  max_sessions: number;
  /** Optional: input-less ms before an authenticated console session is closed (spec §2: 300000). */
  idle_timeout_ms?: number;
}

export interface Manifest {
  schema: typeof MANIFEST_SCHEMA_V1;
  image_id: string;
  profile: Profile;
  engine: EngineId;
  root_task: string;
  tasks: TaskEntry[];
  console: ConsoleSettings;
}

export type TemplateTask = Omit<TaskEntry, 'size' | 'sha256'>;
export type ManifestTemplate = Omit<Manifest, 'engine' | 'tasks'> & { tasks: TemplateTask[] };

/** What the image tool learned from one bundle file. */
export interface BundleFacts {
  size: number;
  sha256: string;
}

type Mode = 'template' | 'image';
type Obj = Record<string, unknown>;

const TASK_NAME = /^[a-z0-9-]+$/;
const IMAGE_ID = /^[A-Za-z0-9._-]+$/;
const TOKEN = /^[\x21-\x7e]+$/;
const TOP_FIELDS = ['schema', 'image_id', 'profile', 'engine', 'root_task', 'tasks', 'console'];
const TASK_FIELDS = ['name', 'bundle', 'size', 'sha256', 'arena_bytes', 'cpu_slice_ms', 'grants', 'config'];
const ENGINE_FIELDS = ['version', 'fingerprint'];
const CONSOLE_FIELDS = ['port', 'auth_token', 'max_sessions', 'idle_timeout_ms'];
/** Filled in by the image tool: a template must not carry them. */
const FILLED_TASK_FIELDS = ['size', 'sha256'];

class Checker {
  constructor(readonly what: string) {}

  fail(message: string): never {
    throw new ImageError('manifest', `${this.what}: ${message}`);
  }

  object(v: unknown, path: string, fields: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`${path || 'the manifest'} must be a JSON object`);
    for (const k of Object.keys(v as Obj)) {
      if (!fields.includes(k)) this.fail(`${path ? path + ' has' : 'has'} unknown field ${JSON.stringify(k)} (known: ${fields.join(', ')})`);
    }
    return v as Obj;
  }

  present(o: Obj, key: string, path: string): unknown {
    if (!(key in o)) this.fail(`${path} is missing`);
    return o[key];
  }

  int(o: Obj, key: string, path: string, min: number, max: number, rule?: string): number {
    const v = this.present(o, key, path);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) this.fail(`${path} must be ${rule ?? `an integer between ${min} and ${max}`}`);
    return v as number;
  }

  string(o: Obj, key: string, path: string, ok: (s: string) => boolean, rule: string): string {
    const v = this.present(o, key, path);
    if (typeof v !== 'string' || !ok(v)) this.fail(`${path} must be ${rule}`);
    return v as string;
  }
}

/**
 * Checks a parsed manifest against every rule of docs/image-format.md and returns it typed, with
 * its fields in document order. `what` prefixes every message (`manifest: tasks[1].arena_bytes ...`).
 */
export function validateManifest(v: unknown, what?: string): Manifest {
  return validate(v, 'image', what ?? 'manifest') as Manifest;
}

/** As validateManifest, for a template: `engine`, `size` and `sha256` must be absent, `bundle` may be. */
export function validateTemplate(v: unknown, what?: string): ManifestTemplate {
  return validate(v, 'template', what ?? 'manifest') as ManifestTemplate;
}

function validate(v: unknown, mode: Mode, what: string): Manifest | ManifestTemplate {
  const c = new Checker(what);
  const top = c.object(v, '', TOP_FIELDS);
  const schema = c.present(top, 'schema', 'schema');
  if (mode === 'image' && schema !== MANIFEST_SCHEMA_V1) c.fail(`schema must be exactly "${MANIFEST_SCHEMA_V1}"`);
  if (mode === 'template' && !TEMPLATE_SCHEMAS.includes(schema as string)) {
    c.fail(`schema must be "${MANIFEST_SCHEMA_V1}" (or "${MANIFEST_SCHEMA_V0}", read as v1)`);
  }
  const image_id = c.string(top, 'image_id', 'image_id', (s) => s.length <= MANIFEST_IMAGE_ID_BYTES_MAX && IMAGE_ID.test(s), `1..${MANIFEST_IMAGE_ID_BYTES_MAX} bytes of [A-Za-z0-9._-]`);
  const profile = c.string(top, 'profile', 'profile', (s) => (PROFILES as readonly string[]).includes(s), '"dev" or "release"') as Profile;

  let engine: EngineId | undefined;
  if (mode === 'template') {
    if ('engine' in top) c.fail('engine is filled in by the image tool from the bundles; leave it out of the template');
  } else {
    const e = c.object(c.present(top, 'engine', 'engine'), 'engine', ENGINE_FIELDS);
    engine = {
      version: c.string(e, 'version', 'engine.version', isEngineVersion, `1..16 printable ASCII bytes (the quickjs-ng version, e.g. "0.15.1")`),
      fingerprint: c.string(e, 'fingerprint', 'engine.fingerprint', isHex64, '64 lowercase hex digits'),
    };
  }

  const root_task = c.string(top, 'root_task', 'root_task', (s) => typeof s === 'string', 'a string naming a task');
  const rawTasks = c.present(top, 'tasks', 'tasks');
  if (!Array.isArray(rawTasks) || rawTasks.length < 1 || rawTasks.length > MANIFEST_TASKS_MAX) {
    c.fail(`tasks must be an array of 1..${MANIFEST_TASKS_MAX} task entries`);
  }
  const names = new Set<string>();
  const tasks: (TaskEntry | TemplateTask)[] = [];
  (rawTasks as unknown[]).forEach((raw, i) => {
    const p = `tasks[${i}]`;
    const t = c.object(raw, p, TASK_FIELDS);
    const name = c.string(t, 'name', `${p}.name`, (s) => s.length <= MANIFEST_NAME_BYTES_MAX && TASK_NAME.test(s), `1..${MANIFEST_NAME_BYTES_MAX} bytes of [a-z0-9-]`);
    if (names.has(name)) c.fail(`${p}.name "${name}" is used by an earlier task; task names must be unique`);
    names.add(name);
    const expected = name + BUNDLE_SUFFIX;
    let bundle = expected;
    if (mode === 'image' || 'bundle' in t) {
      bundle = c.string(t, 'bundle', `${p}.bundle`, (s) => s === expected, `"${expected}" (the task's name + ${BUNDLE_SUFFIX})`);
    }
    let size = 0;
    let sha256 = '';
    if (mode === 'template') {
      for (const f of FILLED_TASK_FIELDS) if (f in t) c.fail(`${p}.${f} is filled in by the image tool from the bundle; leave it out of the template`);
    } else {
      size = c.int(t, 'size', `${p}.size`, QBC_HEADER_BYTES, IMAGE_BYTES_MAX, `the bundle's size in bytes, an integer between ${QBC_HEADER_BYTES} and ${IMAGE_BYTES_MAX}`);
      sha256 = c.string(t, 'sha256', `${p}.sha256`, isHex64, '64 lowercase hex digits (SHA-256 of the whole .qbc file)');
    }
    const arena_bytes = c.int(t, 'arena_bytes', `${p}.arena_bytes`, TASK_ARENA_BYTES_MIN, TASK_ARENA_BYTES_MAX,
      `a multiple of ${TASK_ARENA_PAGE_BYTES} between ${TASK_ARENA_BYTES_MIN} and ${TASK_ARENA_BYTES_MAX}`);
    if (arena_bytes % TASK_ARENA_PAGE_BYTES !== 0) c.fail(`${p}.arena_bytes must be a multiple of ${TASK_ARENA_PAGE_BYTES} between ${TASK_ARENA_BYTES_MIN} and ${TASK_ARENA_BYTES_MAX}`);
    const cpu_slice_ms = c.int(t, 'cpu_slice_ms', `${p}.cpu_slice_ms`, TASK_CPU_SLICE_MS_MIN, TASK_CPU_SLICE_MS_MAX);
    const rawGrants = c.present(t, 'grants', `${p}.grants`);
    if (!Array.isArray(rawGrants)) c.fail(`${p}.grants must be an array of capability names (${CAP_NAMES.join(' ')})`);
    const grants: CapName[] = [];
    (rawGrants as unknown[]).forEach((g, j) => {
      if (typeof g !== 'string' || !(CAP_NAMES as readonly string[]).includes(g)) {
        c.fail(`${p}.grants[${j}] ${JSON.stringify(g)} is not a capability (one of ${CAP_NAMES.join(' ')})`);
      }
      if (grants.includes(g as CapName)) c.fail(`${p}.grants[${j}] "${g}" is granted twice`);
      grants.push(g as CapName);
    });
    const config = c.present(t, 'config', `${p}.config`);
    tasks.push(mode === 'image'
      ? { name, bundle, size, sha256, arena_bytes, cpu_slice_ms, grants, config }
      : { name, bundle, arena_bytes, cpu_slice_ms, grants, config });
  });
  if (!names.has(root_task)) c.fail(`root_task ${JSON.stringify(root_task)} names no entry in tasks`);

  const con = c.object(c.present(top, 'console', 'console'), 'console', CONSOLE_FIELDS);
  const consoleSettings: ConsoleSettings = {
    port: c.int(con, 'port', 'console.port', CONSOLE_PORT_MIN, CONSOLE_PORT_MAX),
    auth_token: c.string(con, 'auth_token', 'console.auth_token', (s) => s.length <= AUTH_TOKEN_BYTES_MAX && TOKEN.test(s),
      `1..${AUTH_TOKEN_BYTES_MAX} printable ASCII bytes without spaces`),
    max_sessions: c.int(con, 'max_sessions', 'console.max_sessions', 1, CONSOLE_SESSIONS_HARD_MAX),
  };
  if ('idle_timeout_ms' in con) {
    consoleSettings.idle_timeout_ms = c.int(con, 'idle_timeout_ms', 'console.idle_timeout_ms', IDLE_TIMEOUT_MS_MIN, IDLE_TIMEOUT_MS_MAX);
  }
  return mode === 'image'
    ? { schema: MANIFEST_SCHEMA_V1, image_id, profile, engine: engine!, root_task, tasks: tasks as TaskEntry[], console: consoleSettings }
    : { schema: MANIFEST_SCHEMA_V1, image_id, profile, root_task, tasks: tasks as TemplateTask[], console: consoleSettings };
}

/** Parses manifest bytes (strict UTF-8, strict JSON) and validates them; `what` names the source. */
export function parseManifestBytes(b: Uint8Array, mode: Mode, what: string): Manifest | ManifestTemplate {
  const text = decodeUtf8Strict(b);
  if (text === null) throw new ImageError('manifest', `${what}: not valid UTF-8`);
  return validate(parseStrictJson(text, what), mode, what);
}

/** The manifest an image carries: the template plus each bundle's size and sha256, and the engine. */
export function fillManifest(t: ManifestTemplate, engine: EngineId, facts: ReadonlyMap<string, BundleFacts>): Manifest {
  const tasks = t.tasks.map((task): TaskEntry => {
    const f = facts.get(task.bundle);
    if (!f) throw new ImageError('image-missing', `no bundle facts for ${task.bundle} (task ${task.name})`);
    return { name: task.name, bundle: task.bundle, size: f.size, sha256: f.sha256, arena_bytes: task.arena_bytes, cpu_slice_ms: task.cpu_slice_ms, grants: task.grants, config: task.config };
  });
  const m = { schema: t.schema, image_id: t.image_id, profile: t.profile, engine, root_task: t.root_task, tasks, console: t.console };
  return validateManifest(m); // both sides of the boundary: what we write must be what a reader accepts
}

/** Canonical bytes of manifest.json: 2-space JSON, fields in document order, one trailing newline. */
export function encodeManifest(m: Manifest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m, null, 2) + '\n');
}
