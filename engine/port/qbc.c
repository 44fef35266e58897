/* Writes and strictly checks .qbc headers, so JS_ReadObject only ever sees bytecode of this exact engine. */
#include "qbc.h"

#include <string.h>

#include "sha256.h"

static const uint8_t QBC_MAGIC[8] = {'C', 'O', 'H', 'Q', 'B', 'C', '\r', '\n'};

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static void wr32(uint8_t *p, uint32_t v) {
  for (unsigned i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The digest covers the header up to itself and the payload, so any flipped byte is caught. */
static void qbc_digest(const uint8_t *header, const uint8_t *payload, size_t payload_bytes, uint8_t out[SHA256_DIGEST_BYTES]) {
  Sha256 h;
  sha256_init(&h);
  sha256_update(&h, header, QBC_DIGEST_OFFSET);
  sha256_update(&h, payload, payload_bytes);
  sha256_final(&h, out);
}

QbcError qbc_parse(const uint8_t *buf, size_t len, const EngineId *engine, QbcFile *out) {
  memset(out, 0, sizeof *out);
  if (len < QBC_HEADER_BYTES) return QBC_ERR_TRUNCATED;
  if (memcmp(buf, QBC_MAGIC, sizeof QBC_MAGIC) != 0) return QBC_ERR_MAGIC;
  if (rd16(buf + 8) != QBC_FORMAT_VERSION) return QBC_ERR_FORMAT;
  uint16_t flags = rd16(buf + 10);
  if (flags & ~QBC_FLAGS_KNOWN) return QBC_ERR_FLAGS;
  if (rd32(buf + 12) != QBC_HEADER_BYTES || rd32(buf + 68) != 0) return QBC_ERR_HEADER;
  memcpy(out->engine_version, buf + 16, ENGINE_VERSION_BYTES_MAX);
  out->engine_version[ENGINE_VERSION_BYTES_MAX] = 0;
  memcpy(out->engine_fingerprint, buf + 32, 32);
  out->flags = flags;
  uint32_t payload_bytes = rd32(buf + 64);
  if (payload_bytes > QBC_PAYLOAD_BYTES_MAX) return QBC_ERR_LENGTH;
  if (len < QBC_HEADER_BYTES + (size_t)payload_bytes) return QBC_ERR_TRUNCATED;
  if (len > QBC_HEADER_BYTES + (size_t)payload_bytes) return QBC_ERR_LENGTH;
  /* Version before fingerprint: "another engine version" is the more useful message. */
  if (strncmp(out->engine_version, engine->version, ENGINE_VERSION_BYTES_MAX) != 0) return QBC_ERR_ENGINE_VERSION;
  if (memcmp(out->engine_fingerprint, engine->fingerprint, 32) != 0) return QBC_ERR_FINGERPRINT;
  uint8_t digest[SHA256_DIGEST_BYTES];
  qbc_digest(buf, buf + QBC_HEADER_BYTES, payload_bytes, digest);
  if (memcmp(digest, buf + 72, SHA256_DIGEST_BYTES) != 0) return QBC_ERR_HASH;
  out->payload = buf + QBC_HEADER_BYTES;
  out->payload_bytes = payload_bytes;
  return QBC_OK;
}

const char *qbc_error_text(QbcError e) {
  switch (e) {
  case QBC_OK: return "ok";
  case QBC_ERR_TRUNCATED: return "truncated (shorter than its header says)";
  case QBC_ERR_MAGIC: return "not a .qbc file (bad magic)";
  case QBC_ERR_FORMAT: return "unknown .qbc format version";
  case QBC_ERR_FLAGS: return "unknown .qbc flag bits";
  case QBC_ERR_HEADER: return "malformed .qbc header";
  case QBC_ERR_ENGINE_VERSION: return "built by another engine version";
  case QBC_ERR_FINGERPRINT: return "built by another engine configuration (fingerprint differs)";
  case QBC_ERR_LENGTH: return "payload length does not match the file (trailing bytes or over the bound)";
  case QBC_ERR_HASH: return "sha256 mismatch (corrupted)";
  }
  return "unknown error";
}

void qbc_write_header(uint8_t h[QBC_HEADER_BYTES], uint16_t flags, const EngineId *engine, const uint8_t *payload,
                      size_t payload_bytes) {
  memset(h, 0, QBC_HEADER_BYTES);
  memcpy(h, QBC_MAGIC, sizeof QBC_MAGIC);
  wr16(h + 8, QBC_FORMAT_VERSION);
  wr16(h + 10, flags);
  wr32(h + 12, QBC_HEADER_BYTES);
  memcpy(h + 16, engine->version, strnlen(engine->version, ENGINE_VERSION_BYTES_MAX));
  memcpy(h + 32, engine->fingerprint, 32);
  wr32(h + 64, (uint32_t)payload_bytes);
  qbc_digest(h, payload, payload_bytes, h + QBC_DIGEST_OFFSET);
}
