/* The event pump: one cooperative loop that waits on the HAL and lets each event source deliver. */
#ifndef COHESIX_ENGINE_PUMP_H
#define COHESIX_ENGINE_PUMP_H

#include <stdint.h>

/* Event sources registered at once (UART, net, timers, channels, task jobs, ...). */
#define PUMP_SOURCES_MAX 16u
/* Longest single wait even with nothing due: a safety net so a lost wake-up costs at most this. */
#define PUMP_WAIT_US_MAX 1000000u

typedef struct PumpSource {
  const char *name;
  /* Delivers whatever is ready; must itself be bounded (each source names its per-turn bound). */
  void (*poll)(void *ctx, uint64_t now_us);
  /* Earliest monotonic time this source wants polling without a device event, or HAL_DEADLINE_NONE. */
  uint64_t (*deadline)(void *ctx);
  void *ctx;
} PumpSource;

/* Returns 0, or -1 when PUMP_SOURCES_MAX sources are registered already. */
int pump_add_source(const PumpSource *s);
/* One turn: wait for an event or the earliest deadline, then poll every source once. */
void pump_turn(void);
/* Turns until *stop becomes non-zero (a signal handler or a task may set it). */
void pump_run(volatile int *stop);
/* Turns counted since start, for status views. */
uint64_t pump_turns(void);

#endif
