/* The image manifest as the firmware sees it: tasks, quotas, grants, engine identity. */
#ifndef COHESIX_FIRMWARE_MANIFEST_H
#define COHESIX_FIRMWARE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/* Longest `schema` string a manifest may carry (ours is `cohesix-manifest/1`); longer is refused. */
#define MANIFEST_SCHEMA_BYTES_MAX 31u

/* Kept in sync with docs/image-format.md and host/image/manifest.ts (the same names there, checked by
   host/node/limits.test.ts). */
#define MANIFEST_TASKS_MAX 32u
#define MANIFEST_JSON_BYTES_MAX (64u * 1024u)
#define MANIFEST_NAME_BYTES_MAX 31u
#define MANIFEST_BUNDLE_BYTES_MAX 64u
#define MANIFEST_IMAGE_ID_BYTES_MAX 64u
#define MANIFEST_SCHEMA "cohesix-manifest/v1"
/* A task's arena_bytes is a whole number of pages, in bytes: the image tool's rule too. Not the engine's
   ARENA_ALIGN_BYTES (16), the allocator's alignment inside an arena. */
#define TASK_ARENA_PAGE_BYTES 4096u
/* Largest bundle a task entry may name, in bytes: no bundle outgrows its image (IMAGE_BYTES_MAX). */
#define MANIFEST_BUNDLE_SIZE_BYTES_MAX (16u << 20)

typedef struct ManifestTask {
  char name[MANIFEST_NAME_BYTES_MAX + 1];
  char bundle[MANIFEST_BUNDLE_BYTES_MAX + 1];
  size_t size;
  uint8_t sha256[SHA256_DIGEST_BYTES];
  size_t arena_bytes;
  uint32_t cpu_slice_ms;
  uint32_t grants;   /* 1 << CapId */
  char *config_json; /* heap copy of tasks[].config, serialised */
  /* Filled by image_open once the bundle is verified: */
  const uint8_t *payload; /* bytecode after the .qbc header, inside the image */
  size_t payload_len;
} ManifestTask;

typedef struct Manifest {
  char image_id[MANIFEST_IMAGE_ID_BYTES_MAX + 1];
  char profile[16];
  char engine_version[17];
  uint8_t engine_fingerprint[SHA256_DIGEST_BYTES];
  char root_task[MANIFEST_NAME_BYTES_MAX + 1];
  ManifestTask tasks[MANIFEST_TASKS_MAX];
  unsigned task_count;
  char *json; /* the manifest text, NUL-terminated, for image.manifest() */
  size_t json_len;
} Manifest;

/* Parses and checks a manifest; on failure returns -1 with a message naming the field. */
int manifest_parse(const char *json, size_t len, Manifest *m, char *err, size_t err_len);
const ManifestTask *manifest_task(const Manifest *m, const char *name);
void manifest_free(Manifest *m);

#endif
