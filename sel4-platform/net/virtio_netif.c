/* lwIP netif glue over the virtio-net core, plus the port hooks lwIP asks of a NO_SYS platform (sys_now, rand, assert). */
#include "virtio_netif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bindings/limits.h" /* by path: a -I to bindings/ would shadow the libc's <limits.h> lwIP includes */
#include "engine_hal.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

_Static_assert(COHESIX_LWIP_TCP_PCBS == NET_SOCKETS_MAX, "lwIP's PCBs are the HAL's sockets: keep lwipopts.h in sync");
_Static_assert(COHESIX_LWIP_TCP_LISTENERS == NET_LISTENERS_MAX, "lwIP's listen PCBs are the HAL's listeners");
_Static_assert(PBUF_POOL_BUFSIZE >= VIRTIO_NET_FRAME_BYTES_MAX, "a received frame fits one pool pbuf");
_Static_assert(COHESIX_LWIP_RX_POOL_FRAMES >= VIRTIO_NET_RX_BUFS, "the pool takes a whole receive ring");

/* The Ethernet MTU our frames allow: VIRTIO_NET_FRAME_BYTES_MAX less the 14-byte header. */
#define VIRTIO_NETIF_MTU_BYTES (VIRTIO_NET_FRAME_BYTES_MAX - 14u)

static uint64_t g_rand_state = 0x9e3779b97f4a7c15ull;

void virtio_netif_seed(uint64_t seed) { g_rand_state = seed ? seed : 0x9e3779b97f4a7c15ull; }

uint32_t cohesix_lwip_rand(void) {
  /* xorshift64: only local ports and ids come from here (cc.h says why that is enough). */
  g_rand_state ^= g_rand_state << 13;
  g_rand_state ^= g_rand_state >> 7;
  g_rand_state ^= g_rand_state << 17;
  return (uint32_t)(g_rand_state >> 32);
}

u32_t sys_now(void) { return (u32_t)(hal_clock_us() / 1000u); }

void cohesix_lwip_diag(const char *message) { (void)message; }

void cohesix_lwip_assert(const char *message, const char *file, int line) {
  /* lwIP's state is past trusting: say where, then stop rather than serve from a corrupt stack. */
  fprintf(stderr, "lwip: assertion failed: %s (%s:%d)\n", message, file, line);
  abort();
}

static err_t linkoutput(struct netif *netif, struct pbuf *p) {
  VirtioNetif *nif = netif->state;
  if (p->tot_len > VIRTIO_NET_FRAME_BYTES_MAX) return ERR_BUF;
  uint8_t *frame = NULL;
  int slot = virtio_net_tx_claim(nif->dev, &frame);
  if (slot < 0) {
    /* Every buffer is with the device: TCP keeps the segment and sends it again; nothing is lost. */
    nif->stats.tx_busy++;
    return ERR_MEM;
  }
  if (pbuf_copy_partial(p, frame, p->tot_len, 0) != p->tot_len) {
    virtio_net_tx_abort(nif->dev, slot);
    return ERR_BUF;
  }
  return virtio_net_tx_commit(nif->dev, slot, p->tot_len) == 0 ? ERR_OK : ERR_BUF;
}

static err_t netif_setup(struct netif *netif) {
  VirtioNetif *nif = netif->state;
  netif->name[0] = 'v';
  netif->name[1] = 'n';
  netif->output = etharp_output;
  netif->linkoutput = linkoutput;
  netif->mtu = VIRTIO_NETIF_MTU_BYTES;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  memcpy(netif->hwaddr, nif->dev->mac, ETH_HWADDR_LEN);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

int virtio_netif_add(VirtioNetif *nif, VirtioNet *dev, const VirtioNetifConfig *config) {
  memset(&nif->stats, 0, sizeof nif->stats);
  nif->dev = dev;
  ip4_addr_t address, netmask, gateway;
  IP4_ADDR(&address, config->address[0], config->address[1], config->address[2], config->address[3]);
  IP4_ADDR(&netmask, config->netmask[0], config->netmask[1], config->netmask[2], config->netmask[3]);
  IP4_ADDR(&gateway, config->gateway[0], config->gateway[1], config->gateway[2], config->gateway[3]);
  if (!netif_add(&nif->netif, &address, &netmask, &gateway, nif, netif_setup, ethernet_input)) return -1;
  netif_set_default(&nif->netif);
  netif_set_up(&nif->netif);
  netif_set_link_up(&nif->netif);
  return 0;
}

static void deliver(void *ctx, const uint8_t *frame, size_t len) {
  VirtioNetif *nif = ctx;
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
  if (!p) {
    nif->stats.rx_no_pbuf++;
    return;
  }
  pbuf_take(p, frame, (u16_t)len);
  if (nif->netif.input(p, &nif->netif) != ERR_OK) pbuf_free(p);
}

unsigned virtio_netif_poll(VirtioNetif *nif) {
  virtio_net_tx_reclaim(nif->dev);
  return virtio_net_rx_poll(nif->dev, deliver, nif, VIRTIO_NET_RX_POLL_FRAMES_MAX);
}
