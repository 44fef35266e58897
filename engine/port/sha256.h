/* SHA-256 (FIPS 180-4) for bytecode and image integrity checks. */
#ifndef COHESIX_ENGINE_SHA256_H
#define COHESIX_ENGINE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_BYTES 32u
/* A digest as lowercase hex text, with its NUL. */
#define SHA256_HEX_BYTES (2u * SHA256_DIGEST_BYTES + 1u)

typedef struct Sha256 {
  uint32_t state[8];
  uint64_t bytes;
  uint8_t block[64];
  size_t fill;
} Sha256;

void sha256_init(Sha256 *h);
void sha256_update(Sha256 *h, const void *data, size_t len);
void sha256_final(Sha256 *h, uint8_t out[SHA256_DIGEST_BYTES]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_BYTES]);
/* Writes 64 lowercase hex digits and a NUL. */
void sha256_hex(const uint8_t digest[SHA256_DIGEST_BYTES], char out[65]);

#endif
