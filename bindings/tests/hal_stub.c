/* A device HAL for unit tests: no UART input, log lines kept for assertions, sockets refused. */
#include <stdio.h>
#include <string.h>

#include "hal.h"

char g_stub_last_log[600];
unsigned g_stub_log_lines;

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
  if (len >= sizeof g_stub_last_log) len = sizeof g_stub_last_log - 1;
  memcpy(g_stub_last_log, line, len);
  g_stub_last_log[len] = 0;
  g_stub_log_lines++;
}
int hal_net_listen(const char *host, uint16_t port) {
  (void)host;
  (void)port;
  return HAL_E_ADDRINUSE;
}
int hal_net_accept(int l, char *peer, size_t n) {
  (void)l;
  (void)peer;
  (void)n;
  return HAL_E_AGAIN;
}
long hal_net_recv(int s, uint8_t *b, size_t n) {
  (void)s;
  (void)b;
  (void)n;
  return HAL_E_AGAIN;
}
long hal_net_send(int s, const uint8_t *b, size_t n) {
  (void)s;
  (void)b;
  (void)n;
  return HAL_E_IO;
}
void hal_net_close(int h) { (void)h; }
int hal_net_local_port(int l) {
  (void)l;
  return HAL_E_INVAL;
}
void hal_net_want_write(int s, int on) {
  (void)s;
  (void)on;
}
void hal_net_want_read(int s, int on) {
  (void)s;
  (void)on;
}
unsigned hal_net_ready(int h) {
  (void)h;
  return 0;
}

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
