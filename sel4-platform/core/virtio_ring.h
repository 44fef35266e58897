/* Split virtqueue (virtio 1.x, section 2.7): descriptor table, avail and used rings, free-descriptor list; no seL4 includes. */
#ifndef COHESIX_SEL4_VIRTIO_RING_H
#define COHESIX_SEL4_VIRTIO_RING_H

#include <stddef.h>
#include <stdint.h>

/* Descriptors one queue may hold: a power of two (the spec's rule for split rings) and the
   bookkeeping arrays below are sized by it. virtio-net asks for VIRTIO_NET_QUEUE_SIZE (<= this). */
#define VIRTQ_SIZE_MAX 256u
/* Descriptors one buffer chain may use: the net driver needs one (header and frame together). */
#define VIRTQ_CHAIN_MAX 4u
/* Where each ring part must start (spec 2.7: descriptor table 16, avail 2, used 4 bytes); the
   layout helper places every part at this alignment so one page holds a whole part. */
#define VIRTQ_PART_ALIGN_BYTES 16u

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u   /* device writes this buffer (receive) */
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* Errors as values; negative so a success can carry a count or an id. */
#define VIRTQ_E_SIZE (-1)    /* queue size zero, not a power of two, or above VIRTQ_SIZE_MAX */
#define VIRTQ_E_MEM (-2)     /* ring memory missing, misaligned or too small */
#define VIRTQ_E_FULL (-3)    /* not enough free descriptors: back-pressure, try after used entries return */
#define VIRTQ_E_CHAIN (-4)   /* zero buffers, more than VIRTQ_CHAIN_MAX, or a zero-length buffer */
#define VIRTQ_E_DEVICE (-5)  /* the device returned an id it does not own: a broken or hostile device */

/* The three ring parts exactly as the device reads them (little-endian; AArch64 and x86 hosts are). */
typedef struct VirtqDesc {
  uint64_t addr; /* physical (bus) address */
  uint32_t len;
  uint16_t flags;
  uint16_t next;
} VirtqDesc;

typedef struct VirtqAvail {
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[]; /* size entries, then used_event (unused: no VIRTIO_F_EVENT_IDX) */
} VirtqAvail;

typedef struct VirtqUsedElem {
  uint32_t id;
  uint32_t len;
} VirtqUsedElem;

typedef struct VirtqUsed {
  uint16_t flags;
  uint16_t idx;
  VirtqUsedElem ring[]; /* size entries, then avail_event */
} VirtqUsed;

/* Where a queue's memory is: each part's virtual pointer and the physical address the device gets. */
typedef struct VirtqMem {
  void *desc;
  uint64_t desc_paddr;
  void *avail;
  uint64_t avail_paddr;
  void *used;
  uint64_t used_paddr;
} VirtqMem;

/* One buffer of a chain: its physical address and length; device_writes marks a receive buffer. */
typedef struct VirtqBuf {
  uint64_t paddr;
  uint32_t len;
  int device_writes;
} VirtqBuf;

typedef struct Virtq {
  uint16_t size;
  VirtqDesc *desc;
  VirtqAvail *avail;
  volatile VirtqUsed *used;
  VirtqMem mem;
  uint16_t free_head;      /* first free descriptor; the free list runs through desc[].next */
  uint16_t free_count;
  uint16_t avail_idx;      /* our copy of avail->idx (free-running, wraps at 2^16 as the spec's does) */
  uint16_t last_used_idx;  /* used entries taken so far (free-running) */
  uint16_t added_since_kick;
  void *cookie[VIRTQ_SIZE_MAX];        /* per chain head: what the caller gets back; NULL = not in flight */
  uint8_t chain_len[VIRTQ_SIZE_MAX];   /* per chain head: descriptors to free when it returns */
} Virtq;

/* Bytes of each part for a queue of `size` (the avail and used rings carry their event word). */
size_t virtq_desc_bytes(uint16_t size);
size_t virtq_avail_bytes(uint16_t size);
size_t virtq_used_bytes(uint16_t size);

/* Zeroes the parts and links every descriptor into the free list. 0, VIRTQ_E_SIZE or VIRTQ_E_MEM. */
int virtq_init(Virtq *q, uint16_t size, VirtqMem mem);
/* Puts one chain of n buffers on the avail ring (device-readable ones first, as the spec asks) with
   cookie handed back by virtq_take_used. Returns the head descriptor, or VIRTQ_E_FULL (nothing changed),
   VIRTQ_E_CHAIN. cookie must not be NULL. */
int virtq_add(Virtq *q, const VirtqBuf *bufs, unsigned n, void *cookie);
/* Whether the device asked to be told about new buffers since the last call (clears the count). */
int virtq_kick_wanted(Virtq *q);
/* Takes the next used entry: 1 (cookie and device-written len filled), 0 none waiting, or
   VIRTQ_E_DEVICE when the entry names a descriptor not in flight (the entry is skipped). */
int virtq_take_used(Virtq *q, void **cookie, uint32_t *len);
uint16_t virtq_free_count(const Virtq *q);

#endif
