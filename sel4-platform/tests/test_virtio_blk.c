/* virtio-blk driver tests against the fake device: bring-up and capacity, sector I/O through the shared split ring, the bounded request queue, each refusal, device errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_virtio_blk.h"
#include "virtio_blk.h"

#define BLK_SLOT 2u
#define DISK_SECTORS 64u

static _Alignas(4096) uint8_t g_mem[VIRTIO_NET_DMA_PAGES * VIRTIO_NET_PAGE_BYTES];
static uint8_t g_disk[DISK_SECTORS * VIRTIO_BLK_SECTOR_BYTES];
static FakeVirtio g_f;
static VirtioBlkDma g_dma;
static VirtioBlk g_b;

static int setup_up(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof g_disk; i++) g_disk[i] = (uint8_t)(i / VIRTIO_BLK_SECTOR_BYTES);
  fake_blk_init(&g_f, BLK_SLOT, g_mem, &g_dma, g_disk, DISK_SECTORS);
  VirtioMmioDev dev;
  int rc = virtio_mmio_find(fake_virtio_io(&g_f), VIRTIO_DEVICE_ID_BLOCK, &dev);
  if (rc < 0) return rc;
  return virtio_blk_init(&g_b, &dev, &g_dma);
}

/* The device answers, then the driver takes the answer: what the interrupt path does on seL4. */
static int run(uint32_t type, uint64_t sector, uint8_t *buf, uint32_t bytes) {
  int id = virtio_blk_submit(&g_b, type, sector, buf, bytes);
  if (id < 0) return id;
  fake_blk_serve(&g_f, VIRTIO_BLK_REQS_MAX);
  virtio_blk_poll(&g_b);
  return virtio_blk_collect(&g_b, id, type == VIRTIO_BLK_T_IN ? buf : NULL);
}

static void found_with_capacity_and_flush_negotiated(void **state) {
  (void)state;
  assert_int_equal(g_b.dev.slot, BLK_SLOT);
  assert_int_equal(g_b.capacity_sectors, DISK_SECTORS);
  assert_true(g_b.features & VIRTIO_F_VERSION_1);
  assert_true(g_b.features & VIRTIO_BLK_F_FLUSH);
  assert_true(g_f.status & VIRTIO_STATUS_DRIVER_OK);
  assert_int_equal(g_f.q[0].num, VIRTIO_BLK_QUEUE_SIZE);
}

static void write_then_read_through_the_ring(void **state) {
  (void)state;
  uint8_t out[VIRTIO_BLK_REQ_BYTES_MAX], in[VIRTIO_BLK_REQ_BYTES_MAX];
  for (unsigned i = 0; i < sizeof out; i++) out[i] = (uint8_t)(i * 5 + 1);
  assert_int_equal(run(VIRTIO_BLK_T_OUT, 10, out, sizeof out), 0);
  assert_memory_equal(g_disk + 10 * VIRTIO_BLK_SECTOR_BYTES, out, sizeof out);
  assert_int_equal(run(VIRTIO_BLK_T_IN, 10, in, sizeof in), 0);
  assert_memory_equal(in, out, sizeof in);
  uint8_t one[VIRTIO_BLK_SECTOR_BYTES];
  assert_int_equal(run(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, one, sizeof one), 0);
  assert_int_equal(one[0], DISK_SECTORS - 1);
  assert_int_equal(run(VIRTIO_BLK_T_FLUSH, 0, NULL, 0), 0);
  assert_false(g_f.bad_paddr);
  /* Many more requests than descriptors: the ring's indices wrap and every slot is reused. */
  for (unsigned k = 0; k < 5u * VIRTIO_BLK_QUEUE_SIZE; k++) assert_int_equal(run(VIRTIO_BLK_T_IN, k % DISK_SECTORS, one, sizeof one), 0);
  assert_int_equal(g_b.stats.device_errors, 0);
}

static void the_request_queue_is_bounded(void **state) {
  (void)state;
  uint8_t buf[VIRTIO_BLK_SECTOR_BYTES];
  int ids[VIRTIO_BLK_REQS_MAX];
  for (unsigned i = 0; i < VIRTIO_BLK_REQS_MAX; i++) {
    ids[i] = virtio_blk_submit(&g_b, VIRTIO_BLK_T_IN, i, NULL, sizeof buf);
    assert_true(ids[i] >= 0);
  }
  assert_int_equal(virtio_blk_submit(&g_b, VIRTIO_BLK_T_IN, 0, NULL, sizeof buf), VIRTIO_BLK_E_BUSY);
  assert_int_equal(g_b.stats.busy, 1);
  assert_int_equal(virtio_blk_collect(&g_b, ids[0], buf), VIRTIO_BLK_E_SLOT); /* not answered yet */
  assert_int_equal(fake_blk_serve(&g_f, 100), VIRTIO_BLK_REQS_MAX);
  assert_int_equal(virtio_blk_poll(&g_b), VIRTIO_BLK_REQS_MAX);
  for (unsigned i = 0; i < VIRTIO_BLK_REQS_MAX; i++) {
    assert_int_equal(virtio_blk_collect(&g_b, ids[i], buf), 0);
    assert_int_equal(buf[0], i);
  }
  assert_true(virtio_blk_submit(&g_b, VIRTIO_BLK_T_IN, 0, NULL, sizeof buf) >= 0);
}

static void refusals_by_name(void **state) {
  (void)state;
  uint8_t buf[2 * VIRTIO_BLK_REQ_BYTES_MAX] = {0};
  assert_int_equal(virtio_blk_submit(&g_b, VIRTIO_BLK_T_IN, 0, NULL, 0), VIRTIO_BLK_E_RANGE);
  assert_int_equal(virtio_blk_submit(&g_b, VIRTIO_BLK_T_IN, 0, NULL, 100), VIRTIO_BLK_E_RANGE);
  assert_int_equal(virtio_blk_submit(&g_b, VIRTIO_BLK_T_IN, 0, NULL, sizeof buf), VIRTIO_BLK_E_RANGE);
  assert_int_equal(virtio_blk_submit(&g_b, VIRTIO_BLK_T_IN, DISK_SECTORS, NULL, 512), VIRTIO_BLK_E_RANGE);
  assert_int_equal(virtio_blk_submit(&g_b, VIRTIO_BLK_T_OUT, 0, NULL, 512), VIRTIO_BLK_E_RANGE);
  assert_int_equal(virtio_blk_submit(&g_b, 7, 0, buf, 512), VIRTIO_BLK_E_RANGE);
  assert_int_equal(virtio_blk_collect(&g_b, 99, buf), VIRTIO_BLK_E_SLOT);
  assert_string_equal(virtio_blk_error_name(VIRTIO_BLK_E_BUSY), "busy");
  /* A device that answers IOERR: the request fails with its slot freed. */
  g_f.blk_fail_io = 1;
  assert_int_equal(run(VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_E_IO);
  assert_int_equal(g_b.stats.errors, 1);
  g_f.blk_fail_io = 0;
  assert_int_equal(run(VIRTIO_BLK_T_IN, 0, buf, 512), 0);
  /* A synchronous request nobody answers is called lost, not waited on forever. */
  assert_int_equal(virtio_blk_sync(&g_b, VIRTIO_BLK_T_IN, 0, buf, 512), VIRTIO_BLK_E_LOST);
}

static void a_net_device_is_not_a_disk(void **state) {
  (void)state;
  VirtioNetDma net;
  fake_virtio_init(&g_f, BLK_SLOT, g_mem, &net);
  VirtioMmioDev dev = {fake_virtio_io(&g_f), BLK_SLOT * VIRTIO_MMIO_SLOT_BYTES, BLK_SLOT};
  assert_int_equal(virtio_blk_init(&g_b, &dev, &g_dma), VIRTIO_E_WRONG_DEVICE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(found_with_capacity_and_flush_negotiated, setup_up),
      cmocka_unit_test_setup(write_then_read_through_the_ring, setup_up),
      cmocka_unit_test_setup(the_request_queue_is_bounded, setup_up),
      cmocka_unit_test_setup(refusals_by_name, setup_up),
      cmocka_unit_test_setup(a_net_device_is_not_a_disk, setup_up),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
