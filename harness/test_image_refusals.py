# test_image_refusals: images the firmware must refuse before anything boots, each with the exact message a user sees.
import re

import image_kit
from hivekit import BANNER, run_sim

# main.c's exit status for an image it cannot open or verify.
REFUSED_EXIT = 1


def assert_refused(image, message: str) -> None:
    """Non-zero exit, exactly one stderr line `message`, and nothing on the UART (no banner)."""
    r = run_sim(image)
    assert r.returncode == REFUSED_EXIT, f"exit {r.returncode}\nstdout: {r.stdout!r}\nstderr: {r.stderr!r}"
    assert r.stderr == message + "\n"
    assert r.stdout == "" and BANNER not in r.stderr


def entries_of(path):
    return image_kit.unpack(path.read_bytes())


def test_image_kit_repack_reproduces_cohimg_bytes(dev_image):
    # The forged images below are written by image_kit.pack: it must be faithful to cohimg.
    data = dev_image.read_bytes()
    entries = image_kit.unpack(data)
    assert [e.name for e in entries] == ["manifest.json", "root-task.qbc", "worker-heart.qbc"]
    assert image_kit.repack(entries, image_kit.manifest_of(entries)) == data


def test_flipped_qbc_byte_refused_sha256_differs(dev_image, tmp_path):
    data = bytearray(dev_image.read_bytes())
    # The second bundle, so the test proves every entry is checked before boot, not only root-task's.
    worker = entries_of(dev_image)[2]
    data[worker.offset + len(worker.data) - 1] ^= 0x01
    bad = tmp_path / "flipped.img"
    bad.write_bytes(data)
    assert_refused(bad, f"cohesix-sim: {bad}: image: worker-heart.qbc: sha256 differs from the manifest (corrupted or tampered)")


def test_manifest_with_wrong_sha256_refused_sha256_differs(dev_image, tmp_path):
    # Method: rewrite manifest.json inside the image with image_kit (same CPIO layout as cohimg, see
    # test_image_kit_repack_reproduces_cohimg_bytes), changing only the worker's sha256 to another
    # well-formed digest; the bundle bytes and size stay as built, so only the hash check can object.
    entries = entries_of(dev_image)
    manifest = image_kit.manifest_of(entries)
    manifest["tasks"][1]["sha256"] = image_kit.sha256_hex(b"not the worker-heart bundle")
    bad = tmp_path / "wrong-sha.img"
    bad.write_bytes(image_kit.repack(entries, manifest))
    assert_refused(bad, f"cohesix-sim: {bad}: image: worker-heart.qbc: sha256 differs from the manifest (corrupted or tampered)")


def test_qbc_from_another_engine_build_refused_another_engine_configuration(dev_image, tmp_path):
    # One byte of the .qbc's engine fingerprint changes and its header digest is recomputed, and the
    # manifest's sha256 follows it: every other check passes, so only the fingerprint check can catch it.
    # cohimg refuses bundles of mixed fingerprints, hence the repack with image_kit.
    entries = entries_of(dev_image)
    qbc = bytearray(entries[1].data)
    qbc[image_kit.QBC_FINGERPRINT_OFFSET] ^= 0x01
    forged = image_kit.reseal_qbc(bytes(qbc))
    manifest = image_kit.manifest_of(entries)
    manifest["tasks"][0]["sha256"] = image_kit.sha256_hex(forged)
    bad = tmp_path / "other-engine.img"
    bad.write_bytes(image_kit.repack(entries, manifest, {"root-task.qbc": forged}))
    assert_refused(bad, f"cohesix-sim: {bad}: image: root-task.qbc: refused: built by another engine configuration "
                        "(fingerprint differs)")


def test_missing_image_file_refused_cannot_open(tmp_path):
    missing = tmp_path / "no-such.img"
    assert_refused(missing, f"cohesix-sim: cannot open image {missing}: No such file or directory")


def test_truncated_image_refused_entry_truncated(dev_image, tmp_path):
    worker = entries_of(dev_image)[2]
    bad = tmp_path / "truncated.img"
    # Cut in the middle of the last bundle: the CPIO header still declares its full size.
    bad.write_bytes(dev_image.read_bytes()[: worker.offset + len(worker.data) // 2])
    assert_refused(bad, f"cohesix-sim: {bad}: image: entry 'worker-heart.qbc' is truncated ({len(worker.data)} bytes declared)")


def test_manifest_whose_size_is_a_multiple_of_4_boots(dev_image, tmp_path, hive):
    # Regression: the loader handed manifest.json to JS_ParseJSON without a NUL after it; when its size is
    # a multiple of 4 the next CPIO header follows with no padding and the firmware said "not a JSON object".
    entries = entries_of(dev_image)
    manifest = image_kit.manifest_of(entries)
    base_id = manifest["image_id"]
    for pad in range(4):
        manifest["image_id"] = base_id + "x" * pad
        data = image_kit.repack(entries, manifest)
        if len(image_kit.unpack(data)[0].data) % 4 == 0:
            break
    assert len(image_kit.unpack(data)[0].data) % 4 == 0
    img = tmp_path / "aligned-manifest.img"
    img.write_bytes(data)
    sim = hive(img)
    sim.expect_uart(re.escape(f"{BANNER}\r\nimage {manifest['image_id']} profile dev\r\n"), what="banner")
