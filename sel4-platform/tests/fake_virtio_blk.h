/* A fake virtio-blk device on the fake virtio-mmio bus (fake_virtio.h): a disk in memory, served through the driver's split ring. */
#ifndef COHESIX_TEST_FAKE_VIRTIO_BLK_H
#define COHESIX_TEST_FAKE_VIRTIO_BLK_H

#include "fake_virtio.h"
#include "virtio_blk.h"

/* A bus with a modern virtio-blk of `sectors` sectors (backed by disk) in `slot`; mem is
   VIRTIO_NET_DMA_PAGES pages, page-aligned (the fake's DMA window); dma is filled for the driver. */
void fake_blk_init(FakeVirtio *f, unsigned slot, uint8_t *mem, VirtioBlkDma *dma, uint8_t *disk, uint64_t sectors);
/* The device answers up to max requests the driver made available. Returns how many. */
unsigned fake_blk_serve(FakeVirtio *f, unsigned max);

#endif
