/* The .qbc bytecode file: header layout, writer and the strict check every load goes through. */
#ifndef COHESIX_ENGINE_QBC_H
#define COHESIX_ENGINE_QBC_H

#include <stddef.h>
#include <stdint.h>

#include "engine_id.h"

/* Layout documented in docs/image-format.md; keep both in step. */
#define QBC_HEADER_BYTES 104u
#define QBC_FORMAT_VERSION 1u
/* Where the SHA-256 of header[0..72) + payload sits. */
#define QBC_DIGEST_OFFSET 72u
#define QBC_FLAG_STRIP_SOURCE 0x1u
#define QBC_FLAG_STRIP_DEBUG 0x2u
#define QBC_FLAGS_KNOWN (QBC_FLAG_STRIP_SOURCE | QBC_FLAG_STRIP_DEBUG)
/* Largest payload we accept: a whole image is bounded by IMAGE_BYTES_MAX (16 MiB). */
#define QBC_PAYLOAD_BYTES_MAX (16u << 20)

typedef enum QbcError {
  QBC_OK = 0,
  QBC_ERR_TRUNCATED,
  QBC_ERR_MAGIC,
  QBC_ERR_FORMAT,
  QBC_ERR_FLAGS,
  QBC_ERR_HEADER,
  QBC_ERR_ENGINE_VERSION,
  QBC_ERR_FINGERPRINT,
  QBC_ERR_LENGTH,
  QBC_ERR_HASH,
} QbcError;

typedef struct QbcFile {
  uint16_t flags;
  char engine_version[ENGINE_VERSION_BYTES_MAX + 1];
  uint8_t engine_fingerprint[32];
  const uint8_t *payload; /* points into the caller's buffer */
  size_t payload_bytes;
} QbcFile;

/* Checks header, lengths and payload hash against `engine` (the running build). */
QbcError qbc_parse(const uint8_t *buf, size_t len, const EngineId *engine, QbcFile *out);
/* A stable one-line reason, e.g. "built by another engine configuration (fingerprint differs)". */
const char *qbc_error_text(QbcError e);
/* Fills the 104-byte header for `payload`. */
void qbc_write_header(uint8_t header[QBC_HEADER_BYTES], uint16_t flags, const EngineId *engine,
                      const uint8_t *payload, size_t payload_bytes);

#endif
