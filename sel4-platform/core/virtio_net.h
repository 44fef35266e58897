/* virtio-net over virtio-mmio: device bring-up, a receive queue kept full of buffers, a transmit queue with back-pressure; no seL4 includes. */
#ifndef COHESIX_SEL4_VIRTIO_NET_H
#define COHESIX_SEL4_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_mmio.h"
#include "virtio_ring.h"

#define VIRTIO_DEVICE_ID_NET 1u
#define VIRTIO_NET_F_MAC (1ull << 5)

#define VIRTIO_NET_QUEUE_RX 0u
#define VIRTIO_NET_QUEUE_TX 1u
/* Descriptors per queue; every buffer is one descriptor, so this is also the most frames in flight
   each way. QEMU offers 256 (QueueNumMax); 32 covers a TCP window of 32 full frames (46 KiB). */
#define VIRTIO_NET_QUEUE_SIZE 32u
#define VIRTIO_NET_RX_BUFS VIRTIO_NET_QUEUE_SIZE
#define VIRTIO_NET_TX_BUFS VIRTIO_NET_QUEUE_SIZE
/* struct virtio_net_hdr with VIRTIO_F_VERSION_1 (spec 5.1.6): num_buffers is always there. */
#define VIRTIO_NET_HDR_BYTES 12u
/* An Ethernet frame without FCS at MTU 1500 (14-byte header). */
#define VIRTIO_NET_FRAME_BYTES_MAX 1514u
/* One DMA buffer (header + frame), two to a page so no buffer crosses a page (pages need not be
   physically contiguous). */
#define VIRTIO_NET_BUF_BYTES 2048u
#define VIRTIO_NET_PAGE_BYTES 4096u
/* The DMA pages the driver needs: three ring parts per queue (a page each), then the buffers. */
#define VIRTIO_NET_RING_PAGES 6u
#define VIRTIO_NET_BUF_PAGES ((VIRTIO_NET_RX_BUFS + VIRTIO_NET_TX_BUFS) * VIRTIO_NET_BUF_BYTES / VIRTIO_NET_PAGE_BYTES)
#define VIRTIO_NET_DMA_PAGES (VIRTIO_NET_RING_PAGES + VIRTIO_NET_BUF_PAGES)
/* Used entries one poll takes from the receive queue, so a flood cannot hold the pump. */
#define VIRTIO_NET_RX_POLL_FRAMES_MAX VIRTIO_NET_RX_BUFS

#define VIRTIO_NET_E_BUSY (-40)    /* every transmit buffer is with the device: back-pressure, try after it returns some */
#define VIRTIO_NET_E_TOO_BIG (-41) /* a frame over VIRTIO_NET_FRAME_BYTES_MAX */
#define VIRTIO_NET_E_SLOT (-42)    /* a transmit slot that was not claimed */

/* The DMA memory: VIRTIO_NET_DMA_PAGES pages mapped contiguously at vaddr (page-aligned), each
   page's physical address given (the platform's frames need not be physically contiguous). */
typedef struct VirtioNetDma {
  uint8_t *vaddr;
  uint64_t page_paddr[VIRTIO_NET_DMA_PAGES];
} VirtioNetDma;

typedef struct VirtioNetStats {
  uint64_t rx_frames;
  uint64_t rx_bytes;
  uint64_t rx_dropped;    /* used entries with a length no frame can have */
  uint64_t tx_frames;
  uint64_t tx_bytes;
  uint64_t tx_busy;       /* transmit refused for want of a buffer */
  uint64_t device_errors; /* used entries naming a descriptor not in flight */
} VirtioNetStats;

typedef struct VirtioNet {
  VirtioMmioDev dev;
  VirtioNetDma dma;
  Virtq rx;
  Virtq tx;
  uint64_t features;
  uint8_t mac[6];
  uint16_t tx_free[VIRTIO_NET_TX_BUFS]; /* transmit buffers not with the device (a stack) */
  uint16_t tx_free_count;
  uint8_t tx_claimed[VIRTIO_NET_TX_BUFS];
  VirtioNetStats stats;
} VirtioNet;

/* A received frame (Ethernet header on); valid only during the call: the buffer goes back to the device after. */
typedef void (*VirtioNetRxFn)(void *ctx, const uint8_t *frame, size_t len);

const char *virtio_net_error_name(int err);
/* Brings the device in `dev` up: negotiation (VERSION_1 and MAC required), both queues, the MAC,
   every receive buffer posted, DRIVER_OK. 0 or a VIRTIO_E_ / VIRTQ_E_ code (the device is left FAILED). */
int virtio_net_init(VirtioNet *n, const VirtioMmioDev *dev, const VirtioNetDma *dma);
/* Delivers up to frames_max received frames to fn, re-posting each buffer. Returns frames delivered. */
unsigned virtio_net_rx_poll(VirtioNet *n, VirtioNetRxFn fn, void *ctx, unsigned frames_max);
/* Takes back transmit buffers the device is done with. Returns how many. */
unsigned virtio_net_tx_reclaim(VirtioNet *n);
/* A transmit buffer to write one frame into (VIRTIO_NET_FRAME_BYTES_MAX bytes at *frame): a slot
   number, or VIRTIO_NET_E_BUSY when the device holds them all. Claim, fill, then commit or abort. */
int virtio_net_tx_claim(VirtioNet *n, uint8_t **frame);
/* Hands the claimed slot's first len bytes to the device. 0, VIRTIO_NET_E_TOO_BIG (slot freed) or VIRTIO_NET_E_SLOT. */
int virtio_net_tx_commit(VirtioNet *n, int slot, size_t len);
void virtio_net_tx_abort(VirtioNet *n, int slot);
/* claim + copy + commit: 0, VIRTIO_NET_E_BUSY or VIRTIO_NET_E_TOO_BIG. */
int virtio_net_tx(VirtioNet *n, const uint8_t *frame, size_t len);
/* The interrupt: reads and acknowledges the device's interrupt status (VIRTIO_INT_* bits). */
uint32_t virtio_net_irq_ack(VirtioNet *n);

#endif
