/* Byte ring: a bounded FIFO between an interrupt drain and the pump (no seL4 includes; tested on the host). */
#ifndef COHESIX_SEL4_RING_H
#define COHESIX_SEL4_RING_H

#include <stddef.h>
#include <stdint.h>

typedef struct ByteRing {
  uint8_t *buf;
  uint32_t cap;            /* a power of two, so indices wrap with a mask */
  uint32_t head;           /* next byte to read (free-running) */
  uint32_t tail;           /* next byte to write (free-running) */
  uint64_t dropped_bytes;  /* bytes refused because the ring was full */
} ByteRing;

/* cap must be a power of two >= 2; returns -1 otherwise. */
int ring_init(ByteRing *r, uint8_t *buf, uint32_t cap);
/* 0, or -1 (counted in dropped_bytes) when full: new input is dropped, old input is kept. */
int ring_put(ByteRing *r, uint8_t byte);
/* Copies up to n bytes out; returns how many. */
size_t ring_get(ByteRing *r, uint8_t *out, size_t n);
uint32_t ring_used(const ByteRing *r);

#endif
