/* Image format v1 in the firmware loader: signed images boot, and every refusal (key, profile, any flipped byte) is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine_id.h"
#include "image.h"
#include "image_sig.h"
#include "monocypher-ed25519.h"
#include "qbc.h"
#include "sha256.h"

/* A small image: manifest.json, manifest.sig and one bundle, laid out as cohimg writes it. */
#define TEST_IMAGE_BYTES_MAX 8192u
#define TEST_PAYLOAD_BYTES 40u

typedef struct Keys {
  uint8_t secret[64];
  uint8_t pub[32];
} Keys;

static Keys g_key, g_other;
static uint8_t g_image[TEST_IMAGE_BYTES_MAX];
static size_t g_image_len;
static Image g_img;
static Manifest g_m;

static void keys(Keys *k, uint8_t seed_byte) {
  uint8_t seed[32];
  memset(seed, seed_byte, sizeof seed);
  crypto_ed25519_key_pair(k->secret, k->pub, seed); /* wipes seed */
}

static size_t pad4(size_t n) { return (4 - n % 4) % 4; }

static size_t put_entry(uint8_t *out, size_t o, const char *name, const uint8_t *data, size_t len, unsigned mode) {
  char head[CPIO_HEADER_BYTES + 1];
  size_t namesize = strlen(name) + 1;
  snprintf(head, sizeof head, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 0u, mode, 0u, 0u, 1u, 0u,
           (unsigned)len, 0u, 0u, 0u, 0u, (unsigned)namesize, 0u);
  memcpy(out + o, head, CPIO_HEADER_BYTES);
  memcpy(out + o + CPIO_HEADER_BYTES, name, namesize);
  o += CPIO_HEADER_BYTES + namesize;
  size_t p = pad4(o);
  memset(out + o, 0, p);
  o += p;
  if (len) memcpy(out + o, data, len);
  o += len;
  p = pad4(len);
  memset(out + o, 0, p);
  return o + p;
}

/* Builds the image; `signer` NULL leaves it unsigned. */
static size_t make_image(uint8_t *out, const char *profile, const Keys *signer) {
  uint8_t qbc[QBC_HEADER_BYTES + TEST_PAYLOAD_BYTES], payload[TEST_PAYLOAD_BYTES], digest[32];
  for (unsigned i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 13 + 1);
  qbc_write_header(qbc, 0, engine_id(), payload, sizeof payload);
  memcpy(qbc + QBC_HEADER_BYTES, payload, sizeof payload);
  sha256(qbc, sizeof qbc, digest);
  char sha[65], manifest[1024];
  sha256_hex(digest, sha);
  int n = snprintf(manifest, sizeof manifest,
                   "{\n  \"schema\": \"cohesix-manifest/v1\",\n  \"image_id\": \"t\",\n  \"profile\": \"%s\",\n"
                   "  \"engine\": {\"version\": \"%s\", \"fingerprint\": \"%s\"},\n  \"root_task\": \"root-task\",\n"
                   "  \"tasks\": [{\"name\": \"root-task\", \"bundle\": \"root-task.qbc\", \"size\": %zu, \"sha256\": \"%s\",\n"
                   "    \"arena_bytes\": 262144, \"cpu_slice_ms\": 50, \"grants\": [\"log\"], \"config\": {}}],\n"
                   "  \"console\": {\"port\": 31337, \"auth_token\": \"changeme\", \"max_sessions\": 4}\n}\n",
                   profile, engine_id()->version, engine_id()->fingerprint_hex, sizeof qbc, sha);
  size_t o = put_entry(out, 0, "manifest.json", (const uint8_t *)manifest, (size_t)n, 0100644);
  if (signer) {
    uint8_t sig[IMAGE_SIG_BYTES];
    memcpy(sig, IMAGE_SIG_MAGIC, IMAGE_SIG_MAGIC_BYTES);
    memcpy(sig + IMAGE_SIG_MAGIC_BYTES, signer->pub, 32);
    crypto_ed25519_sign(sig + IMAGE_SIG_MAGIC_BYTES + 32, signer->secret, (const uint8_t *)manifest, (size_t)n);
    o = put_entry(out, o, IMAGE_SIG_ENTRY_NAME, sig, sizeof sig, 0100644);
  }
  o = put_entry(out, o, "root-task.qbc", qbc, sizeof qbc, 0100644);
  o = put_entry(out, o, "TRAILER!!!", NULL, 0, 0);
  size_t tail = (CPIO_BLOCK_BYTES - o % CPIO_BLOCK_BYTES) % CPIO_BLOCK_BYTES;
  memset(out + o, 0, tail);
  return o + tail;
}

static ImageTrust trusting(const Keys *k) {
  ImageTrust t = {1, {0}};
  memcpy(t.key, k->pub, 32);
  return t;
}

/* 0 if opened (and frees it), else -1 with err. */
static int open_image(const uint8_t *buf, size_t len, const ImageTrust *trust, char *err, size_t err_len) {
  if (image_open(buf, len, trust, &g_img, &g_m, err, err_len) < 0) return -1;
  manifest_free(&g_m);
  return 0;
}

static int setup(void **state) {
  (void)state;
  keys(&g_key, 7);
  keys(&g_other, 9);
  g_image_len = make_image(g_image, "dev", &g_key);
  return 0;
}

static void signed_image_opens_with_its_key_and_without_one(void **state) {
  (void)state;
  char err[512] = "";
  ImageTrust t = trusting(&g_key);
  assert_int_equal(open_image(g_image, g_image_len, &t, err, sizeof err), 0);
  assert_true(g_img.is_signed);
  char id[IMAGE_KEY_ID_HEX_DIGITS + 1];
  image_key_id(g_key.pub, id);
  assert_string_equal(g_img.signer_id, id);
  assert_int_equal(open_image(g_image, g_image_len, NULL, err, sizeof err), 0);
}

static void other_key_refused_naming_both_keys(void **state) {
  (void)state;
  char err[512], want[512], a[17], b[17];
  ImageTrust t = trusting(&g_other);
  assert_int_equal(open_image(g_image, g_image_len, &t, err, sizeof err), -1);
  image_key_id(g_key.pub, a);
  image_key_id(g_other.pub, b);
  snprintf(want, sizeof want, "image: signature: signed by key %s, this firmware trusts only key %s", a, b);
  assert_string_equal(err, want);
  /* The tag an over-the-air update answers with (ERR UPDATE ... detail=untrusted-key). */
  assert_string_equal(image_refusal_tag(err), "untrusted-key");
}

static void unsigned_image_refused_when_a_key_is_trusted(void **state) {
  (void)state;
  static uint8_t img[TEST_IMAGE_BYTES_MAX];
  size_t len = make_image(img, "dev", NULL);
  char err[512];
  assert_int_equal(open_image(img, len, NULL, err, sizeof err), 0); /* dev, no key: boots, logged UNSIGNED */
  assert_false(g_img.is_signed);
  ImageTrust t = trusting(&g_key);
  assert_int_equal(open_image(img, len, &t, err, sizeof err), -1);
  assert_non_null(strstr(err, "image: unsigned image refused: no manifest.sig entry"));
  assert_string_equal(image_refusal_tag(err), "unsigned");
}

static void release_rules(void **state) {
  (void)state;
  static uint8_t img[TEST_IMAGE_BYTES_MAX];
  char err[512];
  size_t len = make_image(img, "release", NULL);
  assert_int_equal(open_image(img, len, NULL, err, sizeof err), -1);
  assert_string_equal(err, "image: unsigned release image refused: a release image must carry manifest.sig by the trusted key");
  assert_string_equal(image_refusal_tag(err), "unsigned");
  len = make_image(img, "release", &g_key);
  assert_int_equal(open_image(img, len, NULL, err, sizeof err), -1);
  assert_string_equal(err, "image: release image refused: no trusted key configured (cohesix-sim --trust-key <file>)");
  assert_string_equal(image_refusal_tag(err), "no-trusted-key");
  ImageTrust t = trusting(&g_key);
  assert_int_equal(open_image(img, len, &t, err, sizeof err), 0);
}

static void lower_case_cpio_hex_refused(void **state) {
  (void)state;
  static uint8_t img[TEST_IMAGE_BYTES_MAX];
  memcpy(img, g_image, g_image_len);
  /* mode 000081A4: the 'A' at field 1, digit 6 */
  assert_int_equal(img[6 + 8 + 6], 'A');
  img[6 + 8 + 6] = 'a';
  char err[512];
  assert_int_equal(open_image(img, g_image_len, NULL, err, sizeof err), -1);
  assert_string_equal(err, "image: header at offset 0: a field is not 8 upper-case hex digits");
}

static void every_flipped_byte_refused(void **state) {
  (void)state;
  static uint8_t img[TEST_IMAGE_BYTES_MAX];
  ImageTrust t = trusting(&g_key);
  const ImageTrust *trusts[2] = {&t, NULL};
  const uint8_t masks[3] = {0x01, 0x80, 0x20};
  unsigned tried = 0, bad_signature = 0;
  for (unsigned k = 0; k < 2; k++) {
    for (size_t i = 0; i < g_image_len; i++) {
      for (unsigned m = 0; m < 3; m++) {
        uint8_t c = g_image[i];
        if (masks[m] == 0x20 && !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) continue;
        memcpy(img, g_image, g_image_len);
        img[i] ^= masks[m];
        char err[512] = "";
        if (open_image(img, g_image_len, trusts[k], err, sizeof err) == 0)
          fail_msg("byte %zu ^ 0x%02x was accepted (%s)", i, masks[m], trusts[k] ? "trusted key" : "no trusted key");
        assert_true(strncmp(err, "image: ", 7) == 0 || strncmp(err, "manifest: ", 10) == 0);
        /* A flipped signature or manifest byte is what an update answers detail=bad-signature for. */
        if (strstr(err, "does not verify over manifest.json")) {
          assert_string_equal(image_refusal_tag(err), "bad-signature");
          bad_signature++;
        }
        tried++;
      }
    }
  }
  assert_true(tried > 2 * g_image_len);
  assert_true(bad_signature > 0);
}

static void truncated_and_extended_refused(void **state) {
  (void)state;
  static uint8_t img[TEST_IMAGE_BYTES_MAX + CPIO_BLOCK_BYTES];
  char err[512];
  memcpy(img, g_image, g_image_len);
  for (size_t cut = 1; cut <= g_image_len; cut += 97) assert_int_equal(open_image(img, g_image_len - cut, NULL, err, sizeof err), -1);
  memset(img + g_image_len, 0, CPIO_BLOCK_BYTES);
  assert_int_equal(open_image(img, g_image_len + 1, NULL, err, sizeof err), -1);
  assert_int_equal(open_image(img, g_image_len + CPIO_BLOCK_BYTES, NULL, err, sizeof err), -1);
}

static void pubkey_file_parse(void **state) {
  (void)state;
  char text[200], hex[65], err[300];
  uint8_t key[32];
  for (unsigned i = 0; i < 32; i++) snprintf(hex + i * 2, 3, "%02x", g_key.pub[i]);
  int n = snprintf(text, sizeof text, "cohesix-pubkey ed25519 %s\n", hex);
  assert_int_equal(image_pubkey_parse(text, (size_t)n, key, err, sizeof err), 0);
  assert_memory_equal(key, g_key.pub, 32);
  assert_int_equal(image_pubkey_parse(text, (size_t)n - 1, key, err, sizeof err), 0);
  text[30] = 'A';
  assert_int_equal(image_pubkey_parse(text, (size_t)n, key, err, sizeof err), -1);
  assert_string_equal(err, "image: public key file: the key must be 64 lowercase hex digits");
  assert_int_equal(image_pubkey_parse("ssh-ed25519 AAAA", 16, key, err, sizeof err), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(signed_image_opens_with_its_key_and_without_one),
      cmocka_unit_test(other_key_refused_naming_both_keys),
      cmocka_unit_test(unsigned_image_refused_when_a_key_is_trusted),
      cmocka_unit_test(release_rules),
      cmocka_unit_test(lower_case_cpio_hex_refused),
      cmocka_unit_test(every_flipped_byte_refused),
      cmocka_unit_test(truncated_and_extended_refused),
      cmocka_unit_test(pubkey_file_parse),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
