// Tests for image format v1: signing, the firmware's signature rules, and that every single-byte change of a signed image is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readCpio } from './cpio.js';
import { ImageError } from './errors.js';
import { buildImage, checkImage, checkImageSignature, openImage, signImage } from './image.js';
import { fakeQbc, hostTemplate } from './fixtures.js';
import { generateKeys, parsePrivateKey, parsePublicKey, SIG_ENTRY_BYTES, SIG_ENTRY_NAME, type Signer } from './sign.js';

function signer(): Signer {
  return parsePrivateKey(generateKeys().privatePem, 'test key');
}

function bundles() {
  return new Map([
    ['root-task.qbc', { bytes: fakeQbc('r'), label: 'root-task.qbc' }],
    ['worker-heart.qbc', { bytes: fakeQbc('w'), label: 'worker-heart.qbc' }],
  ]);
}

/** Every verdict on an image: structure (openImage) then signature and bundles; null means accepted. */
function refusal(bytes: Uint8Array, trusted?: Uint8Array): string | null {
  try {
    const problems = checkImage(openImage(bytes, 'img'), trusted);
    return problems.length ? problems[0].message : null;
  } catch (e) {
    if (e instanceof ImageError) return e.message;
    throw e;
  }
}

test('sign: a signed image carries manifest.sig second and verifies against its key', () => {
  const s = signer();
  const { image } = buildImage(hostTemplate(), bundles(), { signer: s });
  const names = readCpio(image).map((e) => e.name);
  assert.deepEqual(names, ['manifest.json', SIG_ENTRY_NAME, 'root-task.qbc', 'worker-heart.qbc']);
  assert.equal(readCpio(image)[1].data.length, SIG_ENTRY_BYTES);
  const sig = checkImageSignature(openImage(image), s.publicKey);
  assert.deepEqual(sig, { signed: true, keyId: s.keyId, trusted: true, problems: [] });
  assert.equal(refusal(image), null, 'without a trusted key it is checked against the key it carries');
});

test('sign: another trusted key, an unsigned image with a trusted key, and an unsigned release image are refused', () => {
  const s = signer();
  const other = signer();
  const { image } = buildImage(hostTemplate(), bundles(), { signer: s });
  assert.equal(refusal(image, other.publicKey), `img: signed by key ${s.keyId}, the trusted key is ${other.keyId}`);
  const unsigned = buildImage(hostTemplate(), bundles()).image;
  assert.equal(refusal(unsigned), null, 'a dev image may be unsigned when no key is trusted');
  assert.equal(refusal(unsigned, s.publicKey), 'img: unsigned image: no manifest.sig entry, and a trusted key was given');
  const release = buildImage({ ...hostTemplate(), profile: 'release' }, bundles()).image;
  assert.equal(refusal(release), 'img: unsigned release image: a release image must carry manifest.sig');
  const signedRelease = signImage(openImage(release, 'img'), s);
  assert.equal(refusal(signedRelease, s.publicKey), null, 'cohimg sign turns it into a bootable one');
});

test('sign: re-signing replaces manifest.sig and changes nothing else', () => {
  const a = signer();
  const b = signer();
  const { image } = buildImage(hostTemplate(), bundles(), { signer: a });
  const again = signImage(openImage(image), b);
  assert.equal(again.length, image.length);
  assert.equal(refusal(again, b.publicKey), null);
  assert.match(refusal(again, a.publicKey) ?? '', /signed by key/);
  const [x, y] = [readCpio(image), readCpio(again)];
  assert.deepEqual(Buffer.from(x[0].data), Buffer.from(y[0].data));
  assert.deepEqual(Buffer.from(x[2].data), Buffer.from(y[2].data));
});

test('sign: an altered manifest or signature names the signature check', () => {
  const s = signer();
  const { image } = buildImage(hostTemplate(), bundles(), { signer: s });
  const entries = readCpio(image);
  const m = image.slice();
  m[entries[0].dataOffset + entries[0].data.indexOf(0x35)] ^= 0x01; // a '5' of cpu_slice_ms 50 → '4'
  assert.equal(refusal(m, s.publicKey), `img: Ed25519 signature by key ${s.keyId} does not verify over manifest.json (manifest or signature altered)`);
  const g = image.slice();
  g[entries[1].dataOffset + SIG_ENTRY_BYTES - 1] ^= 0x80;
  assert.match(refusal(g, s.publicKey) ?? '', /does not verify over manifest\.json/);
  const magic = image.slice();
  magic[entries[1].dataOffset] ^= 0x01;
  assert.equal(refusal(magic, s.publicKey), 'img: manifest.sig has no COHSIGv1 magic (not a v1 signature)');
});

test('sign: every single-byte change of a signed image is refused (bit 0, bit 7 and the letter case of each byte)', () => {
  const s = signer();
  const { image } = buildImage(hostTemplate(), bundles(), { signer: s });
  for (const trusted of [s.publicKey, undefined]) {
    for (let i = 0; i < image.length; i++) {
      for (const mask of [0x01, 0x80, 0x20]) {
        if (mask === 0x20 && !/[A-Za-z]/.test(String.fromCharCode(image[i]))) continue;
        const bad = image.slice();
        bad[i] ^= mask;
        const why = refusal(bad, trusted);
        assert.notEqual(why, null, `byte ${i} ^ 0x${mask.toString(16)} accepted (${trusted ? 'trusted key' : 'no trusted key'})`);
      }
    }
  }
});

test('sign: key files: the public key line round-trips, and a wrong file is refused with its name', () => {
  const k = generateKeys();
  const s = parsePrivateKey(k.privatePem, 'k');
  assert.deepEqual(parsePublicKey(k.publicText, 'p'), s.publicKey);
  assert.equal(s.keyId, k.keyId);
  assert.throws(() => parsePublicKey('ssh-ed25519 AAAA', 'trusted key x.pub'), /trusted key x\.pub: not a public key file/);
  assert.throws(() => parsePrivateKey('nonsense', 'private key x.key'), /private key x\.key: not a PEM private key/);
});
