# test_image_v1: signed images (format v1) in the firmware: every tamper refused before anything runs, with the message a user sees.
import hashlib
import json
import subprocess

import image_kit
import pytest
from hivekit import BANNER, BASE_MANIFEST, REPO, build_image, cohimg, run_sim

REFUSED_EXIT = 1
SIG_ENTRY = "manifest.sig"
SIG_KEY_OFFSET = 8  # manifest.sig: magic (8), public key (32), signature (64)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two key pairs: `owner` signs the images, `stranger` is some other key."""
    d = tmp_path_factory.mktemp("keys")
    cohimg("keygen", "--out", str(d / "owner"))
    cohimg("keygen", "--out", str(d / "stranger"))
    return d


@pytest.fixture(scope="module")
def signed_image(tmp_path_factory, keys):
    manifest = json.loads(BASE_MANIFEST.read_text())
    return build_image(tmp_path_factory.mktemp("signed"), manifest, name="signed", key=keys / "owner.key")


def key_id(keys, name: str) -> str:
    """First 16 hex digits of SHA-256 of the raw public key (docs/image-format.md)."""
    pub = (keys / f"{name}.pub").read_text().split()[2]
    return hashlib.sha256(bytes.fromhex(pub)).hexdigest()[:16]


def assert_refused(image, message: str, trust=None) -> None:
    """Exit 1, exactly the one stderr line, and nothing ran: no UART output, no banner, no task log."""
    r = run_sim(image, extra=("--trust-key", str(trust)) if trust else ())
    assert r.returncode == REFUSED_EXIT, f"exit {r.returncode}\nstdout: {r.stdout!r}\nstderr: {r.stderr!r}"
    assert r.stderr == message + "\n"
    assert r.stdout == "" and BANNER not in r.stderr and "[root-task]" not in r.stderr


def flipped(src, tmp_path, name: str, entry: str, at) -> object:
    data = bytearray(src.read_bytes())
    e = next(e for e in image_kit.unpack(bytes(data)) if e.name == entry)
    data[e.offset + at(e)] ^= 0x01
    out = tmp_path / name
    out.write_bytes(data)
    return out


def sign_raw(image, key, out) -> None:
    """Signs an image without cohimg's own checks (a forger who holds the key), via the compiled sign module."""
    js = ("const [{openImage, signImage}, {parsePrivateKey}, fs] = await Promise.all([import('./build/tsc/host/image/image.js'),"
          " import('./build/tsc/host/image/sign.js'), import('node:fs')]);"
          f" const s = parsePrivateKey(fs.readFileSync('{key}', 'utf8'), 'k');"
          f" fs.writeFileSync('{out}', signImage(openImage(new Uint8Array(fs.readFileSync('{image}'))), s));")
    subprocess.run(["node", "--input-type=module", "-e", js], cwd=REPO, check=True, timeout=30)


def test_signed_image_boots_with_its_trusted_key(signed_image, keys, hive):
    sim = hive(signed_image, extra=("--trust-key", str(keys / "owner.pub")))
    sim.expect_log(rf"\[firmware\] image dev \(dev\) verified: signed by trusted key, 2 tasks", what="verified line")


def test_flipped_byte_in_each_bundle_refused_sha256_differs(signed_image, keys, tmp_path):
    for bundle in ("root-task.qbc", "worker-heart.qbc"):
        bad = flipped(signed_image, tmp_path, f"{bundle}.img", bundle, lambda e: len(e.data) - 1)
        assert_refused(bad, f"cohesix-sim: {bad}: image: {bundle}: sha256 differs from the manifest (corrupted or tampered)",
                       keys / "owner.pub")


def test_flipped_byte_in_manifest_refused_signature_does_not_verify(signed_image, keys, tmp_path):
    owner = key_id(keys, "owner")
    # '50' of cpu_slice_ms → '40': still a valid manifest, so only the signature can object.
    bad = flipped(signed_image, tmp_path, "manifest.img", "manifest.json", lambda e: e.data.index(b'"cpu_slice_ms": 50') + 16)
    msg = (f"cohesix-sim: {bad}: image: signature: Ed25519 signature by key {owner} does not verify over manifest.json "
           "(manifest or signature altered)")
    assert_refused(bad, msg, keys / "owner.pub")
    assert_refused(bad, msg)  # without a trusted key too: the signature is checked against the key it carries


def test_flipped_byte_in_signature_refused(signed_image, keys, tmp_path):
    owner = key_id(keys, "owner")
    bad = flipped(signed_image, tmp_path, "sig.img", SIG_ENTRY, lambda e: len(e.data) - 1)
    assert_refused(bad, f"cohesix-sim: {bad}: image: signature: Ed25519 signature by key {owner} does not verify over "
                        "manifest.json (manifest or signature altered)", keys / "owner.pub")


def test_flipped_byte_in_signer_key_refused_untrusted_key(signed_image, keys, tmp_path):
    bad = flipped(signed_image, tmp_path, "key.img", SIG_ENTRY, lambda e: SIG_KEY_OFFSET)
    r = run_sim(bad, extra=("--trust-key", str(keys / "owner.pub")))
    assert r.returncode == REFUSED_EXIT and r.stdout == ""
    assert f"this firmware trusts only key {key_id(keys, 'owner')}" in r.stderr


def test_image_signed_by_another_key_refused(signed_image, keys):
    owner, stranger = key_id(keys, "owner"), key_id(keys, "stranger")
    assert_refused(signed_image, f"cohesix-sim: {signed_image}: image: signature: signed by key {owner}, "
                                 f"this firmware trusts only key {stranger}", keys / "stranger.pub")


def test_unsigned_image_refused_when_a_key_is_trusted(dev_image, keys):
    assert_refused(dev_image, f"cohesix-sim: {dev_image}: image: unsigned image refused: no manifest.sig entry, and this "
                              f"firmware trusts only images signed by key {key_id(keys, 'owner')}", keys / "owner.pub")


def test_bytecode_from_another_engine_build_refused_even_when_signed(signed_image, keys, tmp_path):
    # The owner's key signs a manifest listing a .qbc built by another engine (fingerprint byte changed,
    # header digest and manifest sha256 made to match): signature and hashes pass, the engine check does not.
    entries = image_kit.unpack(signed_image.read_bytes())
    qbc = bytearray(next(e for e in entries if e.name == "worker-heart.qbc").data)
    qbc[image_kit.QBC_FINGERPRINT_OFFSET] ^= 0x01
    forged = image_kit.reseal_qbc(bytes(qbc))
    manifest = image_kit.manifest_of(entries)
    manifest["tasks"][1]["sha256"] = image_kit.sha256_hex(forged)
    unsigned = tmp_path / "other-engine.unsigned.img"
    unsigned.write_bytes(image_kit.repack(entries, manifest, {"worker-heart.qbc": forged}))
    bad = tmp_path / "other-engine.img"
    sign_raw(unsigned, keys / "owner.key", bad)
    assert_refused(bad, f"cohesix-sim: {bad}: image: worker-heart.qbc: refused: built by another engine configuration "
                        "(fingerprint differs)", keys / "owner.pub")


def test_unsigned_release_image_refused(tmp_path):
    manifest = json.loads(BASE_MANIFEST.read_text())
    manifest["profile"] = "release"
    img = build_image(tmp_path, manifest, name="release")
    assert_refused(img, f"cohesix-sim: {img}: image: unsigned release image refused: a release image must carry "
                        "manifest.sig by the trusted key")


def test_signed_release_image_needs_a_trusted_key(tmp_path, keys, hive):
    manifest = json.loads(BASE_MANIFEST.read_text())
    manifest["profile"] = "release"
    img = build_image(tmp_path, manifest, name="release", key=keys / "owner.key")
    assert_refused(img, f"cohesix-sim: {img}: image: release image refused: no trusted key configured "
                        "(cohesix-sim --trust-key <file>)")
    hive(img, extra=("--trust-key", str(keys / "owner.pub")))  # boots once the key is given


def test_lower_case_cpio_header_refused(signed_image, keys, tmp_path):
    data = signed_image.read_bytes()
    # mode 000081A4 of the first header: its 'A' at offset 6 + 8 + 6
    assert data[20:21] == b"A"
    bad = tmp_path / "case.img"
    bad.write_bytes(data[:20] + b"a" + data[21:])
    assert_refused(bad, f"cohesix-sim: {bad}: image: header at offset 0: a field is not 8 upper-case hex digits",
                   keys / "owner.pub")


def test_bad_trust_key_file_refused_naming_it(signed_image, tmp_path):
    k = tmp_path / "bad.pub"
    k.write_text("ssh-ed25519 AAAAC3Nza\n")
    r = run_sim(signed_image, extra=("--trust-key", str(k)))
    assert r.returncode == 1
    assert r.stderr.startswith(f"cohesix-sim: trusted key {k}: public key file must be one line")
