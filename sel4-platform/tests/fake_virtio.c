/* The fake virtio-mmio bus and virtio-net device behind the driver tests (see fake_virtio.h). */
#include "fake_virtio.h"

#include <string.h>

void fake_virtio_init(FakeVirtio *f, unsigned net_slot, uint8_t *mem, VirtioNetDma *dma) {
  memset(f, 0, sizeof *f);
  for (unsigned n = 0; n < VIRTIO_MMIO_SLOTS; n++) {
    f->magic[n] = VIRTIO_MMIO_MAGIC_VALUE;
    f->version[n] = VIRTIO_MMIO_VERSION_MODERN;
    f->device_id[n] = 0; /* QEMU's empty transports */
  }
  f->net_slot = net_slot;
  f->device_id[net_slot] = VIRTIO_DEVICE_ID_NET;
  f->device_features = VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | (1ull << 16) /* STATUS: offered, not needed */;
  f->queue_num_max = 256;
  memcpy(f->mac, "\x52\x54\x00\x12\x34\x56", 6);
  f->mem = mem;
  memset(mem, 0xa5, (size_t)VIRTIO_NET_DMA_PAGES * VIRTIO_NET_PAGE_BYTES); /* stale bytes: init must clear rings */
  dma->vaddr = mem;
  for (unsigned p = 0; p < VIRTIO_NET_DMA_PAGES; p++) {
    f->page_paddr[p] = FAKE_DMA_PADDR_BASE + (uint64_t)(VIRTIO_NET_DMA_PAGES - 1u - p) * VIRTIO_NET_PAGE_BYTES;
    dma->page_paddr[p] = f->page_paddr[p];
  }
}

static void *at(FakeVirtio *f, uint64_t paddr, size_t len) {
  uint64_t page = paddr & ~(uint64_t)(VIRTIO_NET_PAGE_BYTES - 1u);
  size_t in_page = (size_t)(paddr - page);
  for (unsigned p = 0; p < VIRTIO_NET_DMA_PAGES; p++) {
    if (f->page_paddr[p] != page) continue;
    if (in_page + len > VIRTIO_NET_PAGE_BYTES) break; /* the driver promised no part crosses a page */
    return f->mem + (size_t)p * VIRTIO_NET_PAGE_BYTES + in_page;
  }
  f->bad_paddr = 1;
  return NULL;
}

static uint32_t slot_read(FakeVirtio *f, unsigned slot, uint32_t reg) {
  switch (reg) {
    case VIRTIO_MMIO_MAGIC: return f->magic[slot];
    case VIRTIO_MMIO_VERSION: return f->version[slot];
    case VIRTIO_MMIO_DEVICE_ID: return f->device_id[slot];
    case VIRTIO_MMIO_VENDOR_ID: return 0x554d4551u; /* "QEMU" */
    default: break;
  }
  if (slot != f->net_slot) return 0;
  FakeQueue *q = f->queue_sel < 2 ? &f->q[f->queue_sel] : NULL;
  switch (reg) {
    case VIRTIO_MMIO_DEVICE_FEATURES: return f->dev_feat_sel < 2 ? (uint32_t)(f->device_features >> (32u * f->dev_feat_sel)) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? f->queue_num_max : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return f->int_status;
    case VIRTIO_MMIO_STATUS: return f->status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0;
    default: break;
  }
  if (reg >= VIRTIO_MMIO_CONFIG && reg < VIRTIO_MMIO_CONFIG + 8u) {
    uint8_t cfg[8] = {0};
    if (f->config_is_set) memcpy(cfg, f->config, sizeof cfg);
    else memcpy(cfg, f->mac, 6);
    uint32_t o = reg - VIRTIO_MMIO_CONFIG;
    return (uint32_t)cfg[o] | (uint32_t)cfg[o + 1] << 8 | (uint32_t)cfg[o + 2] << 16 | (uint32_t)cfg[o + 3] << 24;
  }
  return 0;
}

static void set_low(uint64_t *v, uint32_t low) { *v = (*v & 0xffffffff00000000ull) | low; }
static void set_high(uint64_t *v, uint32_t high) { *v = (*v & 0xffffffffull) | (uint64_t)high << 32; }

static void slot_write(FakeVirtio *f, unsigned slot, uint32_t reg, uint32_t v) {
  if (slot != f->net_slot) return;
  FakeQueue *q = f->queue_sel < 2 ? &f->q[f->queue_sel] : NULL;
  switch (reg) {
    case VIRTIO_MMIO_STATUS:
      if (f->status_writes < FAKE_STATUS_LOG_MAX) f->status_log[f->status_writes] = v;
      f->status_writes++;
      if (v == 0) { /* reset: queues forgotten */
        memset(f->q, 0, sizeof f->q);
        f->driver_features = 0;
      }
      if ((v & VIRTIO_STATUS_FEATURES_OK) && f->refuse_features_ok) v &= ~VIRTIO_STATUS_FEATURES_OK;
      f->status = v;
      return;
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: f->dev_feat_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: f->drv_feat_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
      if (f->drv_feat_sel == 0) set_low(&f->driver_features, v);
      else if (f->drv_feat_sel == 1) set_high(&f->driver_features, v);
      return;
    case VIRTIO_MMIO_QUEUE_SEL: f->queue_sel = v; return;
    case VIRTIO_MMIO_QUEUE_NOTIFY: if (v < 2) f->notifies[v]++; return;
    case VIRTIO_MMIO_INTERRUPT_ACK: f->int_status &= ~v; return;
    default: break;
  }
  if (!q) return;
  switch (reg) {
    case VIRTIO_MMIO_QUEUE_NUM: q->num = v; return;
    case VIRTIO_MMIO_QUEUE_READY: q->ready = v; return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: set_low(&q->desc, v); return;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_high(&q->desc, v); return;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: set_low(&q->avail, v); return;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: set_high(&q->avail, v); return;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: set_low(&q->used, v); return;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: set_high(&q->used, v); return;
    default: return;
  }
}

static uint32_t bus_read(void *ctx, uint32_t off) {
  return slot_read(ctx, off / VIRTIO_MMIO_SLOT_BYTES, off % VIRTIO_MMIO_SLOT_BYTES);
}

static void bus_write(void *ctx, uint32_t off, uint32_t v) {
  slot_write(ctx, off / VIRTIO_MMIO_SLOT_BYTES, off % VIRTIO_MMIO_SLOT_BYTES, v);
}

VirtioMmioIo fake_virtio_io(FakeVirtio *f) { return (VirtioMmioIo){f, bus_read, bus_write}; }

static int queue_live(FakeVirtio *f, FakeQueue *q) {
  return q->ready && (f->status & VIRTIO_STATUS_DRIVER_OK) && q->num;
}

static void used_push(FakeVirtio *f, FakeQueue *q, uint16_t head, uint32_t len) {
  VirtqUsed *used = at(f, q->used, virtq_used_bytes((uint16_t)q->num));
  if (!used) return;
  used->ring[used->idx % q->num] = (VirtqUsedElem){head, len};
  used->idx++;
  f->int_status |= VIRTIO_INT_USED_BUFFER;
}

unsigned fake_tx_consume(FakeVirtio *f) {
  FakeQueue *q = &f->q[VIRTIO_NET_QUEUE_TX];
  if (!queue_live(f, q)) return 0;
  VirtqAvail *avail = at(f, q->avail, virtq_avail_bytes((uint16_t)q->num));
  VirtqDesc *desc = at(f, q->desc, virtq_desc_bytes((uint16_t)q->num));
  if (!avail || !desc) return 0;
  unsigned taken = 0;
  while (q->last_avail != avail->idx) {
    uint16_t head = avail->ring[q->last_avail % q->num];
    q->last_avail++;
    uint8_t bytes[VIRTIO_NET_BUF_BYTES];
    size_t len = 0;
    for (uint16_t d = head, hops = 0; hops < q->num; hops++) {
      const uint8_t *src = at(f, desc[d].addr, desc[d].len);
      if (!src || len + desc[d].len > sizeof bytes) return taken;
      memcpy(bytes + len, src, desc[d].len);
      len += desc[d].len;
      if (!(desc[d].flags & VIRTQ_DESC_F_NEXT)) break;
      d = desc[d].next;
    }
    if (len > VIRTIO_NET_HDR_BYTES) {
      unsigned k = (unsigned)(f->tx_count % FAKE_TX_CAPTURE_MAX);
      f->tx_len[k] = len - VIRTIO_NET_HDR_BYTES;
      memcpy(f->tx_frame[k], bytes + VIRTIO_NET_HDR_BYTES, f->tx_len[k]);
      f->tx_count++;
    }
    used_push(f, q, head, 0);
    taken++;
  }
  return taken;
}

int fake_rx_deliver(FakeVirtio *f, const uint8_t *frame, size_t len, uint32_t used_len) {
  FakeQueue *q = &f->q[VIRTIO_NET_QUEUE_RX];
  if (!queue_live(f, q)) return -1;
  VirtqAvail *avail = at(f, q->avail, virtq_avail_bytes((uint16_t)q->num));
  VirtqDesc *desc = at(f, q->desc, virtq_desc_bytes((uint16_t)q->num));
  if (!avail || !desc || q->last_avail == avail->idx) return -1;
  uint16_t head = avail->ring[q->last_avail % q->num];
  q->last_avail++;
  if (!(desc[head].flags & VIRTQ_DESC_F_WRITE) || desc[head].len < VIRTIO_NET_HDR_BYTES + len) {
    f->bad_paddr = 1; /* a receive buffer the device may not write, or too small for a full frame */
    return -1;
  }
  uint8_t *dst = at(f, desc[head].addr, desc[head].len);
  if (!dst) return -1;
  memset(dst, 0, VIRTIO_NET_HDR_BYTES);
  dst[10] = 1; /* num_buffers, as QEMU writes it */
  memcpy(dst + VIRTIO_NET_HDR_BYTES, frame, len);
  used_push(f, q, head, used_len ? used_len : (uint32_t)(VIRTIO_NET_HDR_BYTES + len));
  return 0;
}

const uint8_t *fake_tx_frame(const FakeVirtio *f, unsigned back, size_t *len) {
  if (back >= f->tx_count || back >= FAKE_TX_CAPTURE_MAX) return NULL;
  unsigned k = (unsigned)((f->tx_count - 1u - back) % FAKE_TX_CAPTURE_MAX);
  *len = f->tx_len[k];
  return f->tx_frame[k];
}

void *fake_virtio_at(FakeVirtio *f, uint64_t paddr, size_t len) { return at(f, paddr, len); }

void fake_virtio_used_push(FakeVirtio *f, unsigned queue, uint16_t head, uint32_t len) { used_push(f, &f->q[queue], head, len); }
