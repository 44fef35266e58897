/* virtio-net driver logic: DMA layout, bring-up, receive refill and delivery, transmit with a bounded buffer pool. */
#include "virtio_net.h"

#include <string.h>

_Static_assert(VIRTIO_NET_QUEUE_SIZE <= VIRTQ_SIZE_MAX, "a net queue must fit the virtqueue bookkeeping");
_Static_assert(VIRTIO_NET_RX_BUFS <= VIRTIO_NET_QUEUE_SIZE && VIRTIO_NET_TX_BUFS <= VIRTIO_NET_QUEUE_SIZE,
               "one descriptor per buffer: a queue must hold every buffer, so a post never finds it full");
_Static_assert(VIRTIO_NET_HDR_BYTES + VIRTIO_NET_FRAME_BYTES_MAX <= VIRTIO_NET_BUF_BYTES, "a buffer holds header and frame");
_Static_assert(VIRTIO_NET_PAGE_BYTES % VIRTIO_NET_BUF_BYTES == 0, "buffers never cross a page");

const char *virtio_net_error_name(int err) {
  switch (err) {
    case VIRTIO_NET_E_BUSY: return "busy";
    case VIRTIO_NET_E_TOO_BIG: return "too-big";
    case VIRTIO_NET_E_SLOT: return "slot";
    default: return virtio_error_name(err);
  }
}

static uint64_t dma_paddr(const VirtioNet *n, size_t offset) {
  return n->dma.page_paddr[offset / VIRTIO_NET_PAGE_BYTES] + offset % VIRTIO_NET_PAGE_BYTES;
}

/* Queue q's three parts take pages 3q, 3q+1, 3q+2; buffer i (receive first, then transmit) follows the rings. */
static VirtqMem queue_mem(const VirtioNet *n, unsigned queue) {
  size_t first = (size_t)queue * 3u * VIRTIO_NET_PAGE_BYTES;
  VirtqMem m;
  m.desc = n->dma.vaddr + first;
  m.desc_paddr = dma_paddr(n, first);
  m.avail = n->dma.vaddr + first + VIRTIO_NET_PAGE_BYTES;
  m.avail_paddr = dma_paddr(n, first + VIRTIO_NET_PAGE_BYTES);
  m.used = n->dma.vaddr + first + 2u * VIRTIO_NET_PAGE_BYTES;
  m.used_paddr = dma_paddr(n, first + 2u * VIRTIO_NET_PAGE_BYTES);
  return m;
}

static size_t buf_offset(unsigned index) {
  return (size_t)VIRTIO_NET_RING_PAGES * VIRTIO_NET_PAGE_BYTES + (size_t)index * VIRTIO_NET_BUF_BYTES;
}

static uint8_t *rx_buf(VirtioNet *n, unsigned i) { return n->dma.vaddr + buf_offset(i); }
static uint8_t *tx_buf(VirtioNet *n, unsigned i) { return n->dma.vaddr + buf_offset(VIRTIO_NET_RX_BUFS + i); }

/* Cookies are buffer index + 1: the virtqueue keeps NULL for "not in flight". */
static void *cookie_of(unsigned index) { return (void *)(uintptr_t)(index + 1u); }
static unsigned index_of(void *cookie) { return (unsigned)((uintptr_t)cookie - 1u); }

static void rx_post(VirtioNet *n, unsigned i) {
  VirtqBuf b = {dma_paddr(n, buf_offset(i)), VIRTIO_NET_BUF_BYTES, 1};
  /* Cannot be full: the queue holds every receive buffer (static assertion above). */
  (void)virtq_add(&n->rx, &b, 1, cookie_of(i));
}

int virtio_net_init(VirtioNet *n, const VirtioMmioDev *dev, const VirtioNetDma *dma) {
  memset(n, 0, sizeof *n);
  n->dev = *dev;
  n->dma = *dma;
  int rc = virtio_mmio_check(dev, VIRTIO_DEVICE_ID_NET);
  if (rc < 0) return rc;
  rc = virtio_mmio_begin(dev, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC, 0, &n->features);
  if (rc < 0) return rc;
  if ((rc = virtq_init(&n->rx, VIRTIO_NET_QUEUE_SIZE, queue_mem(n, VIRTIO_NET_QUEUE_RX))) < 0 ||
      (rc = virtq_init(&n->tx, VIRTIO_NET_QUEUE_SIZE, queue_mem(n, VIRTIO_NET_QUEUE_TX))) < 0 ||
      (rc = virtio_mmio_queue_setup(dev, VIRTIO_NET_QUEUE_RX, &n->rx)) < 0 ||
      (rc = virtio_mmio_queue_setup(dev, VIRTIO_NET_QUEUE_TX, &n->tx)) < 0 ||
      (rc = virtio_mmio_config_read(dev, 0, n->mac, sizeof n->mac)) < 0) {
    virtio_mmio_fail(dev);
    return rc;
  }
  for (unsigned i = 0; i < VIRTIO_NET_TX_BUFS; i++) n->tx_free[i] = (uint16_t)(VIRTIO_NET_TX_BUFS - 1u - i);
  n->tx_free_count = VIRTIO_NET_TX_BUFS;
  for (unsigned i = 0; i < VIRTIO_NET_RX_BUFS; i++) rx_post(n, i);
  virtio_mmio_driver_ok(dev);
  if (virtq_kick_wanted(&n->rx)) virtio_mmio_notify(dev, VIRTIO_NET_QUEUE_RX);
  return 0;
}

unsigned virtio_net_rx_poll(VirtioNet *n, VirtioNetRxFn fn, void *ctx, unsigned frames_max) {
  unsigned delivered = 0;
  for (unsigned turn = 0; turn < frames_max; turn++) {
    void *cookie = NULL;
    uint32_t len = 0;
    int got = virtq_take_used(&n->rx, &cookie, &len);
    if (got == 0) break;
    if (got < 0) {
      n->stats.device_errors++;
      continue;
    }
    unsigned i = index_of(cookie);
    if (len <= VIRTIO_NET_HDR_BYTES || len > VIRTIO_NET_HDR_BYTES + VIRTIO_NET_FRAME_BYTES_MAX) {
      n->stats.rx_dropped++;
    } else {
      size_t frame_len = len - VIRTIO_NET_HDR_BYTES;
      n->stats.rx_frames++;
      n->stats.rx_bytes += frame_len;
      delivered++;
      fn(ctx, rx_buf(n, i) + VIRTIO_NET_HDR_BYTES, frame_len);
    }
    rx_post(n, i);
  }
  if (virtq_kick_wanted(&n->rx)) virtio_mmio_notify(&n->dev, VIRTIO_NET_QUEUE_RX);
  return delivered;
}

unsigned virtio_net_tx_reclaim(VirtioNet *n) {
  unsigned back = 0;
  /* Bounded: at most every transmit buffer can come back. */
  for (unsigned turn = 0; turn < VIRTIO_NET_TX_BUFS; turn++) {
    void *cookie = NULL;
    uint32_t len = 0;
    int got = virtq_take_used(&n->tx, &cookie, &len);
    if (got == 0) break;
    if (got < 0) {
      n->stats.device_errors++;
      continue;
    }
    n->tx_free[n->tx_free_count++] = (uint16_t)index_of(cookie);
    back++;
  }
  return back;
}

int virtio_net_tx_claim(VirtioNet *n, uint8_t **frame) {
  if (n->tx_free_count == 0) virtio_net_tx_reclaim(n);
  if (n->tx_free_count == 0) {
    n->stats.tx_busy++;
    return VIRTIO_NET_E_BUSY;
  }
  unsigned i = n->tx_free[--n->tx_free_count];
  n->tx_claimed[i] = 1;
  *frame = tx_buf(n, i) + VIRTIO_NET_HDR_BYTES;
  return (int)i;
}

void virtio_net_tx_abort(VirtioNet *n, int slot) {
  if (slot < 0 || slot >= (int)VIRTIO_NET_TX_BUFS || !n->tx_claimed[slot]) return;
  n->tx_claimed[slot] = 0;
  n->tx_free[n->tx_free_count++] = (uint16_t)slot;
}

int virtio_net_tx_commit(VirtioNet *n, int slot, size_t len) {
  if (slot < 0 || slot >= (int)VIRTIO_NET_TX_BUFS || !n->tx_claimed[slot]) return VIRTIO_NET_E_SLOT;
  if (len == 0 || len > VIRTIO_NET_FRAME_BYTES_MAX) {
    virtio_net_tx_abort(n, slot);
    return VIRTIO_NET_E_TOO_BIG;
  }
  unsigned i = (unsigned)slot;
  n->tx_claimed[i] = 0;
  /* No offloads negotiated: an all-zero header says "a plain frame, no checksum or segmentation to do". */
  memset(tx_buf(n, i), 0, VIRTIO_NET_HDR_BYTES);
  VirtqBuf b = {dma_paddr(n, buf_offset(VIRTIO_NET_RX_BUFS + i)), (uint32_t)(VIRTIO_NET_HDR_BYTES + len), 0};
  /* Cannot be full: the queue holds every transmit buffer. */
  (void)virtq_add(&n->tx, &b, 1, cookie_of(i));
  n->stats.tx_frames++;
  n->stats.tx_bytes += len;
  if (virtq_kick_wanted(&n->tx)) virtio_mmio_notify(&n->dev, VIRTIO_NET_QUEUE_TX);
  return 0;
}

int virtio_net_tx(VirtioNet *n, const uint8_t *frame, size_t len) {
  if (len == 0 || len > VIRTIO_NET_FRAME_BYTES_MAX) return VIRTIO_NET_E_TOO_BIG;
  uint8_t *dst = NULL;
  int slot = virtio_net_tx_claim(n, &dst);
  if (slot < 0) return slot;
  memcpy(dst, frame, len);
  return virtio_net_tx_commit(n, slot, len);
}

uint32_t virtio_net_irq_ack(VirtioNet *n) { return virtio_mmio_irq_ack(&n->dev); }
