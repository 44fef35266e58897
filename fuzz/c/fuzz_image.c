/* libFuzzer target: the boot image (strict CPIO, manifest.sig, manifest, bundle and .qbc checks) as image_open reads it. */
#include <stdint.h>
#include <string.h>

#include "image.h"

static void check_err(const char *err, size_t cap) {
  /* Every refusal is a terminated message, never an overrun of the caller's buffer. */
  if (memchr(err, 0, cap) == NULL) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Image img;
  static Manifest m;
  char err[256] = "";
  /* Dev firmware (no trusted key): unsigned and self-signed images are read through to the bundles. */
  if (image_open(data, size, NULL, &img, &m, err, sizeof err) == 0) {
    if (m.task_count == 0 || m.task_count > MANIFEST_TASKS_MAX || img.count > IMAGE_ENTRIES_MAX) __builtin_trap();
    for (unsigned i = 0; i < m.task_count; i++) {
      const ManifestTask *t = &m.tasks[i];
      /* A verified task's bytecode lies inside the image. */
      if (t->payload < data || t->payload + t->payload_len > data + size) __builtin_trap();
    }
    manifest_free(&m);
  } else {
    check_err(err, sizeof err);
  }
  /* A firmware that trusts a key no input can be signed by: nothing may open. */
  static const ImageTrust trust = {1, {0x5a}};
  if (image_open(data, size, &trust, &img, &m, err, sizeof err) == 0) __builtin_trap();
  check_err(err, sizeof err);
  return 0;
}
