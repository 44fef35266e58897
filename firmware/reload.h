/* Hot reload of a task's bytecode in a dev image, and per-task bundle replacement for later spawns. */
#ifndef COHESIX_FIRMWARE_RELOAD_H
#define COHESIX_FIRMWARE_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include "task_table.h"
#include "qbc.h"

/* Error classes of a refused or rolled-back reload; the binding maps them to CapError codes. */
enum {
  RELOAD_E_POLICY = -1,   /* release image (Invalid) */
  RELOAD_E_STATE = -2,    /* the task is not running (NotFound) */
  RELOAD_E_BYTECODE = -3, /* bad header, hash or engine fingerprint (Invalid) */
  RELOAD_E_BUSY = -4,     /* no spare slot or memory for the new runtime (Busy) */
  RELOAD_E_SNAPSHOT = -5, /* snapshot() threw, faulted or was not JSON (Io); nothing changed */
  RELOAD_E_START = -6,    /* the new code failed to load, start or restore: rolled back (Io) */
};

typedef struct ReloadReport {
  size_t snapshot_bytes;
  int restored;      /* restore(state) ran */
  int state_dropped; /* the old code gave state but the new code has no restore() */
  uint64_t elapsed_us;
} ReloadReport;

/* Swaps old's code for the .qbc file in qbc (verified here); 0 or a RELOAD_E_* with err filled. */
int fw_reload(TaskSlot *old, const uint8_t *qbc, size_t qbc_len, ReloadReport *out, char *err, size_t err_len);
/* Later spawns of spec run this .qbc file instead of the image's bundle (dev images only). */
int fw_set_bundle(const ManifestTask *spec, const uint8_t *qbc, size_t qbc_len, char *err, size_t err_len);
/* The bytecode a spawn of spec runs: a replacement set by fw_set_bundle, else the image's. */
void fw_bundle_of(const ManifestTask *spec, const uint8_t **payload, size_t *len);

#endif
