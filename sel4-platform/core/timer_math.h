/* Generic-timer arithmetic: counter ticks <-> microseconds without overflow (no seL4 includes). */
#ifndef COHESIX_SEL4_TIMER_MATH_H
#define COHESIX_SEL4_TIMER_MATH_H

#include <stdint.h>

#define TIMER_US_PER_S 1000000u

/* ticks * 1e6 / freq, split so a counter running for years at GHz rates does not overflow. */
static inline uint64_t timer_ticks_to_us(uint64_t ticks, uint64_t freq_hz) {
  if (!freq_hz) return 0;
  return (ticks / freq_hz) * TIMER_US_PER_S + ((ticks % freq_hz) * TIMER_US_PER_S) / freq_hz;
}

/* The first tick at or after us (rounded up, so a deadline never fires early). */
static inline uint64_t timer_us_to_ticks(uint64_t us, uint64_t freq_hz) {
  uint64_t whole = (us / TIMER_US_PER_S) * freq_hz;
  uint64_t part = ((us % TIMER_US_PER_S) * freq_hz + TIMER_US_PER_S - 1u) / TIMER_US_PER_S;
  return whole + part;
}

#endif
