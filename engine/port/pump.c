/* The event pump: wait on the HAL until the earliest source deadline, then poll each source once. */
#include "pump.h"

#include "engine_hal.h"

static PumpSource g_sources[PUMP_SOURCES_MAX];
static unsigned g_source_count;
static uint64_t g_turns;

int pump_add_source(const PumpSource *s) {
  if (g_source_count >= PUMP_SOURCES_MAX) return -1;
  g_sources[g_source_count++] = *s;
  return 0;
}

void pump_turn(void) {
  uint64_t now = hal_clock_us();
  uint64_t deadline = now + PUMP_WAIT_US_MAX;
  for (unsigned i = 0; i < g_source_count; i++) {
    if (!g_sources[i].deadline) continue;
    uint64_t d = g_sources[i].deadline(g_sources[i].ctx);
    if (d < deadline) deadline = d;
  }
  if (deadline > now) hal_wait_until(deadline);
  now = hal_clock_us();
  for (unsigned i = 0; i < g_source_count; i++) g_sources[i].poll(g_sources[i].ctx, now);
  g_turns++;
}

void pump_run(volatile int *stop) {
  while (!*stop) pump_turn();
}

uint64_t pump_turns(void) { return g_turns; }
