/* Firmware boot: verify the image, start root-task, run the pump. Platform mains call only these. */
#ifndef COHESIX_FIRMWARE_BOOT_H
#define COHESIX_FIRMWARE_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "image_sig.h"

/* Sets the key images must be signed by (format v1); call before firmware_boot. Without it, dev images
   boot unsigned or self-signed and release images are refused. */
void firmware_trust_key(const uint8_t key[IMAGE_SIG_KEY_BYTES]);
/* After a successful firmware_boot: whether manifest.sig verified, and the signer's key id ("" if unsigned). */
int firmware_image_signed(const char **signer_id);
/* Verifies every byte of the image, then spawns the manifest's root task with root_args_json as
   its config.args. Returns 0, or -1 with a message (nothing has run). The image must outlive the firmware. */
int firmware_boot(const uint8_t *image, size_t len, const char *root_args_json, char *err, size_t err_len);
/* Runs the event pump until firmware_stop() or a root-task fault; returns the exit code. */
int firmware_run(void);
/* Safe from a signal handler. */
void firmware_stop(void);

#endif
