/* virtio-net driver tests against the fake virtio-mmio device: probing QEMU virt's slots, bring-up
 * and negotiation, each refusal of a bad device, transmit, receive refill, wraparound, back-pressure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_virtio.h"
#include "virtio_net.h"

#define NET_SLOT 3u

static _Alignas(4096) uint8_t g_mem[VIRTIO_NET_DMA_PAGES * VIRTIO_NET_PAGE_BYTES];
static FakeVirtio g_f;
static VirtioNetDma g_dma;
static VirtioNet g_n;

static int setup(void **state) {
  (void)state;
  fake_virtio_init(&g_f, NET_SLOT, g_mem, &g_dma);
  return 0;
}

static int bring_up(void) {
  VirtioMmioDev dev;
  int rc = virtio_mmio_find(fake_virtio_io(&g_f), VIRTIO_DEVICE_ID_NET, &dev);
  if (rc < 0) return rc;
  return virtio_net_init(&g_n, &dev, &g_dma);
}

static int setup_up(void **state) {
  setup(state);
  return bring_up();
}

/* Received frames, as the sink saw them. */
static uint8_t g_rx_seen[8][VIRTIO_NET_FRAME_BYTES_MAX];
static size_t g_rx_len[8];
static unsigned g_rx_count;

static void sink(void *ctx, const uint8_t *frame, size_t len) {
  (void)ctx;
  unsigned k = g_rx_count++ % 8u;
  memcpy(g_rx_seen[k], frame, len);
  g_rx_len[k] = len;
}

static void make_frame(uint8_t *frame, size_t len, uint32_t seed) {
  for (size_t i = 0; i < len; i++) frame[i] = (uint8_t)(seed * 31u + i);
}

static void test_virtio_net_found_in_slot_with_device_id_1_and_its_spi(void **state) {
  (void)state;
  g_f.device_id[1] = 2; /* a block device before it: not ours */
  VirtioMmioDev dev;
  assert_int_equal(virtio_mmio_find(fake_virtio_io(&g_f), VIRTIO_DEVICE_ID_NET, &dev), 0);
  assert_int_equal(dev.slot, NET_SLOT);
  assert_int_equal(dev.base, NET_SLOT * 0x200u);
  assert_int_equal(virtio_mmio_irq(&dev), 32u + 16u + NET_SLOT);
  assert_int_equal(VIRTIO_MMIO_WINDOW_PADDR + dev.base, 0x0a000600ull);
}

static void test_virtio_net_bring_up_negotiates_and_posts_every_rx_buffer(void **state) {
  (void)state;
  assert_int_equal(bring_up(), 0);
  assert_false(g_f.bad_paddr);
  /* The status dance in order: reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK. */
  assert_int_equal(g_f.status_log[0], 0);
  assert_int_equal(g_f.status_log[1], VIRTIO_STATUS_ACKNOWLEDGE);
  assert_int_equal(g_f.status_log[2], VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
  assert_int_equal(g_f.status_log[3], VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  assert_int_equal(g_f.status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                                   VIRTIO_STATUS_DRIVER_OK);
  /* We take what we need, not everything offered (STATUS was offered). */
  assert_int_equal(g_f.driver_features, VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC);
  assert_memory_equal(g_n.mac, "\x52\x54\x00\x12\x34\x56", 6);
  for (unsigned q = 0; q < 2; q++) {
    assert_int_equal(g_f.q[q].num, VIRTIO_NET_QUEUE_SIZE);
    assert_int_equal(g_f.q[q].ready, 1);
    /* Physical addresses, not virtual offsets: ring page 3q is the fake's scrambled page 3q. */
    assert_int_equal(g_f.q[q].desc, g_f.page_paddr[3 * q]);
    assert_int_equal(g_f.q[q].avail, g_f.page_paddr[3 * q + 1]);
    assert_int_equal(g_f.q[q].used, g_f.page_paddr[3 * q + 2]);
  }
  VirtqAvail *rx_avail = (VirtqAvail *)(g_mem + VIRTIO_NET_PAGE_BYTES);
  assert_int_equal(rx_avail->idx, VIRTIO_NET_RX_BUFS);
  assert_int_equal(g_f.notifies[VIRTIO_NET_QUEUE_RX], 1);
}

static void test_virtio_net_refuses_wrong_magic(void **state) {
  (void)state;
  for (unsigned n = 0; n < VIRTIO_MMIO_SLOTS; n++) g_f.magic[n] = 0x12345678u;
  assert_int_equal(bring_up(), VIRTIO_E_NOT_FOUND);
  VirtioMmioDev dev = {fake_virtio_io(&g_f), NET_SLOT * VIRTIO_MMIO_SLOT_BYTES, NET_SLOT};
  assert_int_equal(virtio_mmio_check(&dev, VIRTIO_DEVICE_ID_NET), VIRTIO_E_NO_DEVICE);
  assert_string_equal(virtio_net_error_name(VIRTIO_E_NO_DEVICE), "no-device");
}

static void test_virtio_net_refuses_a_board_without_a_net_device(void **state) {
  (void)state;
  g_f.device_id[NET_SLOT] = 2; /* virtio-blk */
  assert_int_equal(bring_up(), VIRTIO_E_NOT_FOUND);
  VirtioMmioDev dev = {fake_virtio_io(&g_f), NET_SLOT * VIRTIO_MMIO_SLOT_BYTES, NET_SLOT};
  assert_int_equal(virtio_net_init(&g_n, &dev, &g_dma), VIRTIO_E_WRONG_DEVICE);
}

static void test_virtio_net_refuses_legacy_transport_by_name(void **state) {
  (void)state;
  g_f.version[NET_SLOT] = VIRTIO_MMIO_VERSION_LEGACY; /* QEMU's default without force-legacy=false */
  assert_int_equal(bring_up(), VIRTIO_E_LEGACY);
  assert_string_equal(virtio_net_error_name(VIRTIO_E_LEGACY), "legacy-transport");
  g_f.version[NET_SLOT] = 3;
  assert_int_equal(bring_up(), VIRTIO_E_VERSION);
  assert_int_equal(g_f.status_writes, 0); /* refused before a register was written */
}

static void test_virtio_net_refuses_device_without_version_1(void **state) {
  (void)state;
  g_f.device_features = VIRTIO_NET_F_MAC;
  assert_int_equal(bring_up(), VIRTIO_E_FEATURES);
  assert_true(g_f.status & VIRTIO_STATUS_FAILED);
  assert_false(g_f.status & VIRTIO_STATUS_DRIVER_OK);
}

static void test_virtio_net_refuses_device_without_mac(void **state) {
  (void)state;
  g_f.device_features = VIRTIO_F_VERSION_1;
  assert_int_equal(bring_up(), VIRTIO_E_FEATURES);
  assert_true(g_f.status & VIRTIO_STATUS_FAILED);
}

static void test_virtio_net_device_clearing_features_ok_is_refused(void **state) {
  (void)state;
  g_f.refuse_features_ok = 1;
  assert_int_equal(bring_up(), VIRTIO_E_FEATURES);
  assert_true(g_f.status & VIRTIO_STATUS_FAILED);
  assert_int_equal(g_f.q[0].ready, 0);
}

static void test_virtio_net_queue_smaller_than_needed_is_refused(void **state) {
  (void)state;
  g_f.queue_num_max = VIRTIO_NET_QUEUE_SIZE / 2u;
  assert_int_equal(bring_up(), VIRTIO_E_QUEUE);
  assert_true(g_f.status & VIRTIO_STATUS_FAILED);
  g_f.queue_num_max = 0; /* queue absent */
  assert_int_equal(bring_up(), VIRTIO_E_QUEUE);
}

static void test_virtio_net_tx_frames_reach_the_device_in_order(void **state) {
  (void)state;
  uint8_t frame[3][200];
  for (unsigned i = 0; i < 3; i++) {
    make_frame(frame[i], 60u + 70u * i, i);
    assert_int_equal(virtio_net_tx(&g_n, frame[i], 60u + 70u * i), 0);
  }
  assert_int_equal(g_f.notifies[VIRTIO_NET_QUEUE_TX], 3);
  assert_int_equal(fake_tx_consume(&g_f), 3);
  assert_false(g_f.bad_paddr);
  for (unsigned i = 0; i < 3; i++) {
    size_t len = 0;
    const uint8_t *got = fake_tx_frame(&g_f, 2 - i, &len);
    assert_int_equal(len, 60u + 70u * i);
    assert_memory_equal(got, frame[i], len);
  }
  assert_int_equal(virtio_net_irq_ack(&g_n), VIRTIO_INT_USED_BUFFER);
  assert_int_equal(g_f.int_status, 0);
  assert_int_equal(virtio_net_tx_reclaim(&g_n), 3);
  assert_int_equal(g_n.tx_free_count, VIRTIO_NET_TX_BUFS);
  assert_int_equal(g_n.stats.tx_frames, 3);
}

static void test_virtio_net_full_tx_ring_is_busy_until_the_device_returns_buffers(void **state) {
  (void)state;
  uint8_t frame[64];
  make_frame(frame, sizeof frame, 9);
  for (unsigned i = 0; i < VIRTIO_NET_TX_BUFS; i++) assert_int_equal(virtio_net_tx(&g_n, frame, sizeof frame), 0);
  assert_int_equal(virtio_net_tx(&g_n, frame, sizeof frame), VIRTIO_NET_E_BUSY);
  assert_int_equal(virtio_net_tx(&g_n, frame, sizeof frame), VIRTIO_NET_E_BUSY);
  assert_int_equal(g_n.stats.tx_busy, 2);
  assert_string_equal(virtio_net_error_name(VIRTIO_NET_E_BUSY), "busy");
  assert_int_equal(g_f.tx_count, 0); /* nothing lost, nothing sent twice: the device has not run yet */
  assert_int_equal(fake_tx_consume(&g_f), VIRTIO_NET_TX_BUFS);
  assert_int_equal(virtio_net_tx(&g_n, frame, sizeof frame), 0); /* claim reclaims what came back */
  assert_int_equal(fake_tx_consume(&g_f), 1);
  assert_int_equal(g_f.tx_count, VIRTIO_NET_TX_BUFS + 1u);
}

static void test_virtio_net_tx_too_big_and_unclaimed_slots_are_refused(void **state) {
  (void)state;
  uint8_t big[VIRTIO_NET_FRAME_BYTES_MAX + 1];
  memset(big, 0, sizeof big);
  assert_int_equal(virtio_net_tx(&g_n, big, sizeof big), VIRTIO_NET_E_TOO_BIG);
  assert_int_equal(virtio_net_tx(&g_n, big, VIRTIO_NET_FRAME_BYTES_MAX), 0);
  uint8_t *dst = NULL;
  int slot = virtio_net_tx_claim(&g_n, &dst);
  assert_true(slot >= 0);
  assert_int_equal(virtio_net_tx_commit(&g_n, slot, VIRTIO_NET_FRAME_BYTES_MAX + 1u), VIRTIO_NET_E_TOO_BIG);
  assert_int_equal(virtio_net_tx_commit(&g_n, slot, 60), VIRTIO_NET_E_SLOT); /* freed by the refusal */
  assert_int_equal(g_n.tx_free_count, VIRTIO_NET_TX_BUFS - 1u);
}

static void test_virtio_net_rx_delivers_frames_and_reposts_buffers(void **state) {
  (void)state;
  uint8_t frame[2][100];
  make_frame(frame[0], 60, 1);
  make_frame(frame[1], 100, 2);
  assert_int_equal(fake_rx_deliver(&g_f, frame[0], 60, 0), 0);
  assert_int_equal(fake_rx_deliver(&g_f, frame[1], 100, 0), 0);
  assert_int_equal(virtio_net_irq_ack(&g_n), VIRTIO_INT_USED_BUFFER);
  g_rx_count = 0;
  assert_int_equal(virtio_net_rx_poll(&g_n, sink, NULL, VIRTIO_NET_RX_POLL_FRAMES_MAX), 2);
  assert_int_equal(g_rx_len[0], 60);
  assert_memory_equal(g_rx_seen[0], frame[0], 60);
  assert_int_equal(g_rx_len[1], 100);
  assert_memory_equal(g_rx_seen[1], frame[1], 100);
  VirtqAvail *rx_avail = (VirtqAvail *)(g_mem + VIRTIO_NET_PAGE_BYTES);
  assert_int_equal(rx_avail->idx, VIRTIO_NET_RX_BUFS + 2u); /* both buffers back with the device */
  assert_int_equal(g_f.notifies[VIRTIO_NET_QUEUE_RX], 2);
}

static void test_virtio_net_rx_poll_is_bounded_and_a_flood_only_drops_at_the_device(void **state) {
  (void)state;
  uint8_t frame[60];
  make_frame(frame, sizeof frame, 3);
  unsigned accepted = 0;
  for (unsigned i = 0; i < VIRTIO_NET_RX_BUFS + 10u; i++) accepted += fake_rx_deliver(&g_f, frame, sizeof frame, 0) == 0;
  assert_int_equal(accepted, VIRTIO_NET_RX_BUFS); /* the rest dropped by the device, as on a real wire */
  g_rx_count = 0;
  assert_int_equal(virtio_net_rx_poll(&g_n, sink, NULL, 5), 5);
  assert_int_equal(virtio_net_rx_poll(&g_n, sink, NULL, VIRTIO_NET_RX_POLL_FRAMES_MAX), VIRTIO_NET_RX_BUFS - 5u);
  assert_int_equal(fake_rx_deliver(&g_f, frame, sizeof frame, 0), 0);
}

static void test_virtio_net_rx_lengths_no_frame_can_have_are_dropped_and_recycled(void **state) {
  (void)state;
  uint8_t frame[60];
  make_frame(frame, sizeof frame, 4);
  assert_int_equal(fake_rx_deliver(&g_f, frame, sizeof frame, VIRTIO_NET_HDR_BYTES), 0);      /* header only */
  assert_int_equal(fake_rx_deliver(&g_f, frame, sizeof frame, VIRTIO_NET_BUF_BYTES + 500u), 0); /* past the buffer */
  assert_int_equal(fake_rx_deliver(&g_f, frame, sizeof frame, 0), 0);
  g_rx_count = 0;
  assert_int_equal(virtio_net_rx_poll(&g_n, sink, NULL, VIRTIO_NET_RX_POLL_FRAMES_MAX), 1);
  assert_int_equal(g_n.stats.rx_dropped, 2);
  VirtqAvail *rx_avail = (VirtqAvail *)(g_mem + VIRTIO_NET_PAGE_BYTES);
  assert_int_equal(rx_avail->idx, VIRTIO_NET_RX_BUFS + 3u);
}

static void test_virtio_net_rings_wrap_over_many_cycles(void **state) {
  (void)state;
  uint8_t frame[VIRTIO_NET_FRAME_BYTES_MAX];
  /* Enough frames that every 16-bit ring index wraps (65536) with batches of uneven size. */
  uint32_t sent = 0;
  g_rx_count = 0;
  for (uint32_t round = 0; sent < 70000u; round++) {
    unsigned batch = 1u + round % 7u;
    for (unsigned i = 0; i < batch; i++, sent++) {
      size_t len = 60u + (sent * 13u) % (VIRTIO_NET_FRAME_BYTES_MAX - 60u);
      make_frame(frame, len, sent);
      assert_int_equal(virtio_net_tx(&g_n, frame, len), 0);
      assert_int_equal(fake_rx_deliver(&g_f, frame, len, 0), 0);
    }
    assert_int_equal(fake_tx_consume(&g_f), batch);
    size_t len = 0;
    const uint8_t *last = fake_tx_frame(&g_f, 0, &len);
    make_frame(frame, len, sent - 1u);
    assert_memory_equal(last, frame, len);
    assert_int_equal(virtio_net_rx_poll(&g_n, sink, NULL, VIRTIO_NET_RX_POLL_FRAMES_MAX), batch);
    assert_memory_equal(g_rx_seen[(g_rx_count - 1u) % 8u], frame, len);
    virtio_net_irq_ack(&g_n);
  }
  assert_false(g_f.bad_paddr);
  assert_int_equal(g_n.stats.device_errors, 0);
  assert_int_equal(g_n.stats.rx_frames, sent);
  assert_int_equal(g_f.tx_count, sent);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_virtio_net_found_in_slot_with_device_id_1_and_its_spi, setup),
      cmocka_unit_test_setup(test_virtio_net_bring_up_negotiates_and_posts_every_rx_buffer, setup),
      cmocka_unit_test_setup(test_virtio_net_refuses_wrong_magic, setup),
      cmocka_unit_test_setup(test_virtio_net_refuses_a_board_without_a_net_device, setup),
      cmocka_unit_test_setup(test_virtio_net_refuses_legacy_transport_by_name, setup),
      cmocka_unit_test_setup(test_virtio_net_refuses_device_without_version_1, setup),
      cmocka_unit_test_setup(test_virtio_net_refuses_device_without_mac, setup),
      cmocka_unit_test_setup(test_virtio_net_device_clearing_features_ok_is_refused, setup),
      cmocka_unit_test_setup(test_virtio_net_queue_smaller_than_needed_is_refused, setup),
      cmocka_unit_test_setup(test_virtio_net_tx_frames_reach_the_device_in_order, setup_up),
      cmocka_unit_test_setup(test_virtio_net_full_tx_ring_is_busy_until_the_device_returns_buffers, setup_up),
      cmocka_unit_test_setup(test_virtio_net_tx_too_big_and_unclaimed_slots_are_refused, setup_up),
      cmocka_unit_test_setup(test_virtio_net_rx_delivers_frames_and_reposts_buffers, setup_up),
      cmocka_unit_test_setup(test_virtio_net_rx_poll_is_bounded_and_a_flood_only_drops_at_the_device, setup_up),
      cmocka_unit_test_setup(test_virtio_net_rx_lengths_no_frame_can_have_are_dropped_and_recycled, setup_up),
      cmocka_unit_test_setup(test_virtio_net_rings_wrap_over_many_cycles, setup_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
