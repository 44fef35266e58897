/* A fake virtio-mmio bus with one virtio-net device behind it, for the host tests: a register file
 * that answers as QEMU's transport does, and a device side that consumes transmit chains and fills
 * receive buffers through the rings in fake DMA memory (physical addresses scrambled per page). */
#ifndef COHESIX_TEST_FAKE_VIRTIO_H
#define COHESIX_TEST_FAKE_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_net.h"

/* Where the fake says the DMA pages are: page p at FAKE_DMA_PADDR_BASE + (pages - 1 - p) pages, so a
   driver that treats virtual offsets as physical ones reads the wrong page and the test sees it. */
#define FAKE_DMA_PADDR_BASE 0x48000000ull
/* Transmitted frames the fake keeps for the test to read (the most recent ones). */
#define FAKE_TX_CAPTURE_MAX 64u
#define FAKE_STATUS_LOG_MAX 32u

typedef struct FakeQueue {
  uint32_t num, ready;
  uint64_t desc, avail, used;
  uint16_t last_avail;
} FakeQueue;

typedef struct FakeVirtio {
  /* What each slot holds: magic, version, device id (slot net_slot is the device below). */
  uint32_t magic[VIRTIO_MMIO_SLOTS], version[VIRTIO_MMIO_SLOTS], device_id[VIRTIO_MMIO_SLOTS];
  unsigned net_slot;
  uint64_t device_features;
  int refuse_features_ok; /* the device clears FEATURES_OK (it cannot work with the driver's subset) */
  uint32_t queue_num_max;
  uint32_t status;
  uint32_t status_log[FAKE_STATUS_LOG_MAX];
  unsigned status_writes;
  uint32_t dev_feat_sel, drv_feat_sel;
  uint64_t driver_features;
  uint32_t queue_sel;
  FakeQueue q[2];
  uint32_t notifies[2];
  uint32_t int_status;
  uint8_t mac[6];
  /* DMA: the driver's pages, as the device reaches them by physical address. */
  uint8_t *mem;
  uint64_t page_paddr[VIRTIO_NET_DMA_PAGES];
  int bad_paddr; /* the driver handed the device an address outside its DMA pages */
  uint8_t tx_frame[FAKE_TX_CAPTURE_MAX][VIRTIO_NET_FRAME_BYTES_MAX];
  size_t tx_len[FAKE_TX_CAPTURE_MAX];
  uint64_t tx_count;
  /* A device other than net (fake_virtio_blk.c): its config space, read instead of the MAC when set. */
  uint8_t config[16];
  int config_is_set;
  /* The block device's backing store (fake_virtio_blk.c). */
  uint8_t *blk_disk;
  uint64_t blk_sectors;
  int blk_fail_io; /* answer every request IOERR */
} FakeVirtio;

/* A bus with a modern virtio-net in slot net_slot and empty transports elsewhere; mem is
   VIRTIO_NET_DMA_PAGES pages, page-aligned. dma is filled for the driver. */
void fake_virtio_init(FakeVirtio *f, unsigned net_slot, uint8_t *mem, VirtioNetDma *dma);
VirtioMmioIo fake_virtio_io(FakeVirtio *f);
/* The device takes every transmit chain the driver made available, records the frame, returns the
   chain on the used ring and raises the interrupt. Returns frames taken. */
unsigned fake_tx_consume(FakeVirtio *f);
/* The device writes one frame into the next receive buffer and returns it with length
   VIRTIO_NET_HDR_BYTES + len (or used_len when nonzero, to play a broken device). 0, or -1 when the
   driver left no receive buffer (a real device drops the frame then). */
int fake_rx_deliver(FakeVirtio *f, const uint8_t *frame, size_t len, uint32_t used_len);
/* The most recent transmitted frame, back k (0 = last). */
const uint8_t *fake_tx_frame(const FakeVirtio *f, unsigned back, size_t *len);

/* For device models beside net (fake_virtio_blk.c): the driver's DMA memory at a physical address (NULL
   and bad_paddr set when outside it), and one used-ring entry with the interrupt raised. */
void *fake_virtio_at(FakeVirtio *f, uint64_t paddr, size_t len);
void fake_virtio_used_push(FakeVirtio *f, unsigned queue, uint16_t head, uint32_t len);

#endif
