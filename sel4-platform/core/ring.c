/* Byte ring: bounded, overwrite-never FIFO; the UART receive path's only buffer. */
#include "ring.h"

int ring_init(ByteRing *r, uint8_t *buf, uint32_t cap) {
  if (!r || !buf || cap < 2u || (cap & (cap - 1u)) != 0u) return -1;
  r->buf = buf;
  r->cap = cap;
  r->head = r->tail = 0;
  r->dropped_bytes = 0;
  return 0;
}

uint32_t ring_used(const ByteRing *r) { return r->tail - r->head; }

int ring_put(ByteRing *r, uint8_t byte) {
  if (ring_used(r) >= r->cap) {
    /* Keeping what the operator already typed beats keeping the newest noise. */
    r->dropped_bytes++;
    return -1;
  }
  r->buf[r->tail & (r->cap - 1u)] = byte;
  r->tail++;
  return 0;
}

size_t ring_get(ByteRing *r, uint8_t *out, size_t n) {
  size_t got = 0;
  while (got < n && r->head != r->tail) {
    out[got++] = r->buf[r->head & (r->cap - 1u)];
    r->head++;
  }
  return got;
}
