// Synthetic bundles, templates and raw CPIO pieces for the image tool's tests (no cohc needed).
import { concatBytes as concat } from '../../js/bytes/concat.js';
import { encodeQbc } from './qbc.js';
import type { ManifestTemplate } from './manifest.js';

export const FAKE_ENGINE_VERSION = '0.15.1';
/** Not any real engine's fingerprint: a recognisable pattern. */
export const FAKE_FINGERPRINT = 'f1'.repeat(32);
export const OTHER_FINGERPRINT = 'e2'.repeat(32);

export function fakeQbc(payloadText: string, fingerprint = FAKE_FINGERPRINT, engineVersion = FAKE_ENGINE_VERSION): Uint8Array {
  return encodeQbc(new TextEncoder().encode(payloadText), { engineVersion, engineFingerprint: fingerprint });
}

/** The host board's template, as boards/host/manifest.json holds it. */
export function hostTemplate(): ManifestTemplate {
  return {
    schema: 'cohesix-manifest/v1',
    image_id: 'dev',
    profile: 'dev',
    root_task: 'root-task',
    tasks: [
      { name: 'root-task', bundle: 'root-task.qbc', arena_bytes: 4194304, cpu_slice_ms: 50, grants: ['log', 'console', 'net', 'timer', 'channel', 'task', 'image'], config: { boot_tasks: [{ task: 'worker-heart', label: 'worker-1' }] } },
      { name: 'worker-heart', bundle: 'worker-heart.qbc', arena_bytes: 262144, cpu_slice_ms: 50, grants: ['log', 'timer', 'channel'], config: { interval_ms: 1000 } },
    ],
    console: { port: 31337, auth_token: 'changeme', max_sessions: 4 },
  };
}

export interface RawHeader {
  magic?: string;
  ino?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  nlink?: number;
  mtime?: number;
  filesize?: number;
  devmajor?: number;
  devminor?: number;
  rdevmajor?: number;
  rdevminor?: number;
  namesize?: number;
  check?: number;
}


/**
 * One newc record written without any of the writer's checks, so a test can make exactly the
 * archive a refusal needs. Fields default to what a valid entry has.
 */
export function rawRecord(name: string, data: Uint8Array, h: RawHeader = {}): Uint8Array {
  const trailer = name === 'TRAILER!!!';
  const f = {
    ino: 0, mode: trailer ? 0 : 0o100644, uid: 0, gid: 0, nlink: 1, mtime: 0, filesize: data.length,
    devmajor: 0, devminor: 0, rdevmajor: 0, rdevminor: 0, namesize: name.length + 1, check: 0, ...h,
  };
  const hex = (v: number) => v.toString(16).toUpperCase().padStart(8, '0');
  const head = (h.magic ?? '070701') + [f.ino, f.mode, f.uid, f.gid, f.nlink, f.mtime, f.filesize, f.devmajor, f.devminor, f.rdevmajor, f.rdevminor, f.namesize, f.check].map(hex).join('') + name + '\0';
  const headBytes = new Uint8Array(head.length + ((4 - (head.length % 4)) % 4));
  for (let i = 0; i < head.length; i++) headBytes[i] = head.charCodeAt(i);
  const dataBytes = new Uint8Array(data.length + ((4 - (data.length % 4)) % 4));
  dataBytes.set(data);
  return concat([headBytes, dataBytes]);
}

/** Records, then a trailer, then NUL to a 512-byte boundary. */
export function rawArchive(records: Uint8Array[]): Uint8Array {
  const body = concat([...records, rawRecord('TRAILER!!!', new Uint8Array(0))]);
  return concat([body, new Uint8Array((512 - (body.length % 512)) % 512)]);
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
