/* The fake virtio-blk device behind the block driver tests (see fake_virtio_blk.h). */
#include "fake_virtio_blk.h"

#include <string.h>

_Static_assert(VIRTIO_BLK_DMA_PAGES <= VIRTIO_NET_DMA_PAGES, "the fake's DMA window holds the block driver's pages");

void fake_blk_init(FakeVirtio *f, unsigned slot, uint8_t *mem, VirtioBlkDma *dma, uint8_t *disk, uint64_t sectors) {
  VirtioNetDma window;
  fake_virtio_init(f, slot, mem, &window);
  f->device_id[slot] = VIRTIO_DEVICE_ID_BLOCK;
  f->device_features = VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH;
  for (unsigned i = 0; i < 8; i++) f->config[i] = (uint8_t)(sectors >> (8 * i)); /* capacity, in 512-byte sectors */
  f->config_is_set = 1;
  f->blk_disk = disk;
  f->blk_sectors = sectors;
  dma->vaddr = window.vaddr;
  for (unsigned p = 0; p < VIRTIO_BLK_DMA_PAGES; p++) dma->page_paddr[p] = window.page_paddr[p];
}

static uint64_t le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

unsigned fake_blk_serve(FakeVirtio *f, unsigned max) {
  FakeQueue *q = &f->q[VIRTIO_BLK_QUEUE];
  if (!q->ready || !(f->status & VIRTIO_STATUS_DRIVER_OK) || !q->num) return 0;
  VirtqAvail *avail = fake_virtio_at(f, q->avail, virtq_avail_bytes((uint16_t)q->num));
  VirtqDesc *desc = fake_virtio_at(f, q->desc, virtq_desc_bytes((uint16_t)q->num));
  if (!avail || !desc) return 0;
  unsigned served = 0;
  while (served < max && q->last_avail != avail->idx) {
    uint16_t head = avail->ring[q->last_avail % q->num];
    q->last_avail++;
    /* header (device reads), then optionally data, then the status byte (device writes) */
    uint16_t chain[3];
    unsigned n = 0;
    for (uint16_t d = head; n < 3; d = desc[d].next) {
      chain[n++] = d;
      if (!(desc[d].flags & VIRTQ_DESC_F_NEXT)) break;
    }
    const uint8_t *hdr = fake_virtio_at(f, desc[chain[0]].addr, VIRTIO_BLK_HDR_BYTES);
    uint8_t *status = fake_virtio_at(f, desc[chain[n - 1]].addr, 1);
    if (!hdr || !status || n < 2 || (desc[chain[0]].flags & VIRTQ_DESC_F_WRITE) || !(desc[chain[n - 1]].flags & VIRTQ_DESC_F_WRITE)) {
      f->bad_paddr = 1;
      return served;
    }
    uint32_t type = (uint32_t)le(hdr, 4);
    uint64_t sector = le(hdr + 8, 8);
    uint32_t written = 1;
    uint8_t st = VIRTIO_BLK_S_OK;
    if (n == 3) {
      VirtqDesc *dd = &desc[chain[1]];
      uint8_t *data = fake_virtio_at(f, dd->addr, dd->len);
      int device_writes = (dd->flags & VIRTQ_DESC_F_WRITE) != 0;
      if (!data || dd->len % VIRTIO_BLK_SECTOR_BYTES || sector + dd->len / VIRTIO_BLK_SECTOR_BYTES > f->blk_sectors) st = VIRTIO_BLK_S_IOERR;
      else if (type == VIRTIO_BLK_T_IN && device_writes) {
        memcpy(data, f->blk_disk + sector * VIRTIO_BLK_SECTOR_BYTES, dd->len);
        written += dd->len;
      } else if (type == VIRTIO_BLK_T_OUT && !device_writes) memcpy(f->blk_disk + sector * VIRTIO_BLK_SECTOR_BYTES, data, dd->len);
      else st = VIRTIO_BLK_S_UNSUPP;
    } else if (type != VIRTIO_BLK_T_FLUSH) st = VIRTIO_BLK_S_UNSUPP;
    if (f->blk_fail_io) st = VIRTIO_BLK_S_IOERR;
    *status = st;
    fake_virtio_used_push(f, VIRTIO_BLK_QUEUE, head, written);
    served++;
  }
  return served;
}
