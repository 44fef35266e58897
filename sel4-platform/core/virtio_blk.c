/* virtio-blk driver logic: DMA layout, bring-up, bounded request slots over the shared split ring, completions, a synchronous path. */
#include "virtio_blk.h"

#include <string.h>

_Static_assert(VIRTIO_BLK_QUEUE_SIZE <= VIRTQ_SIZE_MAX, "the queue must fit the virtqueue bookkeeping");
_Static_assert(3u * VIRTIO_BLK_REQS_MAX <= VIRTIO_BLK_QUEUE_SIZE, "three descriptors per request: the queue holds every request");
_Static_assert(VIRTIO_BLK_REQS_MAX * (VIRTIO_BLK_HDR_BYTES + 16u) <= VIRTIO_BLK_PAGE_BYTES, "headers and status bytes share one page");
_Static_assert(3u <= VIRTQ_CHAIN_MAX, "a request is a chain of three");

const char *virtio_blk_error_name(int err) {
  switch (err) {
    case VIRTIO_BLK_E_BUSY: return "busy";
    case VIRTIO_BLK_E_RANGE: return "range";
    case VIRTIO_BLK_E_IO: return "io";
    case VIRTIO_BLK_E_SLOT: return "slot";
    case VIRTIO_BLK_E_LOST: return "lost";
    default: return virtio_error_name(err);
  }
}

static uint64_t dma_paddr(const VirtioBlk *b, size_t offset) {
  return b->dma.page_paddr[offset / VIRTIO_BLK_PAGE_BYTES] + offset % VIRTIO_BLK_PAGE_BYTES;
}

/* Page 3 holds request i's header at 32 i and its status byte at 32 i + 16; data page i follows. */
static size_t hdr_offset(unsigned i) { return (size_t)VIRTIO_BLK_RING_PAGES * VIRTIO_BLK_PAGE_BYTES + 32u * i; }
static size_t status_offset(unsigned i) { return hdr_offset(i) + VIRTIO_BLK_HDR_BYTES; }
static size_t data_offset(unsigned i) { return (size_t)(VIRTIO_BLK_RING_PAGES + 1u + i) * VIRTIO_BLK_PAGE_BYTES; }

static void *cookie_of(unsigned i) { return (void *)(uintptr_t)(i + 1u); }
static unsigned index_of(void *cookie) { return (unsigned)((uintptr_t)cookie - 1u); }

static void put_le(uint8_t *p, uint64_t v, unsigned n) {
  for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

int virtio_blk_init(VirtioBlk *b, const VirtioMmioDev *dev, const VirtioBlkDma *dma) {
  memset(b, 0, sizeof *b);
  b->dev = *dev;
  b->dma = *dma;
  int rc = virtio_mmio_check(dev, VIRTIO_DEVICE_ID_BLOCK);
  if (rc < 0) return rc;
  rc = virtio_mmio_begin(dev, VIRTIO_F_VERSION_1, VIRTIO_BLK_F_FLUSH, &b->features);
  if (rc < 0) return rc;
  VirtqMem m = {b->dma.vaddr, dma_paddr(b, 0), b->dma.vaddr + VIRTIO_BLK_PAGE_BYTES, dma_paddr(b, VIRTIO_BLK_PAGE_BYTES),
                b->dma.vaddr + 2u * VIRTIO_BLK_PAGE_BYTES, dma_paddr(b, 2u * VIRTIO_BLK_PAGE_BYTES)};
  uint8_t cap[8];
  if ((rc = virtq_init(&b->q, VIRTIO_BLK_QUEUE_SIZE, m)) < 0 || (rc = virtio_mmio_queue_setup(dev, VIRTIO_BLK_QUEUE, &b->q)) < 0 ||
      (rc = virtio_mmio_config_read(dev, 0, cap, sizeof cap)) < 0) {
    virtio_mmio_fail(dev);
    return rc;
  }
  for (unsigned i = 0; i < 8; i++) b->capacity_sectors |= (uint64_t)cap[i] << (8 * i);
  virtio_mmio_driver_ok(dev);
  return 0;
}

int virtio_blk_submit(VirtioBlk *b, uint32_t type, uint64_t sector, const uint8_t *data, uint32_t bytes) {
  if (type == VIRTIO_BLK_T_FLUSH) {
    if (bytes != 0) return VIRTIO_BLK_E_RANGE;
  } else if ((type != VIRTIO_BLK_T_IN && type != VIRTIO_BLK_T_OUT) || bytes == 0 || bytes % VIRTIO_BLK_SECTOR_BYTES ||
             bytes > VIRTIO_BLK_REQ_BYTES_MAX || sector + bytes / VIRTIO_BLK_SECTOR_BYTES > b->capacity_sectors ||
             (type == VIRTIO_BLK_T_OUT && !data)) {
    return VIRTIO_BLK_E_RANGE;
  }
  unsigned i = 0;
  while (i < VIRTIO_BLK_REQS_MAX && b->req[i].busy) i++;
  if (i == VIRTIO_BLK_REQS_MAX) {
    b->stats.busy++;
    return VIRTIO_BLK_E_BUSY;
  }
  uint8_t *hdr = b->dma.vaddr + hdr_offset(i);
  put_le(hdr, type, 4);
  put_le(hdr + 4, 0, 4);
  put_le(hdr + 8, sector, 8);
  b->dma.vaddr[status_offset(i)] = 0xff; /* not an answer the device gives: a lost write of it shows */
  if (type == VIRTIO_BLK_T_OUT) memcpy(b->dma.vaddr + data_offset(i), data, bytes);
  VirtqBuf bufs[3];
  unsigned n = 0;
  bufs[n++] = (VirtqBuf){dma_paddr(b, hdr_offset(i)), VIRTIO_BLK_HDR_BYTES, 0};
  if (bytes) bufs[n++] = (VirtqBuf){dma_paddr(b, data_offset(i)), bytes, type == VIRTIO_BLK_T_IN};
  bufs[n++] = (VirtqBuf){dma_paddr(b, status_offset(i)), 1, 1};
  int rc = virtq_add(&b->q, bufs, n, cookie_of(i));
  if (rc < 0) return rc; /* cannot be full (static assertion above) */
  b->req[i] = (VirtioBlkReq){1, 0, bytes, 0xff};
  if (type == VIRTIO_BLK_T_IN) b->stats.reads++;
  else if (type == VIRTIO_BLK_T_OUT) b->stats.writes++;
  else b->stats.flushes++;
  if (virtq_kick_wanted(&b->q)) virtio_mmio_notify(&b->dev, VIRTIO_BLK_QUEUE);
  return (int)i;
}

unsigned virtio_blk_poll(VirtioBlk *b) {
  unsigned taken = 0;
  for (unsigned k = 0; k < VIRTIO_BLK_QUEUE_SIZE; k++) { /* bounded: at most a queue's worth per call */
    void *cookie;
    uint32_t len;
    int r = virtq_take_used(&b->q, &cookie, &len);
    if (r == 0) break;
    if (r < 0) {
      b->stats.device_errors++;
      continue;
    }
    unsigned i = index_of(cookie);
    if (i >= VIRTIO_BLK_REQS_MAX || !b->req[i].busy) {
      b->stats.device_errors++;
      continue;
    }
    b->req[i].done = 1;
    b->req[i].status = b->dma.vaddr[status_offset(i)];
    taken++;
  }
  return taken;
}

int virtio_blk_done(const VirtioBlk *b, int id) {
  return id >= 0 && id < (int)VIRTIO_BLK_REQS_MAX && b->req[id].busy && b->req[id].done;
}

int virtio_blk_collect(VirtioBlk *b, int id, uint8_t *out) {
  if (!virtio_blk_done(b, id)) return VIRTIO_BLK_E_SLOT;
  VirtioBlkReq r = b->req[id];
  b->req[id] = (VirtioBlkReq){0};
  if (r.status != VIRTIO_BLK_S_OK) {
    b->stats.errors++;
    return VIRTIO_BLK_E_IO;
  }
  if (out) memcpy(out, b->dma.vaddr + data_offset((unsigned)id), r.bytes);
  return 0;
}

uint32_t virtio_blk_irq_ack(VirtioBlk *b) { return virtio_mmio_irq_ack(&b->dev); }

int virtio_blk_sync(VirtioBlk *b, uint32_t type, uint64_t sector, uint8_t *buf, uint32_t bytes) {
  int id = virtio_blk_submit(b, type, sector, buf, bytes);
  if (id < 0) return id;
  for (uint32_t p = 0; p < VIRTIO_BLK_SYNC_POLLS_MAX && !virtio_blk_done(b, id); p++) virtio_blk_poll(b);
  if (!virtio_blk_done(b, id)) return VIRTIO_BLK_E_LOST; /* the slot stays busy: the device may still answer */
  return virtio_blk_collect(b, id, type == VIRTIO_BLK_T_IN ? buf : NULL);
}
