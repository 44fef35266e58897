/* Split virtqueue bookkeeping: chains onto the avail ring, used entries back with their descriptors freed. */
#include "virtio_ring.h"

#include <string.h>

/* The device reads the rings from another agent's view of memory: descriptors must be visible before
   avail->idx moves, and used->idx must be read before the entry it covers. A full fence is what the
   spec's "suitable memory barrier" needs on AArch64 (dmb ish) and costs nothing that matters here. */
#define VIRTQ_BARRIER() __atomic_thread_fence(__ATOMIC_SEQ_CST)

size_t virtq_desc_bytes(uint16_t size) { return (size_t)size * sizeof(VirtqDesc); }
size_t virtq_avail_bytes(uint16_t size) { return 2u * sizeof(uint16_t) + (size_t)size * sizeof(uint16_t) + sizeof(uint16_t); }
size_t virtq_used_bytes(uint16_t size) {
  return 2u * sizeof(uint16_t) + (size_t)size * sizeof(VirtqUsedElem) + sizeof(uint16_t);
}

static int aligned(const void *p, uint64_t paddr) {
  return ((uintptr_t)p % VIRTQ_PART_ALIGN_BYTES) == 0 && (paddr % VIRTQ_PART_ALIGN_BYTES) == 0;
}

int virtq_init(Virtq *q, uint16_t size, VirtqMem mem) {
  if (size == 0 || size > VIRTQ_SIZE_MAX || (size & (size - 1u)) != 0) return VIRTQ_E_SIZE;
  if (!mem.desc || !mem.avail || !mem.used) return VIRTQ_E_MEM;
  if (!aligned(mem.desc, mem.desc_paddr) || !aligned(mem.avail, mem.avail_paddr) || !aligned(mem.used, mem.used_paddr))
    return VIRTQ_E_MEM;
  memset(q, 0, sizeof *q);
  q->size = size;
  q->mem = mem;
  q->desc = mem.desc;
  q->avail = mem.avail;
  q->used = mem.used;
  memset(mem.desc, 0, virtq_desc_bytes(size));
  memset(mem.avail, 0, virtq_avail_bytes(size));
  memset(mem.used, 0, virtq_used_bytes(size));
  for (uint16_t i = 0; i < size; i++) q->desc[i].next = (uint16_t)(i + 1u);
  q->free_head = 0;
  q->free_count = size;
  return 0;
}

int virtq_add(Virtq *q, const VirtqBuf *bufs, unsigned n, void *cookie) {
  if (n == 0 || n > VIRTQ_CHAIN_MAX || !cookie) return VIRTQ_E_CHAIN;
  for (unsigned i = 0; i < n; i++)
    if (bufs[i].len == 0) return VIRTQ_E_CHAIN;
  if (q->free_count < n) return VIRTQ_E_FULL;
  uint16_t head = q->free_head, at = head;
  for (unsigned i = 0; i < n; i++) {
    VirtqDesc *d = &q->desc[at];
    uint16_t following = d->next;
    d->addr = bufs[i].paddr;
    d->len = bufs[i].len;
    d->flags = (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0u) | (i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u));
    if (i + 1u < n) d->next = following;
    else q->free_head = following;
    at = following;
  }
  q->free_count = (uint16_t)(q->free_count - n);
  q->cookie[head] = cookie;
  q->chain_len[head] = (uint8_t)n;
  q->avail->ring[q->avail_idx & (q->size - 1u)] = head;
  VIRTQ_BARRIER();
  q->avail_idx++;
  q->avail->idx = q->avail_idx;
  q->added_since_kick++;
  VIRTQ_BARRIER();
  return head;
}

int virtq_kick_wanted(Virtq *q) {
  int wanted = q->added_since_kick != 0 && (q->used->flags & VIRTQ_USED_F_NO_NOTIFY) == 0;
  q->added_since_kick = 0;
  return wanted;
}

int virtq_take_used(Virtq *q, void **cookie, uint32_t *len) {
  if (q->last_used_idx == q->used->idx) return 0;
  VIRTQ_BARRIER();
  VirtqUsedElem e = q->used->ring[q->last_used_idx & (q->size - 1u)];
  q->last_used_idx++;
  if (e.id >= q->size || !q->cookie[e.id]) return VIRTQ_E_DEVICE;
  uint16_t head = (uint16_t)e.id, last = head;
  for (unsigned i = 1; i < q->chain_len[head]; i++) last = q->desc[last].next;
  q->desc[last].next = q->free_head;
  q->free_head = head;
  q->free_count = (uint16_t)(q->free_count + q->chain_len[head]);
  *cookie = q->cookie[head];
  *len = e.len;
  q->cookie[head] = NULL;
  q->chain_len[head] = 0;
  return 1;
}

uint16_t virtq_free_count(const Virtq *q) { return q->free_count; }
