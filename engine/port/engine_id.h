/* The identity of this engine build: version and a fingerprint bytecode must match to be loaded. */
#ifndef COHESIX_ENGINE_ID_H
#define COHESIX_ENGINE_ID_H

#include <stdint.h>

#define ENGINE_VERSION_BYTES_MAX 16u

typedef struct EngineId {
  char version[ENGINE_VERSION_BYTES_MAX + 1]; /* quickjs-ng version, e.g. "0.15.1" */
  uint8_t fingerprint[32];                    /* SHA-256 of engine_build_description() */
  char fingerprint_hex[65];
} EngineId;

/* The text the fingerprint hashes: version, bytecode version, config defines, pointer size, byte order. */
const char *engine_build_description(void);
/* Computed once; never NULL. */
const EngineId *engine_id(void);

#endif
