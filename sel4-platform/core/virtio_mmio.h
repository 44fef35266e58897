/* virtio-mmio transport (virtio 1.x, section 4.2, version 2 only): probing QEMU virt's slots, status, features, queue set-up. */
#ifndef COHESIX_SEL4_VIRTIO_MMIO_H
#define COHESIX_SEL4_VIRTIO_MMIO_H

#include <stdint.h>

#include "virtio_ring.h"

/* QEMU virt's virtio-mmio window (hw/arm/virt.c: VIRT_MMIO, NUM_VIRTIO_TRANSPORTS): 32 slots of
   0x200 bytes from 0x0a000000, slot n's interrupt is SPI 16 + n (the DTB says the same). */
#define VIRTIO_MMIO_WINDOW_PADDR 0x0a000000ull
#define VIRTIO_MMIO_SLOT_BYTES 0x200u
#define VIRTIO_MMIO_SLOTS 32u
#define VIRTIO_MMIO_WINDOW_BYTES (VIRTIO_MMIO_SLOTS * VIRTIO_MMIO_SLOT_BYTES)
#define VIRTIO_MMIO_SPI_BASE 16u
/* GIC interrupt ids: SPIs start at 32, so slot n is interrupt 48 + n on seL4's IRQControl. */
#define VIRTIO_MMIO_GIC_SPI_OFFSET 32u

/* Register offsets inside one slot (spec 4.2.2). */
#define VIRTIO_MMIO_MAGIC 0x000u
#define VIRTIO_MMIO_VERSION 0x004u
#define VIRTIO_MMIO_DEVICE_ID 0x008u
#define VIRTIO_MMIO_VENDOR_ID 0x00cu
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010u
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014u
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020u
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024u
#define VIRTIO_MMIO_QUEUE_SEL 0x030u
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034u
#define VIRTIO_MMIO_QUEUE_NUM 0x038u
#define VIRTIO_MMIO_QUEUE_READY 0x044u
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050u
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060u
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064u
#define VIRTIO_MMIO_STATUS 0x070u
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080u
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084u
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090u
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094u
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0u
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4u
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fcu
#define VIRTIO_MMIO_CONFIG 0x100u

#define VIRTIO_MMIO_MAGIC_VALUE 0x74726976u /* "virt" */
#define VIRTIO_MMIO_VERSION_LEGACY 1u
#define VIRTIO_MMIO_VERSION_MODERN 2u

#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

#define VIRTIO_INT_USED_BUFFER 1u
#define VIRTIO_INT_CONFIG_CHANGE 2u

#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Reads of the status register waiting for a reset to finish (QEMU resets at once; real hardware may
   take a few reads; a device that never does is refused, not waited for). */
#define VIRTIO_MMIO_RESET_POLLS_MAX 1000u
/* Re-reads of a config field whose generation moved under us before it is called unstable. */
#define VIRTIO_MMIO_CONFIG_RETRIES_MAX 8u

/* Errors (stable codes; virtio_error_name gives the word the log line carries). */
#define VIRTIO_E_NO_DEVICE (-20)  /* bad magic or device id 0: nothing in this slot */
#define VIRTIO_E_LEGACY (-21)     /* version 1 transport: QEMU needs -global virtio-mmio.force-legacy=false */
#define VIRTIO_E_VERSION (-22)    /* a version this driver does not know */
#define VIRTIO_E_WRONG_DEVICE (-23) /* another device type than asked for */
#define VIRTIO_E_FEATURES (-24)   /* a feature we need is missing, or the device refused ours (FEATURES_OK) */
#define VIRTIO_E_QUEUE (-25)      /* queue absent, already live, or smaller than the size we need */
#define VIRTIO_E_RESET (-26)      /* the device did not come out of reset */
#define VIRTIO_E_CONFIG (-27)     /* the config generation never settled */
#define VIRTIO_E_NOT_FOUND (-28)  /* no slot holds the device asked for */

/* Register access, injected: MMIO on seL4, a model in the tests. Offsets are from the window's start,
   so one mapping of the whole window serves every slot. */
typedef struct VirtioMmioIo {
  void *ctx;
  uint32_t (*read)(void *ctx, uint32_t offset);
  void (*write)(void *ctx, uint32_t offset, uint32_t value);
} VirtioMmioIo;

typedef struct VirtioMmioDev {
  VirtioMmioIo io;
  uint32_t base; /* the slot's offset in the window */
  unsigned slot;
} VirtioMmioDev;

const char *virtio_error_name(int err);

/* The first slot (from 0) holding device_id: fills dev, 0; or VIRTIO_E_NOT_FOUND. A slot with a
   device of the right id but a transport we refuse gives that refusal (VIRTIO_E_LEGACY...), so an
   operator learns why rather than "not found". */
int virtio_mmio_find(VirtioMmioIo io, uint32_t device_id, VirtioMmioDev *dev);
/* The slot's GIC interrupt id (SPI 16 + n). */
uint32_t virtio_mmio_irq(const VirtioMmioDev *dev);
/* Checks magic, version and id of one slot: 0 or a VIRTIO_E_ code. */
int virtio_mmio_check(const VirtioMmioDev *dev, uint32_t device_id);

uint32_t virtio_mmio_read(const VirtioMmioDev *dev, uint32_t reg);
void virtio_mmio_write(const VirtioMmioDev *dev, uint32_t reg, uint32_t value);

/* Reset, ACKNOWLEDGE, DRIVER, feature negotiation (we take `wanted` & offered; every bit of `required`
   must be offered), FEATURES_OK read back. On a refusal the device is left FAILED. Returns 0 and
   the negotiated set in *accepted, or a VIRTIO_E_ code. */
int virtio_mmio_begin(const VirtioMmioDev *dev, uint64_t required, uint64_t wanted, uint64_t *accepted);
/* Tells the device where queue `index` lives (q initialised by virtq_init) and makes it ready. */
int virtio_mmio_queue_setup(const VirtioMmioDev *dev, uint32_t index, const Virtq *q);
void virtio_mmio_driver_ok(const VirtioMmioDev *dev);
void virtio_mmio_fail(const VirtioMmioDev *dev);
void virtio_mmio_notify(const VirtioMmioDev *dev, uint32_t queue_index);
/* Reads and acknowledges the interrupt status (VIRTIO_INT_* bits). */
uint32_t virtio_mmio_irq_ack(const VirtioMmioDev *dev);
/* Copies config bytes [offset, offset + len) with the generation check; 0 or VIRTIO_E_CONFIG. */
int virtio_mmio_config_read(const VirtioMmioDev *dev, uint32_t offset, uint8_t *out, uint32_t len);

#endif
