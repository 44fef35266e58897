/* lwIP over the virtio-net driver, end to end on the host: a TCP SYN frame from the fake device's
 * wire to a listening port gets lwIP's ARP question for the peer, then its SYN-ACK; the final ACK
 * completes the handshake and the listener accepts. Proves the glue, lwipopts.h and the driver agree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_virtio.h"
#include "lwip/init.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "virtio_netif.h"

#define CONSOLE_PORT 31337u
#define PEER_PORT 40000u
#define PEER_ISN 1000u

static const uint8_t OUR_MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t PEER_MAC[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}; /* QEMU user networking's gateway */
static const uint8_t OUR_IP[4] = {10, 0, 2, 15};
static const uint8_t PEER_IP[4] = {10, 0, 2, 2};

static uint64_t g_now_us;
uint64_t hal_clock_us(void) { return g_now_us; }

static _Alignas(4096) uint8_t g_mem[VIRTIO_NET_DMA_PAGES * VIRTIO_NET_PAGE_BYTES];
static FakeVirtio g_f;
static VirtioNetDma g_dma;
static VirtioNet g_dev;
static VirtioNetif g_nif;
static int g_accepted;

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  (void)pcb;
  if (err == ERR_OK) g_accepted++;
  return ERR_OK;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static uint32_t sum_words(const uint8_t *p, size_t len, uint32_t sum) {
  for (size_t i = 0; i + 1 < len; i += 2) sum += be16(p + i);
  if (len & 1u) sum += (uint32_t)p[len - 1] << 8;
  return sum;
}

static uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffffu) + (sum >> 16);
  return (uint16_t)~sum;
}

/* An Ethernet + IPv4 + TCP frame from the peer to our console port (no options, no payload). */
static size_t tcp_frame(uint8_t *f, uint8_t flags, uint32_t seq, uint32_t ack) {
  memset(f, 0, 54);
  memcpy(f, OUR_MAC, 6);
  memcpy(f + 6, PEER_MAC, 6);
  put16(f + 12, 0x0800);
  uint8_t *ip = f + 14;
  ip[0] = 0x45;
  put16(ip + 2, 40);
  ip[8] = 64;
  ip[9] = 6;
  memcpy(ip + 12, PEER_IP, 4);
  memcpy(ip + 16, OUR_IP, 4);
  put16(ip + 10, fold(sum_words(ip, 20, 0)));
  uint8_t *tcp = ip + 20;
  put16(tcp, PEER_PORT);
  put16(tcp + 2, CONSOLE_PORT);
  put32(tcp + 4, seq);
  put32(tcp + 8, ack);
  tcp[12] = 5u << 4;
  tcp[13] = flags;
  put16(tcp + 14, 65535);
  uint8_t pseudo[12];
  memcpy(pseudo, PEER_IP, 4);
  memcpy(pseudo + 4, OUR_IP, 4);
  pseudo[8] = 0;
  pseudo[9] = 6;
  put16(pseudo + 10, 20);
  put16(tcp + 16, fold(sum_words(tcp, 20, sum_words(pseudo, 12, 0))));
  return 54;
}

/* The peer's ARP reply to the question lwIP asked (60 bytes: Ethernet's minimum). */
static size_t arp_reply(uint8_t *f) {
  memset(f, 0, 60);
  memcpy(f, OUR_MAC, 6);
  memcpy(f + 6, PEER_MAC, 6);
  put16(f + 12, 0x0806);
  uint8_t *a = f + 14;
  put16(a, 1);
  put16(a + 2, 0x0800);
  a[4] = 6;
  a[5] = 4;
  put16(a + 6, 2);
  memcpy(a + 8, PEER_MAC, 6);
  memcpy(a + 14, PEER_IP, 4);
  memcpy(a + 18, OUR_MAC, 6);
  memcpy(a + 24, OUR_IP, 4);
  return 60;
}

static int setup(void **state) {
  (void)state;
  fake_virtio_init(&g_f, 0, g_mem, &g_dma);
  VirtioMmioDev dev;
  if (virtio_mmio_find(fake_virtio_io(&g_f), VIRTIO_DEVICE_ID_NET, &dev) < 0) return -1;
  if (virtio_net_init(&g_dev, &dev, &g_dma) < 0) return -1;
  lwip_init();
  VirtioNetifConfig cfg = {{10, 0, 2, 15}, {255, 255, 255, 0}, {10, 0, 2, 2}};
  if (virtio_netif_add(&g_nif, &g_dev, &cfg) < 0) return -1;
  struct tcp_pcb *listener = tcp_new();
  if (!listener || tcp_bind(listener, IP_ADDR_ANY, CONSOLE_PORT) != ERR_OK) return -1;
  listener = tcp_listen(listener);
  if (!listener) return -1;
  tcp_accept(listener, on_accept);
  return 0;
}

static void test_lwip_syn_through_fake_virtio_gets_arp_then_syn_ack_then_accept(void **state) {
  (void)state;
  uint8_t frame[64];
  size_t len = tcp_frame(frame, 0x02 /* SYN */, PEER_ISN, 0);
  assert_int_equal(fake_rx_deliver(&g_f, frame, len, 0), 0);
  assert_int_equal(virtio_netif_poll(&g_nif), 1);
  assert_int_equal(fake_tx_consume(&g_f), 2);

  /* First out, from link up: the gratuitous ARP announcing 10.0.2.15 (QEMU's slirp learns us from it). */
  size_t out_len = 0;
  const uint8_t *out = fake_tx_frame(&g_f, 1, &out_len);
  assert_non_null(out);
  assert_int_equal(be16(out + 12), 0x0806);
  assert_memory_equal(out + 14 + 14, OUR_IP, 4);
  assert_memory_equal(out + 14 + 24, OUR_IP, 4);

  /* lwIP does not trust the SYN's source MAC: it asks who has 10.0.2.2 before it answers. */
  out = fake_tx_frame(&g_f, 0, &out_len);
  assert_non_null(out);
  assert_int_equal(be16(out + 12), 0x0806);
  assert_int_equal(be16(out + 14 + 6), 1); /* request */
  assert_memory_equal(out + 6, OUR_MAC, 6);
  assert_memory_equal(out + 14 + 24, PEER_IP, 4);

  len = arp_reply(frame);
  assert_int_equal(fake_rx_deliver(&g_f, frame, len, 0), 0);
  virtio_netif_poll(&g_nif);
  assert_int_equal(fake_tx_consume(&g_f), 1);
  out = fake_tx_frame(&g_f, 0, &out_len);
  assert_int_equal(be16(out + 12), 0x0800);
  assert_memory_equal(out, PEER_MAC, 6);
  const uint8_t *ip = out + 14, *tcp = ip + 20;
  assert_int_equal(ip[9], 6);
  assert_memory_equal(ip + 12, OUR_IP, 4);
  assert_memory_equal(ip + 16, PEER_IP, 4);
  assert_int_equal(fold(sum_words(ip, 20, 0)), 0); /* lwIP's IP checksum is right */
  assert_int_equal(be16(tcp), CONSOLE_PORT);
  assert_int_equal(be16(tcp + 2), PEER_PORT);
  assert_int_equal(tcp[13], 0x12); /* SYN + ACK */
  assert_int_equal(be32(tcp + 8), PEER_ISN + 1u);
  uint32_t our_isn = be32(tcp + 4);

  len = tcp_frame(frame, 0x10 /* ACK */, PEER_ISN + 1u, our_isn + 1u);
  assert_int_equal(fake_rx_deliver(&g_f, frame, len, 0), 0);
  virtio_netif_poll(&g_nif);
  assert_int_equal(g_accepted, 1);
  assert_false(g_f.bad_paddr);
  assert_int_equal(g_nif.stats.rx_no_pbuf, 0);
  g_now_us += 1000000u;
  sys_check_timeouts(); /* lwIP's timers run from the clock the HAL gives (sys_now) */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_lwip_syn_through_fake_virtio_gets_arp_then_syn_ack_then_accept, setup),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
