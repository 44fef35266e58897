/* Link check for CI without seL4: the network stack the root task carries (virtio-net core, lwIP,
 * the netif glue, the HAL's socket half) linked against picolibc, every device access stubbed, so a missing libc symbol fails CI. */
#include <stdlib.h>

#include "../../bindings/hal.h"
#include "libc_glue.h"
#include "lwip/init.h"
#include "lwip/timeouts.h"
#include "net_sockets.h"
#include "virtio_netif.h"

uint64_t hal_clock_us(void) { return 0; }
uint64_t hal_wall_ms(void) { return 0; }
void platform_console_write(const char *s, size_t len) {
  (void)s;
  (void)len;
}
_Noreturn void platform_halt(int code) {
  (void)code;
  for (;;) {
  }
}

/* No device: every slot reads as an empty transport, so the probe answers not-found. */
static uint32_t no_read(void *ctx, uint32_t offset) {
  (void)ctx;
  (void)offset;
  return 0;
}
static void no_write(void *ctx, uint32_t offset, uint32_t value) {
  (void)ctx;
  (void)offset;
  (void)value;
}

static VirtioNet g_dev;
static VirtioNetif g_nif;
static VirtioNetDma g_dma;

int main(void) {
  VirtioMmioDev dev;
  if (virtio_mmio_find((VirtioMmioIo){NULL, no_read, no_write}, VIRTIO_DEVICE_ID_NET, &dev) == 0 &&
      virtio_net_init(&g_dev, &dev, &g_dma) == 0) {
    lwip_init();
    VirtioNetifConfig cfg = {{10, 0, 2, 15}, {255, 255, 255, 0}, {10, 0, 2, 2}};
    if (virtio_netif_add(&g_nif, &g_dev, &cfg) < 0) return 1;
    net_sockets_init();
    int listener = hal_net_listen("0.0.0.0", 31337);
    for (;;) {
      virtio_netif_poll(&g_nif);
      sys_check_timeouts();
      if (!net_sockets_collect()) continue;
      char peer[32];
      int h = hal_net_accept(listener, peer, sizeof peer);
      if (h < 0) continue;
      uint8_t buf[64];
      long n = hal_net_recv(h, buf, sizeof buf);
      if (n > 0) hal_net_send(h, buf, (size_t)n);
      hal_net_close(h);
    }
  }
  return 1;
}

/* Stands in for sel4runtime's crt0, which calls main and then exit. */
void _start(void) { exit(main()); }
