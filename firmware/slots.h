/* A/B image slots: the platform-free state machine (which slot to boot, fallback, confirm) over a storage interface. */
#ifndef COHESIX_FIRMWARE_SLOTS_H
#define COHESIX_FIRMWARE_SLOTS_H

#include <stddef.h>
#include <stdint.h>

/* Kept in sync with docs/slots.md and host/image/slots.ts. */
#define SLOT_STATE_SCHEMA "cohesix-slots/v1"
/* The state record is one text line; a block device stores it in one 512-byte sector. */
#define SLOT_STATE_BYTES_MAX 128u
/* Boots a new (not yet online) image gets before the next boot falls back to the last good slot. */
#define SLOT_TRIAL_BOOTS_MAX 1u
/* Highest attempts value the parser accepts (the machine never counts past SLOT_TRIAL_BOOTS_MAX + 1). */
#define SLOT_ATTEMPTS_MAX 255u
/* Hex digits of SHA-256(line before " check=") that end the record, so a torn or rotted record is seen. */
#define SLOT_STATE_CHECK_HEX_DIGITS 16u
#define SLOT_WHY_BYTES_MAX 300u

typedef enum SlotId { SLOT_NONE = 0, SLOT_A = 1, SLOT_B = 2 } SlotId;

typedef struct SlotState {
  SlotId active;     /* the slot to boot */
  SlotId last_good;  /* the slot that last reached online, or SLOT_NONE */
  uint32_t attempts; /* boots of `active` since it was installed, without reaching online */
} SlotState;

/* Where the slots live. The host firmware backs this with files, the seL4 port with a block device. */
typedef struct SlotStore {
  void *ctx;
  /* 0 with the record's bytes, 1 if there is no record yet, -1 with err on an I/O error. */
  int (*read_state)(void *ctx, char *buf, size_t cap, size_t *len, char *err, size_t err_len);
  /* Replaces the record durably and atomically (a crash leaves the old or the new one); 0 or -1 with err. */
  int (*write_state)(void *ctx, const char *buf, size_t len, char *err, size_t err_len);
  /* Whether the slot holds an image at all (its verification is the firmware's job). */
  int (*has_image)(void *ctx, SlotId slot);
} SlotStore;

typedef struct SlotBoot {
  SlotState state; /* as persisted */
  SlotId slot;     /* the slot to boot now */
  int trial;       /* slot is not the last good one: it must reach online or the next boot falls back */
  unsigned tried;  /* bit (1 << slot) for each slot refused during this boot */
  char why[SLOT_WHY_BYTES_MAX];
} SlotBoot;

char slot_name(SlotId s);
/* Encodes the record; returns its length (< cap) or 0 if cap is too small. */
size_t slot_state_encode(const SlotState *st, char *out, size_t cap);
/* Parses a record strictly; -1 with err naming what is wrong. */
int slot_state_decode(const char *buf, size_t len, SlotState *st, char *err, size_t err_len);

/* Picks the slot to boot and persists the attempt before anything runs. b->why says why (log it). */
int slots_plan(const SlotStore *store, SlotBoot *b, char *err, size_t err_len);
/* The image in b->slot was refused (verification failed): records it and picks another slot.
   Returns 0 with b updated, or -1 when no slot is left to try (err says why). */
int slots_refused(const SlotStore *store, SlotBoot *b, const char *reason, char *err, size_t err_len);
/* The booted image reached online: b->slot becomes the last good slot. */
int slots_confirm(const SlotStore *store, SlotBoot *b, char *err, size_t err_len);

/* Over-the-air update: the slot a new image goes to while `running` runs, always the other one, so
   the image that is running (and the fallback it is) is never overwritten. */
SlotId slots_update_target(SlotId running);
/* A verified image now fills `slot`: the next boot tries it (attempts 0), falling back to `fallback`
   (the running, confirmed slot). One record write: a crash before it lands boots `fallback` again. */
int slots_mark_trial(const SlotStore *store, SlotId slot, SlotId fallback, char *err, size_t err_len);

#endif
