/* Firmware boot: the whole image is verified before any bytecode runs, then root-task starts alone. */
#include "boot.h"

#include <stdio.h>
#include <string.h>

#include "engine_hal.h"
#include "firmware.h"
#include "image.h"
#include "pump.h"

static Manifest g_manifest;
static Image g_image;
static ImageTrust g_trust;

void firmware_trust_key(const uint8_t key[IMAGE_SIG_KEY_BYTES]) {
  memcpy(g_trust.key, key, sizeof g_trust.key);
  g_trust.has_key = 1;
}

int firmware_image_signed(const char **signer_id) {
  if (signer_id) *signer_id = g_image.signer_id;
  return g_image.is_signed;
}

int fw_image_verify(const uint8_t *buf, size_t len, char *image_id, size_t id_cap, char *err, size_t err_len) {
  /* Static: an Image and a Manifest are too big for a task's native stack, and one update verifies at a time. */
  static Image img;
  static Manifest m;
  if (image_open(buf, len, &g_trust, &img, &m, err, err_len) < 0) return -1;
  snprintf(image_id, id_cap, "%s", m.image_id);
  manifest_free(&m);
  return 0;
}

int firmware_boot(const uint8_t *image, size_t len, const char *root_args_json, char *err, size_t err_len) {
  memset(&g_fw, 0, sizeof g_fw);
  g_fw.boot_us = hal_clock_us();
  if (fw_caps_check(err, err_len) < 0) return -1;
  if (image_open(image, len, &g_trust, &g_image, &g_manifest, err, err_len) < 0) return -1;
  g_fw.manifest = &g_manifest;
  g_fw.image = image;
  g_fw.image_len = len;
  tasks_register_source();
  for (unsigned c = 0; c < CAP_COUNT; c++)
    if (CAP_REGISTRY[c]->register_source) CAP_REGISTRY[c]->register_source();
  const ManifestTask *root = manifest_task(&g_manifest, g_manifest.root_task);
  char why[200];
  TaskSlot *s = fw_spawn(root, root->name, 0, root_args_json, why, sizeof why);
  if (!s) {
    snprintf(err, err_len, "root task '%s' could not start: %s", root->name, why);
    return -1;
  }
  fw_log("firmware", "image %s (%s) verified: %s, %u tasks, engine quickjs-ng %s; root-task started", g_manifest.image_id,
         g_manifest.profile, g_image.is_signed ? (g_trust.has_key ? "signed by trusted key" : "self-signed, no trusted key") : "UNSIGNED",
         g_manifest.task_count, g_manifest.engine_version);
  return 0;
}

int firmware_run(void) {
  pump_run(&g_fw.stop);
  for (unsigned i = 0; i < TASKS_MAX; i++)
    if (g_fw.slots[i].used) fw_kill(&g_fw.slots[i], TASK_FAULT_KILLED, "firmware stopping");
  return g_fw.exit_code;
}

void firmware_stop(void) { g_fw.stop = 1; }
