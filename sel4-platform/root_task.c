/* cohesix-root: the seL4 root task; sets up memory and devices, then verifies and boots the hive image
 * linked into it (image.S), exactly as host/sim/main.c does with a file. */
#include <stdio.h>

#include <sel4runtime.h>

#include "boot.h"
#include "engine_id.h"
#include "image_sig.h"
#include "libc_glue.h"
#include "sel4_platform.h"

/* The hive image, placed by image.S (the CMake option COHESIX_IMAGE names the file). */
extern const uint8_t cohesix_image_start[];
extern const uint8_t cohesix_image_end[];
#if COHESIX_TRUST_KEY_LINKED
/* The public key file of the CMake option COHESIX_TRUST_KEY, placed the same way. */
extern const uint8_t cohesix_trust_key_start[];
extern const uint8_t cohesix_trust_key_end[];
#endif

/* root-task's config.args: the UART console, the TCP console and NineDoor's Secure9P on every address
   (the guest's one: 10.0.2.15; qemu.sh forwards host ports to these). Without a network the HAL
   refuses both listeners and root-task carries on with the UART. */
#define SEL4_ROOT_ARGS "{\"uart\":\"pl011\",\"console\":{\"port\":31337,\"bind\":\"0.0.0.0\"},\"ninep\":{\"port\":5640}}"

_Noreturn void platform_halt(int code) {
  printf("cohesix-sel4: halted (code %d)\n", code);
  for (;;) seL4_TCB_Suspend(seL4_CapInitThreadTCB);
}

static void on_runtime_exit(int code) { platform_halt(code); }

int main(void) {
  /* Returning from main would jump to address 0: route sel4runtime's exit to a clean halt. */
  sel4runtime_set_exit(on_runtime_exit);
  seL4_BootInfo *bi = sel4runtime_bootinfo();
  if (!bi || sel4_hal_init(bi) < 0) platform_halt(1);

  size_t len = (size_t)(cohesix_image_end - cohesix_image_start);
  FramePoolStats s = sel4_hal_pool_stats();
  printf("cohesix-sel4: root task up; quickjs-ng %s engine %.16s; image %zu bytes; %llu KiB of untyped for arenas\n",
         engine_id()->version, engine_id()->fingerprint_hex, len, (unsigned long long)(s.untyped_bytes_left / 1024u));

  char err[512];
#if COHESIX_TRUST_KEY_LINKED
  /* As cohesix-sim --trust-key: every image must be signed by this key, and release images boot. */
  uint8_t key[IMAGE_SIG_KEY_BYTES];
  size_t key_len = (size_t)(cohesix_trust_key_end - cohesix_trust_key_start);
  if (image_pubkey_parse((const char *)cohesix_trust_key_start, key_len, key, err, sizeof err) < 0) {
    printf("cohesix-sel4: trusted key (COHESIX_TRUST_KEY) refused: %s\n", err);
    platform_halt(1);
  }
  firmware_trust_key(key);
#endif
  if (firmware_boot(cohesix_image_start, len, SEL4_ROOT_ARGS, err, sizeof err) < 0) {
    printf("cohesix-sel4: image refused: %s\n", err);
    platform_halt(1);
  }
  int rc = firmware_run();
  printf("cohesix-sel4: stopped%s\n", rc ? " (root-task fault)" : "");
  platform_halt(rc);
}
