/* Link check for CI without seL4: the root task's seL4-free parts (engine, bindings, core, picolibc glue)
 * linked against picolibc with every seL4 call replaced by a refusal, so a missing libc symbol fails CI. */
#include <stdio.h>
#include <stdlib.h>

#include "boot.h"
#include "hal.h"
#include "libc_glue.h"

uint64_t hal_clock_us(void) { return 0; }
uint64_t hal_thread_cpu_us(void) { return HAL_THREAD_CPU_NONE; }
uint64_t hal_wall_ms(void) { return 0; }
void *hal_mem_alloc(size_t bytes) {
  (void)bytes;
  return NULL;
}
void hal_mem_free(void *mem, size_t bytes) {
  (void)mem;
  (void)bytes;
}
void hal_wait_until(uint64_t deadline_us) { (void)deadline_us; }
size_t hal_uart_read(uint8_t *buf, size_t cap) {
  (void)buf;
  (void)cap;
  return 0;
}
void hal_uart_write(const uint8_t *buf, size_t len) {
  (void)buf;
  (void)len;
}
void hal_log_write(const char *line, size_t len) {
  (void)line;
  (void)len;
}
int hal_net_listen(const char *host, uint16_t port) {
  (void)host;
  (void)port;
  return HAL_E_INVAL;
}
int hal_net_accept(int listener, char *peer, size_t peer_len) {
  (void)listener;
  (void)peer;
  (void)peer_len;
  return HAL_E_INVAL;
}
long hal_net_recv(int sock, uint8_t *buf, size_t cap) {
  (void)sock;
  (void)buf;
  (void)cap;
  return HAL_E_INVAL;
}
long hal_net_send(int sock, const uint8_t *buf, size_t len) {
  (void)sock;
  (void)buf;
  (void)len;
  return HAL_E_INVAL;
}
void hal_net_close(int handle) { (void)handle; }
int hal_net_local_port(int listener) {
  (void)listener;
  return HAL_E_INVAL;
}
void hal_net_want_write(int sock, int on) {
  (void)sock;
  (void)on;
}
void hal_net_want_read(int sock, int on) {
  (void)sock;
  (void)on;
}
unsigned hal_net_ready(int handle) {
  (void)handle;
  return 0;
}

void platform_console_write(const char *s, size_t len) {
  (void)s;
  (void)len;
}
_Noreturn void platform_halt(int code) {
  (void)code;
  for (;;) {
  }
}

int main(void) {
  char err[128];
  if (firmware_boot(NULL, 0, "{}", err, sizeof err) < 0) return 1;
  return firmware_run();
}

/* Stands in for sel4runtime's crt0, which calls main and then exit. */
void _start(void) { exit(main()); }

/* No slot storage here: the firmware did not boot from slots, so updates are refused. */
SlotId hal_slots_booted(void) { return SLOT_NONE; }
const SlotStore *hal_slots_store(void) { return NULL; }
int hal_slot_stage_open(SlotId slot, uint32_t bytes, char *err, size_t err_len) {
  (void)slot;
  (void)bytes;
  snprintf(err, err_len, "slots: no slot storage");
  return -1;
}
int hal_slot_stage_write(uint32_t offset, const uint8_t *data, size_t len, char *err, size_t err_len) {
  (void)offset;
  (void)data;
  (void)len;
  snprintf(err, err_len, "slots: no slot storage");
  return -1;
}
int hal_slot_stage_read(uint32_t offset, uint8_t *buf, size_t len, char *err, size_t err_len) {
  (void)offset;
  (void)buf;
  (void)len;
  snprintf(err, err_len, "slots: no slot storage");
  return -1;
}
int hal_slot_stage_install(char *err, size_t err_len) {
  snprintf(err, err_len, "slots: no slot storage");
  return -1;
}
void hal_slot_stage_drop(void) {}
void hal_restart(void) {}
