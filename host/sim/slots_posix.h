/* A/B slots on the host: a folder with A.img, B.img and the state file, written crash-safely. */
#ifndef COHESIX_HOST_SIM_SLOTS_POSIX_H
#define COHESIX_HOST_SIM_SLOTS_POSIX_H

#include "slot_disk.h"
#include "slots.h"

/* Kept in sync with docs/slots.md and host/image/slots.ts. */
#define SLOTS_STATE_FILE "state"
#define SLOTS_STATE_TMP_FILE "state.tmp"
#define SLOTS_DIR_BYTES_MAX 3000u

typedef struct SlotsPosix {
  char dir[SLOTS_DIR_BYTES_MAX + 1];
} SlotsPosix;

/* Fills store to use dir; -1 if the path is too long. */
int slots_posix_init(SlotsPosix *p, const char *dir, SlotStore *store);
/* dir/A.img or dir/B.img into out. */
void slots_posix_image_path(const SlotsPosix *p, SlotId s, char *out, size_t cap);
/* Makes the slot HAL (bindings/hal.h) serve updates: p's folder, its state store, and the slot booted. */
void slots_posix_serve(SlotsPosix *p, const SlotStore *store, SlotId booted);
/* Whether a capability asked for a restart (hal_restart): main re-executes the firmware when the pump stops. */
int sim_restart_requested(void);
/* Slots on a disk image file or block device (docs/slots.md "On a disk"), as the seL4 port keeps them. */
typedef struct SlotsDiskPosix {
  int fd;
  BlockDev dev;
  SlotDisk disk;
} SlotsDiskPosix;
/* Opens the disk and fills store over it; -1 with err when it is not a slot disk. */
int slots_disk_posix_open(SlotsDiskPosix *p, const char *path, SlotStore *store, char *err, size_t err_len);
/* Makes the slot HAL serve updates into the disk's other slot. */
void slots_disk_posix_serve(SlotsDiskPosix *p, const SlotStore *store, SlotId booted);
/* Fault injection for the power-loss tests: SIGKILLs this process when COHESIX_SIM_KILL_AT names `point`. */
void sim_kill_point(const char *point);

#endif
