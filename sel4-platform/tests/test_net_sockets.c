/* The HAL's socket half over lwIP (net/net_sockets.c), end to end on the host: a scripted TCP peer on the fake virtio-net wire connects, talks, floods, resets and leaves; each test checks what the firmware sees through hal_net_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../bindings/hal.h"
#include "fake_virtio.h"
#include "lwip/init.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "net_sockets.h"
#include "virtio_netif.h"

#define CONSOLE_PORT 31337u
/* What the scripted peer keeps of the stream it receives (more than one send buffer). */
#define PEER_RX_BYTES_MAX (4u * TCP_SND_BUF)
/* Turns of the wire (deliver, poll, consume) a test allows itself before it calls the stack stuck. */
#define WIRE_TURNS_MAX 256u

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
static int g_listener;

/* One TCP peer on the wire: its port, its next sequence number and what it has received of ours. */
typedef struct Peer {
  uint16_t port;
  uint32_t seq;       /* next byte it sends */
  uint32_t ack;       /* next byte it expects from us (0 until our SYN-ACK) */
  uint16_t window;    /* what it advertises */
  int acking;         /* acknowledges what it receives */
  int got_rst, got_fin;
  uint8_t rx[PEER_RX_BYTES_MAX];
  size_t rx_len;
} Peer;

static Peer *g_peers[16];
static unsigned g_peer_count;

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

#define TCP_FIN 0x01u
#define TCP_SYN 0x02u
#define TCP_RST 0x04u
#define TCP_PSH 0x08u
#define TCP_ACK 0x10u

/* Ethernet + IPv4 + TCP from the peer to our console port. */
static size_t tcp_frame(uint8_t *f, const Peer *p, uint8_t flags, const uint8_t *data, size_t len) {
  size_t tcp_len = 20 + len;
  memset(f, 0, 54);
  memcpy(f, OUR_MAC, 6);
  memcpy(f + 6, PEER_MAC, 6);
  put16(f + 12, 0x0800);
  uint8_t *ip = f + 14;
  ip[0] = 0x45;
  put16(ip + 2, (uint16_t)(20 + tcp_len));
  ip[8] = 64;
  ip[9] = 6;
  memcpy(ip + 12, PEER_IP, 4);
  memcpy(ip + 16, OUR_IP, 4);
  put16(ip + 10, fold(sum_words(ip, 20, 0)));
  uint8_t *tcp = ip + 20;
  put16(tcp, p->port);
  put16(tcp + 2, CONSOLE_PORT);
  put32(tcp + 4, p->seq);
  put32(tcp + 8, p->ack);
  tcp[12] = 5u << 4;
  tcp[13] = flags;
  put16(tcp + 14, p->window);
  if (len) memcpy(tcp + 20, data, len);
  uint8_t pseudo[12];
  memcpy(pseudo, PEER_IP, 4);
  memcpy(pseudo + 4, OUR_IP, 4);
  pseudo[8] = 0;
  pseudo[9] = 6;
  put16(pseudo + 10, (uint16_t)tcp_len);
  put16(tcp + 16, fold(sum_words(tcp, tcp_len, sum_words(pseudo, 12, 0))));
  return 14 + 20 + tcp_len;
}

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

static Peer *peer_for(uint16_t port) {
  for (unsigned i = 0; i < g_peer_count; i++)
    if (g_peers[i]->port == port) return g_peers[i];
  return NULL;
}

static void wire_deliver(const uint8_t *frame, size_t len) {
  assert_int_equal(fake_rx_deliver(&g_f, frame, len, 0), 0);
}

static void peer_ack(Peer *p);

/* What the device sent: ARP questions answered, TCP segments taken in by their peer. */
static void take_frame(const uint8_t *out, size_t len) {
  if (be16(out + 12) == 0x0806) {
    if (be16(out + 14 + 6) == 1 && !memcmp(out + 14 + 24, PEER_IP, 4)) {
      uint8_t reply[64];
      wire_deliver(reply, arp_reply(reply));
    }
    return;
  }
  assert_int_equal(be16(out + 12), 0x0800);
  const uint8_t *ip = out + 14, *tcp = ip + 20;
  assert_int_equal(fold(sum_words(ip, 20, 0)), 0);
  if (ip[9] != 6) return;
  Peer *p = peer_for(be16(tcp + 2));
  if (!p) return;
  size_t ip_len = be16(ip + 2), hdr = (size_t)(tcp[12] >> 4) * 4u;
  assert_true(ip_len <= len - 14);
  size_t data_len = ip_len - 20 - hdr;
  uint8_t flags = tcp[13];
  uint32_t seq = be32(tcp + 4);
  if (flags & TCP_RST) {
    p->got_rst = 1;
    return;
  }
  if (flags & TCP_SYN) {
    p->ack = seq + 1u;
    return;
  }
  if (data_len && seq == p->ack && p->rx_len + data_len <= PEER_RX_BYTES_MAX) {
    memcpy(p->rx + p->rx_len, tcp + hdr, data_len);
    p->rx_len += data_len;
    p->ack += (uint32_t)data_len;
  }
  if ((flags & TCP_FIN) && seq + data_len == p->ack) {
    p->got_fin = 1;
    p->ack++;
  }
  if ((data_len || (flags & TCP_FIN)) && p->acking) peer_ack(p);
}

/* One turn of the wire: lwIP takes what arrived, the device sends what lwIP queued, peers answer. */
static void wire_turn(void) {
  virtio_netif_poll(&g_nif);
  sys_check_timeouts();
  for (unsigned guard = 0; guard < WIRE_TURNS_MAX; guard++) {
    unsigned n = fake_tx_consume(&g_f);
    if (!n) break;
    for (unsigned back = n; back-- > 0;) {
      size_t len = 0;
      const uint8_t *out = fake_tx_frame(&g_f, back, &len);
      assert_non_null(out);
      take_frame(out, len);
    }
    virtio_netif_poll(&g_nif);
  }
  net_sockets_collect();
}

static void peer_send(Peer *p, uint8_t flags, const void *data, size_t len) {
  uint8_t frame[VIRTIO_NET_FRAME_BYTES_MAX];
  wire_deliver(frame, tcp_frame(frame, p, flags, data, len));
  p->seq += (uint32_t)len + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
}

static void peer_ack(Peer *p) {
  uint8_t frame[64];
  wire_deliver(frame, tcp_frame(frame, p, TCP_ACK, NULL, 0));
}

static void peer_init(Peer *p, uint16_t port) {
  memset(p, 0, sizeof *p);
  p->port = port;
  p->seq = 1000u * port;
  p->window = 65535;
  p->acking = 1;
  assert_true(g_peer_count < sizeof g_peers / sizeof g_peers[0]);
  g_peers[g_peer_count++] = p;
}

/* The three-way handshake, then the firmware's accept: the connection's handle. */
static int peer_connect(Peer *p) {
  peer_send(p, TCP_SYN, NULL, 0);
  wire_turn();
  assert_int_not_equal(p->ack, 0); /* our SYN-ACK came */
  peer_send(p, TCP_ACK, NULL, 0);
  wire_turn();
  assert_true(hal_net_ready(g_listener) & HAL_NET_READABLE);
  char peer[64];
  int h = hal_net_accept(g_listener, peer, sizeof peer);
  assert_true(h >= 0);
  char want[64];
  snprintf(want, sizeof want, "10.0.2.2:%u", (unsigned)p->port);
  assert_string_equal(peer, want);
  return h;
}

static int group_setup(void **state) {
  (void)state;
  fake_virtio_init(&g_f, 0, g_mem, &g_dma);
  VirtioMmioDev dev;
  if (virtio_mmio_find(fake_virtio_io(&g_f), VIRTIO_DEVICE_ID_NET, &dev) < 0) return -1;
  if (virtio_net_init(&g_dev, &dev, &g_dma) < 0) return -1;
  lwip_init();
  net_sockets_init();
  VirtioNetifConfig cfg = {{10, 0, 2, 15}, {255, 255, 255, 0}, {10, 0, 2, 2}};
  if (virtio_netif_add(&g_nif, &g_dev, &cfg) < 0) return -1;
  g_listener = hal_net_listen("0.0.0.0", CONSOLE_PORT);
  return g_listener >= 0 ? 0 : -1;
}

static void test_listen_refuses_loopback_and_a_port_in_use(void **state) {
  (void)state;
  assert_int_equal(hal_net_listen("127.0.0.1", 5640), HAL_E_INVAL); /* no loopback interface: unreachable */
  assert_int_equal(hal_net_listen("not-an-address", 5640), HAL_E_INVAL);
  assert_int_equal(hal_net_listen("0.0.0.0", CONSOLE_PORT), HAL_E_ADDRINUSE);
  assert_int_equal(hal_net_local_port(g_listener), CONSOLE_PORT);
  int any = hal_net_listen("10.0.2.15", 0); /* our own address, a port lwIP picks */
  assert_true(any >= 0);
  assert_true(hal_net_local_port(any) > 0);
  hal_net_close(any);
  assert_int_equal(hal_net_accept(g_listener, NULL, 0), HAL_E_AGAIN);
}

static void test_accepted_connection_echoes_a_console_line(void **state) {
  (void)state;
  static Peer p;
  peer_init(&p, 40001);
  int h = peer_connect(&p);
  assert_int_equal(hal_net_recv(h, (uint8_t[8]){0}, 8), HAL_E_AGAIN);
  peer_send(&p, TCP_PSH | TCP_ACK, "ping\n", 5);
  wire_turn();
  assert_int_equal(hal_net_ready(h), HAL_NET_READABLE);
  uint8_t buf[64];
  /* A short read leaves the rest readable (level, as on the host). */
  assert_int_equal(hal_net_recv(h, buf, 2), 2);
  net_sockets_collect();
  assert_int_equal(hal_net_ready(h), HAL_NET_READABLE);
  assert_int_equal(hal_net_recv(h, buf + 2, sizeof buf - 2), 3);
  assert_memory_equal(buf, "ping\n", 5);
  net_sockets_collect();
  assert_int_equal(hal_net_ready(h), 0);
  assert_int_equal(hal_net_send(h, (const uint8_t *)"OK PING reply=pong\n", 19), 19);
  wire_turn();
  assert_int_equal(p.rx_len, 19);
  assert_memory_equal(p.rx, "OK PING reply=pong\n", 19);
  /* The peer closes: end of stream, reported readable until the owner closes too. */
  peer_send(&p, TCP_FIN | TCP_ACK, NULL, 0);
  wire_turn();
  assert_true(hal_net_ready(h) & HAL_NET_READABLE);
  assert_int_equal(hal_net_recv(h, buf, sizeof buf), 0);
  hal_net_close(h);
  wire_turn();
  assert_true(p.got_fin);
  assert_int_equal(net_sockets_in_use(), 1); /* the listener only */
}

static void test_full_send_buffer_is_back_pressure_never_loss(void **state) {
  (void)state;
  static Peer p;
  peer_init(&p, 40002);
  int h = peer_connect(&p);
  p.acking = 0; /* a reader that stopped reading: nothing we send is acknowledged */
  static uint8_t pattern[4 * TCP_SND_BUF];
  for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (uint8_t)(i % 251u);
  size_t taken = 0;
  long n = 0;
  for (unsigned turns = 0; turns < WIRE_TURNS_MAX; turns++) {
    n = hal_net_send(h, pattern + taken, sizeof pattern - taken);
    if (n == HAL_E_AGAIN) break;
    assert_true(n > 0);
    taken += (size_t)n;
    wire_turn();
  }
  assert_int_equal(n, HAL_E_AGAIN);
  assert_int_equal(taken, TCP_SND_BUF); /* exactly one send buffer, then the refusal */
  hal_net_want_write(h, 1);
  wire_turn();
  assert_int_equal(hal_net_ready(h) & HAL_NET_WRITABLE, 0);
  assert_true(net_sockets_stats().send_busy >= 1);
  /* The reader catches up: the buffer drains, the handle is writable again, the rest goes out. */
  p.acking = 1;
  for (unsigned turns = 0; turns < WIRE_TURNS_MAX && taken < sizeof pattern; turns++) {
    peer_ack(&p);
    wire_turn();
    if (!(hal_net_ready(h) & HAL_NET_WRITABLE)) {
      g_now_us += 250000u; /* lwIP's retransmit timer, for segments the full transmit ring refused */
      continue;
    }
    n = hal_net_send(h, pattern + taken, sizeof pattern - taken);
    if (n > 0) taken += (size_t)n;
  }
  assert_int_equal(taken, sizeof pattern);
  for (unsigned turns = 0; turns < WIRE_TURNS_MAX && p.rx_len < sizeof pattern; turns++) {
    g_now_us += 250000u;
    peer_ack(&p);
    wire_turn();
  }
  assert_int_equal(p.rx_len, sizeof pattern);
  assert_memory_equal(p.rx, pattern, sizeof pattern); /* every byte, in order */
  hal_net_want_write(h, 0);
  hal_net_close(h);
  wire_turn();
}

static void test_paused_reads_are_not_reported_and_the_window_holds_the_rest(void **state) {
  (void)state;
  static Peer p;
  peer_init(&p, 40003);
  int h = peer_connect(&p);
  hal_net_want_read(h, 0);
  peer_send(&p, TCP_PSH | TCP_ACK, "attach queen\n", 13);
  wire_turn();
  assert_int_equal(hal_net_ready(h), 0);
  hal_net_want_read(h, 1);
  net_sockets_collect();
  assert_int_equal(hal_net_ready(h), HAL_NET_READABLE);
  uint8_t buf[32];
  assert_int_equal(hal_net_recv(h, buf, sizeof buf), 13);
  /* Closing with bytes unread resets the peer, as close() does on the host. */
  peer_send(&p, TCP_PSH | TCP_ACK, "unread", 6);
  wire_turn();
  hal_net_close(h);
  wire_turn();
  assert_true(p.got_rst);
}

static void test_peer_reset_fails_the_handle(void **state) {
  (void)state;
  static Peer p;
  peer_init(&p, 40004);
  int h = peer_connect(&p);
  peer_send(&p, TCP_PSH | TCP_ACK, "half a fra", 10);
  peer_send(&p, TCP_RST | TCP_ACK, NULL, 0);
  wire_turn();
  assert_int_equal(hal_net_ready(h), HAL_NET_READABLE | HAL_NET_FAILED);
  hal_net_want_read(h, 0); /* a failure is reported even while reads are paused */
  net_sockets_collect();
  assert_int_equal(hal_net_ready(h), HAL_NET_READABLE | HAL_NET_FAILED);
  uint8_t buf[16];
  assert_int_equal(hal_net_recv(h, buf, sizeof buf), HAL_E_IO);
  assert_int_equal(hal_net_send(h, buf, 1), HAL_E_IO);
  assert_true(net_sockets_stats().resets >= 1);
  hal_net_close(h);
  assert_int_equal(net_sockets_in_use(), 1);
  assert_int_equal(hal_net_ready(h), 0);
}

static void test_closed_handle_is_refused_and_closing_twice_is_harmless(void **state) {
  (void)state;
  static Peer p;
  peer_init(&p, 40005);
  int h = peer_connect(&p);
  hal_net_close(h);
  wire_turn();
  assert_true(p.got_fin);
  assert_int_equal(net_sockets_in_use(), 1);
  assert_int_equal(hal_net_recv(h, (uint8_t[4]){0}, 4), HAL_E_INVAL);
  assert_int_equal(hal_net_send(h, (const uint8_t *)"x", 1), HAL_E_INVAL);
  hal_net_close(h);
  assert_int_equal(net_sockets_in_use(), 1);
}

/* Paused readers holding more segments than the receive pool has frames: the device keeps its
   buffers (nothing dropped for want of a pbuf) and every byte is there when reading resumes. */
#define PAUSED_READERS 4u
#define SEGMENTS_EACH 20u /* 4 x 20 = 80 segments held, over COHESIX_LWIP_RX_POOL_FRAMES (64) */
static void test_paused_readers_do_not_starve_the_receive_pool(void **state) {
  (void)state;
  _Static_assert(PAUSED_READERS * SEGMENTS_EACH > COHESIX_LWIP_RX_POOL_FRAMES, "the test must outnumber the pool");
  static Peer peers[PAUSED_READERS];
  int h[PAUSED_READERS];
  for (unsigned i = 0; i < PAUSED_READERS; i++) {
    peer_init(&peers[i], (uint16_t)(40100 + i));
    h[i] = peer_connect(&peers[i]);
    hal_net_want_read(h[i], 0);
  }
  for (unsigned k = 0; k < SEGMENTS_EACH; k++)
    for (unsigned i = 0; i < PAUSED_READERS; i++) {
      peer_send(&peers[i], TCP_PSH | TCP_ACK, "0123456789", 10);
      wire_turn();
    }
  assert_int_equal(g_nif.stats.rx_no_pbuf, 0);
  for (unsigned i = 0; i < PAUSED_READERS; i++) {
    hal_net_want_read(h[i], 1);
    uint8_t buf[SEGMENTS_EACH * 10u + 1u];
    assert_int_equal(hal_net_recv(h[i], buf, sizeof buf), SEGMENTS_EACH * 10u);
    hal_net_close(h[i]);
  }
  wire_turn();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_listen_refuses_loopback_and_a_port_in_use),
      cmocka_unit_test(test_accepted_connection_echoes_a_console_line),
      cmocka_unit_test(test_full_send_buffer_is_back_pressure_never_loss),
      cmocka_unit_test(test_paused_reads_are_not_reported_and_the_window_holds_the_rest),
      cmocka_unit_test(test_peer_reset_fails_the_handle),
      cmocka_unit_test(test_closed_handle_is_refused_and_closing_twice_is_harmless),
      cmocka_unit_test(test_paused_readers_do_not_starve_the_receive_pool),
  };
  return cmocka_run_group_tests(tests, group_setup, NULL);
}
