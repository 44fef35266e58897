// A hive image v1: builds (and signs) one from a template and bundles, opens one strictly, checks signature and bundles.
//
// Layering: cpio.ts knows archives, qbc.ts bytecode headers, manifest.ts the schema, sign.ts keys and
// manifest.sig; this file holds the rules that tie them together (entry order, listed/missing, the
// profile's signature policy, sizes, hashes, engine). Keep in sync with: docs/image-format.md, firmware/image.c.
import { readCpio, writeCpio, type CpioEntry } from './cpio.js';
import { ImageError } from './errors.js';
import {
  encodeManifest,
  fillManifest,
  MANIFEST_ENTRY_NAME,
  parseManifestBytes,
  type BundleFacts,
  type EngineId,
  type Manifest,
  type ManifestTemplate,
  type TaskEntry,
} from './manifest.js';
import { parseQbc, sha256Hex, type QbcHeader } from './qbc.js';
import { checkSignature, SIG_ENTRY_NAME, signManifest, type Signer } from './sign.js';

export interface BundleSource {
  bytes: Uint8Array;
  /** How messages name this file, e.g. its path. */
  label: string;
}

export interface BuildOptions {
  /** When set (from `cohc --fingerprint`), every bundle must carry this fingerprint. */
  expectFingerprint?: string;
  /** Signs the manifest (a manifest.sig entry) when set. */
  signer?: Signer;
  what?: string;
}

export interface Built {
  image: Uint8Array;
  manifest: Manifest;
}

/**
 * Checks every bundle's .qbc header, that all bundles name one engine, fills the template in
 * and writes the CPIO image. The result is opened and checked again before it is returned.
 */
export function buildImage(template: ManifestTemplate, bundles: ReadonlyMap<string, BundleSource>, opts: BuildOptions = {}): Built {
  const what = opts.what ?? 'image';
  const facts = new Map<string, BundleFacts>();
  let engine: EngineId | undefined;
  let engineFrom = '';
  for (const task of template.tasks) {
    const src = bundles.get(task.bundle);
    if (!src) throw new ImageError('image-missing', `bundles: no ${task.bundle} for task ${task.name}`);
    const h = parseQbc(src.bytes, src.label);
    const mine: EngineId = { version: h.engineVersion, fingerprint: h.engineFingerprint };
    if (opts.expectFingerprint !== undefined && mine.fingerprint !== opts.expectFingerprint) {
      throw new ImageError('image-engine', `${src.label}: engine fingerprint ${mine.fingerprint} differs from cohc --fingerprint ${opts.expectFingerprint}; recompile it with this cohc`);
    }
    if (engine === undefined) {
      engine = mine;
      engineFrom = src.label;
    } else if (engine.version !== mine.version || engine.fingerprint !== mine.fingerprint) {
      throw new ImageError('image-engine',
        `bundles disagree on the engine: ${engineFrom} was built by ${engine.version} fingerprint ${engine.fingerprint}, ` +
        `${src.label} by ${mine.version} fingerprint ${mine.fingerprint}; recompile them with one cohc`);
    }
    facts.set(task.bundle, { size: src.bytes.length, sha256: sha256Hex(src.bytes) });
  }
  const manifest = fillManifest(template, engine!, facts);
  const manifestBytes = encodeManifest(manifest);
  const entries = [{ name: MANIFEST_ENTRY_NAME, data: manifestBytes }];
  if (opts.signer) entries.push({ name: SIG_ENTRY_NAME, data: signManifest(manifestBytes, opts.signer) });
  for (const t of manifest.tasks) entries.push({ name: t.bundle, data: bundles.get(t.bundle)!.bytes });
  const image = writeCpio(entries, what);

  // An unsigned release image is built to be signed later (cohimg sign): only its bundles are checked here.
  const opened = openImage(image, what);
  const problems = opts.signer ? checkImage(opened, opts.signer.publicKey) : checkBundles(opened).flatMap((b) => b.problems);
  if (problems.length > 0) throw new Error(`image tool bug: the image it built fails its own check: ${problems[0].message}`);
  return { image, manifest };
}

export interface OpenedImage {
  what: string;
  bytes: Uint8Array;
  manifest: Manifest;
  manifestEntry: CpioEntry;
  /** manifest.sig, when the image is signed (not yet checked: see checkImage). */
  sigEntry: CpioEntry | null;
  /** One per task, in manifest order. */
  bundles: { task: TaskEntry; entry: CpioEntry }[];
}

/**
 * Reads an image's structure strictly: the CPIO rules, manifest.json first and valid, then
 * exactly the listed bundles in manifest order. Throws an ImageError at the first refusal.
 */
export function openImage(bytes: Uint8Array, what = 'image'): OpenedImage {
  const entries = readCpio(bytes, what);
  const first = entries[0];
  if (!first || first.name !== MANIFEST_ENTRY_NAME) {
    throw new ImageError('image-order', `${what}: the first entry must be ${MANIFEST_ENTRY_NAME}, found ${first ? first.name : 'no entries'}`);
  }
  const manifest = parseManifestBytes(first.data, 'image', `${what}: ${MANIFEST_ENTRY_NAME}`) as Manifest;
  const listed = manifest.tasks.map((t) => t.bundle);
  const sigEntry = entries[1]?.name === SIG_ENTRY_NAME ? entries[1] : null;
  const rest = entries.slice(sigEntry ? 2 : 1);
  for (const e of rest) {
    if (e.name === MANIFEST_ENTRY_NAME) throw new ImageError('image-order', `${what}: ${MANIFEST_ENTRY_NAME} must be the first entry only`);
    if (e.name === SIG_ENTRY_NAME) throw new ImageError('image-order', `${what}: ${SIG_ENTRY_NAME} must be the second entry, right after ${MANIFEST_ENTRY_NAME}`);
    if (!listed.includes(e.name)) throw new ImageError('image-unlisted', `${what}: entry ${e.name} is not listed in the manifest`);
  }
  const present = new Set(rest.map((e) => e.name));
  for (const t of manifest.tasks) {
    if (!present.has(t.bundle)) throw new ImageError('image-missing', `${what}: bundle ${t.bundle} of task ${t.name} is missing`);
  }
  // Same names, same count (both are duplicate-free): only the order can still differ.
  const skip = sigEntry ? 3 : 2;
  rest.forEach((e, i) => {
    if (e.name !== listed[i]) {
      throw new ImageError('image-order', `${what}: entry ${i + skip} is ${e.name}, expected ${listed[i]} (bundles must follow manifest order)`);
    }
  });
  return { what, bytes, manifest, manifestEntry: first, sigEntry, bundles: manifest.tasks.map((task, i) => ({ task, entry: rest[i] })) };
}

export interface BundleCheck {
  task: TaskEntry;
  entry: CpioEntry;
  size: number;
  sha256: string;
  /** Null when the .qbc header itself is refused. */
  header: QbcHeader | null;
  problems: ImageError[];
}

/** Checks each bundle against its manifest entry and the manifest's engine; one result per task. */
export function checkBundles(img: OpenedImage): BundleCheck[] {
  const { manifest, what } = img;
  return img.bundles.map(({ task, entry }) => {
    const at = `${what}: ${entry.name}`;
    const problems: ImageError[] = [];
    const size = entry.data.length;
    const sha256 = sha256Hex(entry.data);
    if (size !== task.size) problems.push(new ImageError('image-hash', `${at}: size ${size} differs from the manifest's ${task.size}`));
    if (sha256 !== task.sha256) problems.push(new ImageError('image-hash', `${at}: sha256 ${sha256} differs from the manifest's ${task.sha256}`));
    let header: QbcHeader | null = null;
    try {
      header = parseQbc(entry.data, at);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      problems.push(e);
    }
    if (header && header.engineVersion !== manifest.engine.version) {
      problems.push(new ImageError('image-engine', `${at}: built by engine ${header.engineVersion}, the manifest says ${manifest.engine.version}`));
    }
    if (header && header.engineFingerprint !== manifest.engine.fingerprint) {
      problems.push(new ImageError('image-engine', `${at}: engine fingerprint ${header.engineFingerprint} differs from the manifest's ${manifest.engine.fingerprint}`));
    }
    return { task, entry, size, sha256, header, problems };
  });
}

export interface SignatureCheck {
  signed: boolean;
  /** The signer's key id when manifest.sig verified. */
  keyId: string | null;
  /** Whether it was checked against a trusted key (else only against the key it carries). */
  trusted: boolean;
  problems: ImageError[];
}

/**
 * The firmware's signature rules (firmware/image.c): manifest.sig, when present, must verify (against
 * `trusted` when given); with a trusted key an unsigned image is refused; a release image must be signed.
 * Without a trusted key a signature is checked against the key it carries: that proves integrity, not
 * who signed it, and the result says so (`trusted: false`).
 */
export function checkImageSignature(img: OpenedImage, trusted?: Uint8Array): SignatureCheck {
  const r: SignatureCheck = { signed: img.sigEntry !== null, keyId: null, trusted: trusted !== undefined, problems: [] };
  if (img.sigEntry) {
    try {
      r.keyId = checkSignature(img.manifestEntry.data, img.sigEntry.data, trusted, img.what);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      r.problems.push(e);
    }
  } else if (trusted) {
    r.problems.push(new ImageError('image-unsigned', `${img.what}: unsigned image: no ${SIG_ENTRY_NAME} entry, and a trusted key was given`));
  } else if (img.manifest.profile === 'release') {
    r.problems.push(new ImageError('image-unsigned', `${img.what}: unsigned release image: a release image must carry ${SIG_ENTRY_NAME}`));
  }
  return r;
}

/** Every problem of the signature and of checkBundles, flattened; empty means the image verifies. */
export function checkImage(img: OpenedImage, trusted?: Uint8Array): ImageError[] {
  return [...checkImageSignature(img, trusted).problems, ...checkBundles(img).flatMap((b) => b.problems)];
}

/** The same image signed by `signer` (an existing manifest.sig is replaced); nothing else changes. */
export function signImage(img: OpenedImage, signer: Signer): Uint8Array {
  const entries = [
    { name: MANIFEST_ENTRY_NAME, data: img.manifestEntry.data },
    { name: SIG_ENTRY_NAME, data: signManifest(img.manifestEntry.data, signer) },
    ...img.bundles.map((b) => ({ name: b.entry.name, data: b.entry.data })),
  ];
  return writeCpio(entries, img.what);
}
