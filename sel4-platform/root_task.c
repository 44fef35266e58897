/* cohesix-root: the seL4 root task; sets up memory and devices, then verifies and boots the hive image from
 * the A/B slots of its virtio-blk disk (or, with no disk or no slot that boots, the factory image linked
 * into it, image.S), exactly as host/sim/main.c does with --slot-disk and --image. */
#include <stdio.h>

#include <sel4runtime.h>

#include "boot.h"
#include "engine_id.h"
#include "hal.h"
#include "image_sig.h"
#include "libc_glue.h"
#include "online.h"
#include "sel4_platform.h"
#include "slots.h"

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

/* A new slot (on trial) that is not online by then resets, so the next boot falls back to the last good
   slot: the host firmware's --online-timeout-ms default (host/sim/main.c). */
#define SEL4_TRIAL_ONLINE_TIMEOUT_US 30000000ull

_Noreturn void platform_halt(int code) {
  printf("cohesix-sel4: halted (code %d)\n", code);
  for (;;) seL4_TCB_Suspend(seL4_CapInitThreadTCB);
}

static void on_runtime_exit(int code) { platform_halt(code); }

static SlotStore g_store;
static SlotBoot g_boot;

static void on_online(void *ctx) {
  (void)ctx;
  sel4_trial_watchdog(0);
  char err[512];
  int was_trial = g_boot.trial;
  if (slots_confirm(&g_store, &g_boot, err, sizeof err) < 0) {
    printf("cohesix-sel4: slots: %s\n", err);
    return;
  }
  if (was_trial) printf("cohesix-sel4: slots: slot %c reached online: it is now the last good slot\n", slot_name(g_boot.slot));
}

/* Boots a slot of the disk: the state record picks it, the image is read whole and verified by
   firmware_boot (signature before any bytecode); a refused slot costs one more pick, bounded by the
   two slots. 0 once one boots, or -1 with why (then the factory image boots). */
static int boot_from_disk(SlotDisk *disk, const char *args, char *why, size_t why_len) {
  char err[512];
  if (disk->why[0]) printf("cohesix-sel4: slots: %s\n", disk->why);
  slot_disk_store(disk, &g_store);
  if (slots_plan(&g_store, &g_boot, err, sizeof err) < 0) {
    snprintf(why, why_len, "%s", err);
    return -1;
  }
  printf("cohesix-sel4: slots: %s\n", g_boot.why);
  for (;;) {
    uint32_t len = disk->image_bytes[g_boot.slot];
    uint64_t t0 = hal_clock_us();
    uint8_t *img = len ? hal_mem_alloc(len) : NULL;
    char reason[600] = "cannot read the image";
    if (img && slot_disk_read_image(disk, g_boot.slot, 0, img, len, err, sizeof err) == 0) {
      uint64_t t1 = hal_clock_us();
      if (firmware_boot(img, len, args, err, sizeof err) == 0) {
        printf("cohesix-sel4: booted slot %c (%u bytes: disk read %llu ms, verify and start %llu ms)%s\n",
               slot_name(g_boot.slot), (unsigned)len, (unsigned long long)((t1 - t0) / 1000u),
               (unsigned long long)((hal_clock_us() - t1) / 1000u), g_boot.trial ? " on trial" : "");
        return 0;
      }
    }
    if (img) snprintf(reason, sizeof reason, "%s", err);
    if (img) hal_mem_free(img, len);
    printf("cohesix-sel4: slot %c refused: %s\n", slot_name(g_boot.slot), reason);
    if (slots_refused(&g_store, &g_boot, reason, err, sizeof err) < 0) {
      snprintf(why, why_len, "%s", err);
      return -1;
    }
    printf("cohesix-sel4: slots: %s\n", g_boot.why);
  }
}

int main(void) {
  /* Returning from main would jump to address 0: route sel4runtime's exit to a clean halt. */
  sel4runtime_set_exit(on_runtime_exit);
  seL4_BootInfo *bi = sel4runtime_bootinfo();
  if (!bi || sel4_hal_init(bi) < 0) platform_halt(1);

  size_t len = (size_t)(cohesix_image_end - cohesix_image_start);
  FramePoolStats s = sel4_hal_pool_stats();
  printf("cohesix-sel4: root task up; quickjs-ng %s engine %.16s; image %zu bytes; %llu KiB of untyped for arenas\n",
         engine_id()->version, engine_id()->fingerprint_hex, len, (unsigned long long)(s.untyped_bytes_left / 1024u));

  char err[512], why[600];
#if COHESIX_TRUST_KEY_LINKED
  /* As cohesix-sim --trust-key: every image, on the disk or linked, must be signed by this key, and release images boot. */
  uint8_t key[IMAGE_SIG_KEY_BYTES];
  size_t key_len = (size_t)(cohesix_trust_key_end - cohesix_trust_key_start);
  if (image_pubkey_parse((const char *)cohesix_trust_key_start, key_len, key, err, sizeof err) < 0) {
    printf("cohesix-sel4: trusted key (COHESIX_TRUST_KEY) refused: %s\n", err);
    platform_halt(1);
  }
  firmware_trust_key(key);
#endif
  const char *no_disk = "";
  SlotDisk *disk = sel4_slot_disk(&no_disk);
  int from_disk = disk && boot_from_disk(disk, SEL4_ROOT_ARGS, why, sizeof why) == 0;
  if (from_disk) {
    firmware_on_online(on_online, NULL);
    sel4_slots_serve(&g_store, g_boot.slot);
    if (g_boot.trial) sel4_trial_watchdog(hal_clock_us() + SEL4_TRIAL_ONLINE_TIMEOUT_US);
  } else {
    /* The factory image: no disk, not a slot disk, or no slot that boots; the line says which. */
    printf("cohesix-sel4: slots: %s: booting the factory image (linked into the root task)\n", disk ? why : no_disk);
    if (firmware_boot(cohesix_image_start, len, SEL4_ROOT_ARGS, err, sizeof err) < 0) {
      printf("cohesix-sel4: image refused: %s\n", err);
      platform_halt(1);
    }
  }
  int rc = firmware_run();
  if (sel4_restart_requested()) {
    /* See hal_restart: no reset this board lets user mode make; the launcher restarts on this line. */
    printf("%s: the next boot reads the slot state (the launcher stands in for the reset line)\n", SEL4_RESET_LINE);
    platform_halt(0);
  }
  printf("cohesix-sel4: stopped%s\n", rc ? " (root-task fault)" : "");
  platform_halt(rc);
}
