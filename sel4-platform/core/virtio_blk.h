/* virtio-blk over virtio-mmio: bring-up, a bounded queue of sector requests on the shared split ring (virtio_ring.c), and a synchronous BlockDev for the slot disk; no seL4 includes. */
#ifndef COHESIX_SEL4_VIRTIO_BLK_H
#define COHESIX_SEL4_VIRTIO_BLK_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_mmio.h"
#include "virtio_ring.h"

#define VIRTIO_DEVICE_ID_BLOCK 2u
#define VIRTIO_BLK_QUEUE 0u
/* Requests in flight at once: the bounded request queue. Each is a chain of three descriptors
   (header, data, status), so the virtqueue holds them all and a submit never finds it full. */
#define VIRTIO_BLK_REQS_MAX 16u
#define VIRTIO_BLK_QUEUE_SIZE 64u
#define VIRTIO_BLK_SECTOR_BYTES 512u
/* One request moves at most one page of data (a page is the largest physically contiguous buffer the
   platform's frames promise). */
#define VIRTIO_BLK_PAGE_BYTES 4096u
#define VIRTIO_BLK_REQ_BYTES_MAX VIRTIO_BLK_PAGE_BYTES
/* struct virtio_blk_req's header (type, reserved, sector) and status byte (spec 5.2.6). */
#define VIRTIO_BLK_HDR_BYTES 16u
#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u
#define VIRTIO_BLK_F_FLUSH (1ull << 9)
/* DMA pages: three ring parts, one page of request headers and status bytes, one data page per request. */
#define VIRTIO_BLK_RING_PAGES 3u
#define VIRTIO_BLK_DMA_PAGES (VIRTIO_BLK_RING_PAGES + 1u + VIRTIO_BLK_REQS_MAX)
/* A synchronous request polls the used ring at most this often before it is called lost (boot-time
   reads of the slot disk; on seL4 each poll follows a wait on the pump's notification). */
#define VIRTIO_BLK_SYNC_POLLS_MAX 1000000u

#define VIRTIO_BLK_E_BUSY (-50)  /* every request slot is with the device: back-pressure */
#define VIRTIO_BLK_E_RANGE (-51) /* zero bytes, not whole sectors, over a page, or past the capacity */
#define VIRTIO_BLK_E_IO (-52)    /* the device answered IOERR or UNSUPP */
#define VIRTIO_BLK_E_SLOT (-53)  /* a request id that is not in flight or not done */
#define VIRTIO_BLK_E_LOST (-54)  /* a synchronous request got no answer within VIRTIO_BLK_SYNC_POLLS_MAX */

typedef struct VirtioBlkDma {
  uint8_t *vaddr;
  uint64_t page_paddr[VIRTIO_BLK_DMA_PAGES];
} VirtioBlkDma;

typedef struct VirtioBlkReq {
  int busy; /* handed to the device, not yet collected */
  int done; /* the device answered */
  uint32_t bytes;
  uint8_t status;
} VirtioBlkReq;

typedef struct VirtioBlkStats {
  uint64_t reads, writes, flushes, errors, busy, device_errors;
} VirtioBlkStats;

typedef struct VirtioBlk {
  VirtioMmioDev dev;
  VirtioBlkDma dma;
  Virtq q;
  uint64_t features;
  uint64_t capacity_sectors;
  VirtioBlkReq req[VIRTIO_BLK_REQS_MAX];
  VirtioBlkStats stats;
} VirtioBlk;

const char *virtio_blk_error_name(int err);
/* Brings the device up: VERSION_1 required, FLUSH taken when offered, the queue, the capacity, DRIVER_OK. */
int virtio_blk_init(VirtioBlk *b, const VirtioMmioDev *dev, const VirtioBlkDma *dma);
/* Queues one request: read (data NULL) or write `bytes` (whole sectors, <= one page) at `sector`, or a
   flush (VIRTIO_BLK_T_FLUSH, bytes 0). Returns the request id, VIRTIO_BLK_E_BUSY or VIRTIO_BLK_E_RANGE. */
int virtio_blk_submit(VirtioBlk *b, uint32_t type, uint64_t sector, const uint8_t *data, uint32_t bytes);
/* Takes the device's answers from the used ring (the interrupt's work). Returns how many. */
unsigned virtio_blk_poll(VirtioBlk *b);
/* Whether request id has its answer. */
int virtio_blk_done(const VirtioBlk *b, int id);
/* Collects a done request (copying a read's data to out) and frees its slot: 0, VIRTIO_BLK_E_IO or _SLOT. */
int virtio_blk_collect(VirtioBlk *b, int id, uint8_t *out);
uint32_t virtio_blk_irq_ack(VirtioBlk *b);
/* Submit, poll until answered (bounded), collect: what the slot disk's BlockDev calls at boot. */
int virtio_blk_sync(VirtioBlk *b, uint32_t type, uint64_t sector, uint8_t *buf, uint32_t bytes);

#endif
