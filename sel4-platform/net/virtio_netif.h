/* lwIP's network interface over the virtio-net core: frames out through a transmit buffer, frames in as pool pbufs. */
#ifndef COHESIX_SEL4_VIRTIO_NETIF_H
#define COHESIX_SEL4_VIRTIO_NETIF_H

#include <stdint.h>

#include "lwip/netif.h"
#include "virtio_net.h"

/* The interface's static IPv4 settings (the board's: QEMU user networking gives 10.0.2.15/24 via 10.0.2.2). */
typedef struct VirtioNetifConfig {
  uint8_t address[4];
  uint8_t netmask[4];
  uint8_t gateway[4];
} VirtioNetifConfig;

typedef struct VirtioNetifStats {
  uint64_t rx_no_pbuf;  /* frames the device gave us while lwIP's pool was empty (dropped; TCP resends) */
  uint64_t tx_busy;     /* frames lwIP sent while every transmit buffer was with the device (ERR_MEM) */
} VirtioNetifStats;

typedef struct VirtioNetif {
  struct netif netif;
  VirtioNet *dev;
  VirtioNetifStats stats;
} VirtioNetif;

/* lwip_init() once, then this: adds the interface (MAC from the device, MTU 1500), makes it the
   default, up, link up. 0, or -1 when lwIP refuses the interface. */
int virtio_netif_add(VirtioNetif *nif, VirtioNet *dev, const VirtioNetifConfig *config);
/* The device's interrupt and the pump's turn: transmit buffers back, received frames into lwIP
   (at most VIRTIO_NET_RX_POLL_FRAMES_MAX). Returns frames handed to lwIP. */
unsigned virtio_netif_poll(VirtioNetif *nif);
/* Seeds the generator behind LWIP_RAND (the platform gives what entropy it has: a clock counter). */
void virtio_netif_seed(uint64_t seed);

#endif
