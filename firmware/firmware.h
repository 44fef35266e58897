/* The firmware's own state: the task table, the verified image, and what only firmware/ calls. */
#ifndef COHESIX_FIRMWARE_FIRMWARE_H
#define COHESIX_FIRMWARE_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "manifest.h"
#include "quickjs.h"
#include "task.h"
#include "task_table.h"

typedef struct Firmware {
  const Manifest *manifest;
  const uint8_t *image;
  size_t image_len;
  TaskSlot slots[TASKS_MAX];
  /* One past the highest slot ever taken: the pump's per-turn scans stop there (a hive uses a few
     of the TASKS_MAX, and the full scans were a tenth of a 9P request's cost in the firmware). */
  unsigned slots_top;
  /* Bundles replaced for later spawns by a hot reload, by manifest task index (dev images). */
  struct {
    uint8_t *payload;
    size_t payload_len;
  } bundles[MANIFEST_TASKS_MAX];
  uint32_t next_task_id;
  uint64_t boot_us;
  volatile int stop;
  int exit_code;
} Firmware;

extern Firmware g_fw;

/* Marks a free slot used (after its task is created) and moves slots_top past it. */
void fw_slot_take(TaskSlot *s);
/* Gives a fresh (zeroed) slot each capability's per-task state and runs their init_task hooks. */
void fw_slot_init_caps(TaskSlot *s);
/* Calls main(caps, config) of a spawned task and keeps what it returns; 0 if main returned normally. */
int fw_start(TaskSlot *s);
/* Copies the first line of the next uncaught JS error into buf as well as logging it (NULL stops). */
void fw_capture_uncaught(char *buf, size_t len);
/* Adds the task table's pump source (starts, promise jobs, fault reports). */
void tasks_register_source(void);

/* Grants (caps.c) */
int cap_parse(const char *name, CapId *out);
/* Builds the caps object handed to a task's main: one object per registration. */
JSValue caps_new(JSContext *ctx);
/* 0 if every registration fits the per-task state bound; else -1 with err filled (boot refuses). */
int fw_caps_check(char *err, size_t err_len);

#endif
