/* libFuzzer target: the .qbc header check every bytecode load goes through (qbc_parse), as given and with its digest fixed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qbc.h"
#include "sha256.h"

static void check(const uint8_t *buf, size_t len) {
  QbcFile q;
  if (qbc_parse(buf, len, engine_id(), &q) != QBC_OK) return;
  /* An accepted file's payload is exactly what follows the header, inside the buffer. */
  if (q.payload != buf + QBC_HEADER_BYTES || q.payload_bytes != len - QBC_HEADER_BYTES) __builtin_trap();
  if (q.flags & ~QBC_FLAGS_KNOWN) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check(data, size);
  if (size < QBC_HEADER_BYTES) return 0;
  /* The digest stops almost every mutation at the first check: a copy with the digest recomputed
     reaches the length, flag and engine checks behind it. */
  uint8_t *copy = malloc(size);
  if (!copy) return 0;
  memcpy(copy, data, size);
  Sha256 h;
  sha256_init(&h);
  sha256_update(&h, copy, QBC_DIGEST_OFFSET);
  sha256_update(&h, copy + QBC_HEADER_BYTES, size - QBC_HEADER_BYTES);
  sha256_final(&h, copy + QBC_DIGEST_OFFSET);
  check(copy, size);
  free(copy);
  return 0;
}
