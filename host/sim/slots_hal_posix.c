/* The slot HAL of the host firmware (bindings/hal.h): updates staged beside a slot folder's image or written into a slot disk, and the restart by re-exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "error_text.h"
#include "hal.h"
#include "slots_posix.h"

/* Every refusal here reads "slots: <detail>". */
#define fail(err, err_len, ...) error_text((err), (err_len), "slots: ", __VA_ARGS__)

static void path_of(const SlotsPosix *p, const char *name, char *out, size_t cap) { snprintf(out, cap, "%s/%s", p->dir, name); }

/* ---- the slot HAL (bindings/hal.h): over-the-air updates staged as `.<slot>.img.part` in the folder ---- */

static struct {
  SlotsPosix *p;
  const SlotStore *store;
  SlotId booted;
  int fd; /* the staged file, or -1 */
  SlotId slot;
  uint32_t bytes;
  int restart;
  int disk_staged; /* --slot-disk: an update is being written into the slot itself */
} g_ota = {.fd = -1};
static SlotsDiskPosix *g_disk;

void slots_posix_serve(SlotsPosix *p, const SlotStore *store, SlotId booted) {
  g_ota.p = p;
  g_ota.store = store;
  g_ota.booted = booted;
}

int sim_restart_requested(void) { return g_ota.restart; }

SlotId hal_slots_booted(void) { return g_ota.p || g_disk ? g_ota.booted : SLOT_NONE; }
const SlotStore *hal_slots_store(void) { return g_ota.p || g_disk ? g_ota.store : NULL; }

static void stage_path(SlotId s, char *out, size_t cap) {
  char name[sizeof ".A.img.part"];
  snprintf(name, sizeof name, ".%c.img.part", slot_name(s));
  path_of(g_ota.p, name, out, cap);
}

void hal_slot_stage_drop(void) {
  /* On a disk the slot was recorded empty when staging began; it stays empty. */
  g_ota.disk_staged = 0;
  if (g_ota.fd < 0) return;
  close(g_ota.fd);
  g_ota.fd = -1;
  char path[SLOTS_DIR_BYTES_MAX + 16];
  stage_path(g_ota.slot, path, sizeof path);
  unlink(path);
}

int hal_slot_stage_open(SlotId slot, uint32_t bytes, char *err, size_t err_len) {
  if (!g_ota.p && !g_disk) return fail(err, err_len, "the firmware did not boot from slots");
  if (slot == g_ota.booted) return fail(err, err_len, "slot %c is running: it cannot be staged into", slot_name(slot));
  hal_slot_stage_drop();
  if (g_disk) {
    /* The disk has no room for a third copy: the bytes go into the slot itself, recorded empty first,
       so no record ever names half an image. The running slot and the record's last good are untouched. */
    if ((uint64_t)bytes > g_disk->disk.slot_sectors * SLOT_DISK_SECTOR_BYTES)
      return fail(err, err_len, "%u bytes do not fit slot %c", (unsigned)bytes, slot_name(slot));
    if (g_disk->disk.image_bytes[slot] && slot_disk_set_image_bytes(&g_disk->disk, slot, 0, err, err_len) < 0) return -1;
    g_ota.slot = slot;
    g_ota.bytes = bytes;
    g_ota.disk_staged = 1;
    return 0;
  }
  char path[SLOTS_DIR_BYTES_MAX + 16];
  stage_path(slot, path, sizeof path);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(err, err_len, "cannot create %s: %s", path, strerror(errno));
  g_ota.fd = fd;
  g_ota.slot = slot;
  g_ota.bytes = bytes;
  return 0;
}

int hal_slot_stage_write(uint32_t offset, const uint8_t *data, size_t len, char *err, size_t err_len) {
  if (g_ota.disk_staged) {
    if ((uint64_t)offset + len > g_ota.bytes) return fail(err, err_len, "write past the %u bytes staged", (unsigned)g_ota.bytes);
    return slot_disk_write_image(&g_disk->disk, g_ota.slot, offset, data, len, err, err_len);
  }
  if (g_ota.fd < 0) return fail(err, err_len, "nothing is staged");
  if ((uint64_t)offset + len > g_ota.bytes) return fail(err, err_len, "write past the %u bytes staged", (unsigned)g_ota.bytes);
  while (len) {
    ssize_t w = pwrite(g_ota.fd, data, len, offset);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return fail(err, err_len, "cannot write the staged image: %s", strerror(errno));
    data += w;
    offset += (uint32_t)w;
    len -= (size_t)w;
  }
  return 0;
}

int hal_slot_stage_read(uint32_t offset, uint8_t *buf, size_t len, char *err, size_t err_len) {
  if (g_ota.disk_staged) {
    if (slot_disk_flush(&g_disk->disk, err, err_len) < 0) return -1;
    return slot_disk_read_image(&g_disk->disk, g_ota.slot, offset, buf, len, err, err_len);
  }
  if (g_ota.fd < 0) return fail(err, err_len, "nothing is staged");
  while (len) {
    ssize_t r = pread(g_ota.fd, buf, len, offset);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return fail(err, err_len, "cannot read the staged image back: %s", r < 0 ? strerror(errno) : "short file");
    buf += r;
    offset += (uint32_t)r;
    len -= (size_t)r;
  }
  return 0;
}

int hal_slot_stage_install(char *err, size_t err_len) {
  if (g_ota.disk_staged) {
    if (slot_disk_flush(&g_disk->disk, err, err_len) < 0) return -1;
    sim_kill_point("update-staged");
    if (slot_disk_set_image_bytes(&g_disk->disk, g_ota.slot, g_ota.bytes, err, err_len) < 0) return -1;
    g_ota.disk_staged = 0;
    sim_kill_point("update-installed");
    return 0;
  }
  if (g_ota.fd < 0) return fail(err, err_len, "nothing is staged");
  char part[SLOTS_DIR_BYTES_MAX + 16], path[SLOTS_DIR_BYTES_MAX + 16];
  stage_path(g_ota.slot, part, sizeof part);
  slots_posix_image_path(g_ota.p, g_ota.slot, path, sizeof path);
  if (fsync(g_ota.fd) < 0) return fail(err, err_len, "cannot fsync %s: %s", part, strerror(errno));
  close(g_ota.fd);
  g_ota.fd = -1;
  sim_kill_point("update-staged");
  if (rename(part, path) < 0) return fail(err, err_len, "cannot rename %s to %s: %s", part, path, strerror(errno));
  sim_kill_point("update-installed");
  int dfd = open(g_ota.p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail(err, err_len, "cannot open folder %s to fsync it: %s", g_ota.p->dir, strerror(errno));
  int r = fsync(dfd);
  int e = errno;
  close(dfd);
  if (r < 0) return fail(err, err_len, "cannot fsync folder %s: %s", g_ota.p->dir, strerror(e));
  return 0;
}

void hal_restart(void) {
  g_ota.restart = 1;
  firmware_stop();
}

/* ---- slots on a disk image file or block device (--slot-disk): firmware/slot_disk.c over pread/pwrite ---- */

static int file_read(void *ctx, uint64_t lba, uint8_t *buf, uint32_t count) {
  int fd = *(int *)ctx;
  size_t len = (size_t)count * SLOT_DISK_SECTOR_BYTES;
  off_t at = (off_t)(lba * SLOT_DISK_SECTOR_BYTES);
  while (len) {
    ssize_t r = pread(fd, buf, len, at);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    buf += r;
    at += r;
    len -= (size_t)r;
  }
  return 0;
}

static int file_write(void *ctx, uint64_t lba, const uint8_t *buf, uint32_t count) {
  int fd = *(int *)ctx;
  size_t len = (size_t)count * SLOT_DISK_SECTOR_BYTES;
  off_t at = (off_t)(lba * SLOT_DISK_SECTOR_BYTES);
  while (len) {
    ssize_t w = pwrite(fd, buf, len, at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    buf += w;
    at += w;
    len -= (size_t)w;
  }
  return 0;
}

static int file_flush(void *ctx) { return fsync(*(int *)ctx); }

int slots_disk_posix_open(SlotsDiskPosix *p, const char *path, SlotStore *store, char *err, size_t err_len) {
  p->fd = open(path, O_RDWR | O_CLOEXEC);
  if (p->fd < 0) return fail(err, err_len, "cannot open slot disk %s: %s", path, strerror(errno));
  off_t end = lseek(p->fd, 0, SEEK_END);
  p->dev = (BlockDev){&p->fd, end > 0 ? (uint64_t)end / SLOT_DISK_SECTOR_BYTES : 0, file_read, file_write, file_flush};
  if (slot_disk_open(&p->disk, &p->dev, err, err_len) < 0) return -1;
  slot_disk_store(&p->disk, store);
  return 0;
}

void slots_disk_posix_serve(SlotsDiskPosix *p, const SlotStore *store, SlotId booted) {
  g_disk = p;
  g_ota.store = store;
  g_ota.booted = booted;
}
