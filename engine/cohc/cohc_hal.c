/* The engine HAL for build-host tools (cohc): POSIX clock and plain heap memory. */
#include <stdlib.h>
#include <time.h>

#include "arena.h"
#include "engine_hal.h"

uint64_t hal_clock_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t hal_thread_cpu_us(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return HAL_THREAD_CPU_NONE;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t hal_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void *hal_mem_alloc(size_t bytes) { return aligned_alloc(ARENA_ALIGN_BYTES, (bytes + ARENA_ALIGN_BYTES - 1) & ~(size_t)(ARENA_ALIGN_BYTES - 1)); }
void hal_mem_free(void *mem, size_t bytes) {
  (void)bytes;
  free(mem);
}
void hal_wait_until(uint64_t deadline_us) { (void)deadline_us; }
