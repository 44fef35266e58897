/* Bytecode refusal tests: a good file loads; truncated, flipped, other-version, other-config files do not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine_id.h"
#include "qbc.h"
#include "sha256.h"

static uint8_t g_payload[300];
static uint8_t g_file[QBC_HEADER_BYTES + sizeof g_payload];

static int setup(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof g_payload; i++) g_payload[i] = (uint8_t)(i * 7 + 3);
  qbc_write_header(g_file, QBC_FLAG_STRIP_SOURCE, engine_id(), g_payload, sizeof g_payload);
  memcpy(g_file + QBC_HEADER_BYTES, g_payload, sizeof g_payload);
  return 0;
}

static void good_file_parses(void **state) {
  (void)state;
  QbcFile q;
  assert_int_equal(qbc_parse(g_file, sizeof g_file, engine_id(), &q), QBC_OK);
  assert_int_equal(q.payload_bytes, sizeof g_payload);
  assert_memory_equal(q.payload, g_payload, sizeof g_payload);
  assert_int_equal(q.flags, QBC_FLAG_STRIP_SOURCE);
}

static void truncated_file_refused(void **state) {
  (void)state;
  QbcFile q;
  assert_int_equal(qbc_parse(g_file, 10, engine_id(), &q), QBC_ERR_TRUNCATED);
  assert_int_equal(qbc_parse(g_file, sizeof g_file - 1, engine_id(), &q), QBC_ERR_TRUNCATED);
  assert_null(q.payload);
}

static void trailing_bytes_refused(void **state) {
  (void)state;
  uint8_t big[sizeof g_file + 1];
  memcpy(big, g_file, sizeof g_file);
  big[sizeof g_file] = 0;
  QbcFile q;
  assert_int_equal(qbc_parse(big, sizeof big, engine_id(), &q), QBC_ERR_LENGTH);
}

static void every_flipped_byte_refused(void **state) {
  (void)state;
  uint8_t copy[sizeof g_file];
  for (size_t i = 0; i < sizeof g_file; i++) {
    memcpy(copy, g_file, sizeof g_file);
    copy[i] ^= 0x01;
    QbcFile q;
    QbcError e = qbc_parse(copy, sizeof copy, engine_id(), &q);
    assert_int_not_equal(e, QBC_OK);
  }
}

static void other_engine_version_refused(void **state) {
  (void)state;
  EngineId other = *engine_id();
  memcpy(other.version, "0.99.0", 7);
  uint8_t f[sizeof g_file];
  qbc_write_header(f, 0, &other, g_payload, sizeof g_payload);
  memcpy(f + QBC_HEADER_BYTES, g_payload, sizeof g_payload);
  QbcFile q;
  assert_int_equal(qbc_parse(f, sizeof f, engine_id(), &q), QBC_ERR_ENGINE_VERSION);
  assert_string_equal(qbc_error_text(QBC_ERR_ENGINE_VERSION), "built by another engine version");
}

static void other_engine_config_refused(void **state) {
  (void)state;
  EngineId other = *engine_id();
  other.fingerprint[0] ^= 0xff;
  uint8_t f[sizeof g_file];
  qbc_write_header(f, 0, &other, g_payload, sizeof g_payload);
  memcpy(f + QBC_HEADER_BYTES, g_payload, sizeof g_payload);
  QbcFile q;
  assert_int_equal(qbc_parse(f, sizeof f, engine_id(), &q), QBC_ERR_FINGERPRINT);
  assert_non_null(strstr(qbc_error_text(QBC_ERR_FINGERPRINT), "fingerprint"));
}

static void fingerprint_covers_build_description(void **state) {
  (void)state;
  const char *d = engine_build_description();
  assert_non_null(strstr(d, "quickjs-ng/"));
  assert_non_null(strstr(d, ";bc="));
  assert_non_null(strstr(d, "NDEBUG"));
  uint8_t h[32];
  sha256(d, strlen(d), h);
  assert_memory_equal(h, engine_id()->fingerprint, 32);
  assert_int_equal(strlen(engine_id()->fingerprint_hex), 64);
}

static void sha256_vectors(void **state) {
  (void)state;
  char hex[65];
  uint8_t h[32];
  sha256("", 0, h);
  sha256_hex(h, hex);
  assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha256("abc", 3, h);
  sha256_hex(h, hex);
  assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  sha256(two, strlen(two), h);
  sha256_hex(h, hex);
  assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(good_file_parses),          cmocka_unit_test(truncated_file_refused),
      cmocka_unit_test(trailing_bytes_refused),    cmocka_unit_test(every_flipped_byte_refused),
      cmocka_unit_test(other_engine_version_refused), cmocka_unit_test(other_engine_config_refused),
      cmocka_unit_test(fingerprint_covers_build_description), cmocka_unit_test(sha256_vectors),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
