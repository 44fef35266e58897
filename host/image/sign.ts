// Ed25519 keys and the manifest.sig entry (image format v1), on Node's built-in crypto.
//
// Keep in sync with: docs/image-format.md, firmware/image_sig.h (layout, key id, public key file).
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ImageError } from './errors.js';

export const SIG_ENTRY_NAME = 'manifest.sig';
/** manifest.sig: this magic, the signer's 32-byte public key, the 64-byte signature over manifest.json. */
export const SIG_MAGIC = 'COHSIGv1';
export const SIG_MAGIC_BYTES = 8;
export const SIG_KEY_BYTES = 32;
export const SIG_SIGNATURE_BYTES = 64;
export const SIG_ENTRY_BYTES = SIG_MAGIC_BYTES + SIG_KEY_BYTES + SIG_SIGNATURE_BYTES;
/** A key id: the first 8 bytes of SHA-256(public key), as 16 hex digits. */
export const KEY_ID_HEX_DIGITS = 16;
export const PUBKEY_FILE_PREFIX = 'cohesix-pubkey ed25519 ';
/** Largest key file read (a PKCS#8 PEM Ed25519 key is 119 bytes). */
export const KEY_FILE_BYTES_MAX = 4096;

export interface Signer {
  privateKey: KeyObject;
  publicKey: Uint8Array;
  keyId: string;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function keyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, KEY_ID_HEX_DIGITS);
}

function rawPublic(k: KeyObject): Uint8Array {
  const jwk = k.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** A fresh key pair: the private key as PKCS#8 PEM, the public key as a one-line text file. */
export function generateKeys(): { privatePem: string; publicText: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = rawPublic(publicKey);
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, publicText: encodePublicKey(raw), keyId: keyId(raw) };
}

export function encodePublicKey(raw: Uint8Array): string {
  return `${PUBKEY_FILE_PREFIX}${hex(raw)}\n`;
}

/** Parses a public key file's text as the firmware does (image_pubkey_parse). */
export function parsePublicKey(text: string, what: string): Uint8Array {
  const m = /^cohesix-pubkey ed25519 ([0-9a-f]{64})\n?$/.exec(text);
  if (!m) throw new ImageError('key', `${what}: not a public key file (one line '${PUBKEY_FILE_PREFIX}<64 lowercase hex digits>')`);
  return new Uint8Array(Buffer.from(m[1], 'hex'));
}

/** Parses a PKCS#8 PEM Ed25519 private key (cohimg keygen writes one). */
export function parsePrivateKey(text: string, what: string): Signer {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: text, format: 'pem' });
  } catch (e) {
    throw new ImageError('key', `${what}: not a PEM private key (${(e as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ImageError('key', `${what}: a ${privateKey.asymmetricKeyType} key; images are signed with Ed25519 keys (cohimg keygen)`);
  }
  const publicKey = rawPublic(createPublicKey(privateKey));
  return { privateKey, publicKey, keyId: keyId(publicKey) };
}

/** The manifest.sig entry for these manifest bytes. */
export function signManifest(manifest: Uint8Array, signer: Signer): Uint8Array {
  const out = new Uint8Array(SIG_ENTRY_BYTES);
  for (let i = 0; i < SIG_MAGIC_BYTES; i++) out[i] = SIG_MAGIC.charCodeAt(i);
  out.set(signer.publicKey, SIG_MAGIC_BYTES);
  out.set(sign(null, manifest, signer.privateKey), SIG_MAGIC_BYTES + SIG_KEY_BYTES);
  return out;
}

/**
 * Checks manifest.sig as the firmware does (image_sig_check): layout, the trusted key when given,
 * then Ed25519 over the manifest bytes. Returns the signer's key id.
 */
export function checkSignature(manifest: Uint8Array, sig: Uint8Array, trusted: Uint8Array | undefined, what: string): string {
  if (sig.length !== SIG_ENTRY_BYTES) {
    throw new ImageError('image-signature', `${what}: ${SIG_ENTRY_NAME} is ${sig.length} bytes, a v1 signature is ${SIG_ENTRY_BYTES}`);
  }
  for (let i = 0; i < SIG_MAGIC_BYTES; i++) {
    if (sig[i] !== SIG_MAGIC.charCodeAt(i)) throw new ImageError('image-signature', `${what}: ${SIG_ENTRY_NAME} has no ${SIG_MAGIC} magic (not a v1 signature)`);
  }
  const key = sig.subarray(SIG_MAGIC_BYTES, SIG_MAGIC_BYTES + SIG_KEY_BYTES);
  const id = keyId(key);
  if (trusted && Buffer.compare(Buffer.from(key), Buffer.from(trusted)) !== 0) {
    throw new ImageError('image-signature', `${what}: signed by key ${id}, the trusted key is ${keyId(trusted)}`);
  }
  let ok = false;
  try {
    ok = verify(null, manifest, publicKeyObject(key), sig.subarray(SIG_MAGIC_BYTES + SIG_KEY_BYTES));
  } catch {
    ok = false; // a key that is not a valid curve point
  }
  if (!ok) throw new ImageError('image-signature', `${what}: Ed25519 signature by key ${id} does not verify over manifest.json (manifest or signature altered)`);
  return id;
}
