/* A/B slots on the host: the state file is written new, fsynced, renamed over the old one, and the folder fsynced. */
#define _GNU_SOURCE
#include "slots_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void sim_kill_point(const char *point) {
  const char *at = getenv("COHESIX_SIM_KILL_AT");
  if (at && !strcmp(at, point)) {
    fprintf(stderr, "cohesix-sim: COHESIX_SIM_KILL_AT=%s: killing myself (power-loss test)\n", point);
    kill(getpid(), SIGKILL);
  }
}

static int fail(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t err_len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(err, err_len, "slots: ");
  vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static void path_of(const SlotsPosix *p, const char *name, char *out, size_t cap) { snprintf(out, cap, "%s/%s", p->dir, name); }

void slots_posix_image_path(const SlotsPosix *p, SlotId s, char *out, size_t cap) {
  char name[8];
  snprintf(name, sizeof name, "%c.img", slot_name(s));
  path_of(p, name, out, cap);
}

static int read_state(void *ctx, char *buf, size_t cap, size_t *len, char *err, size_t err_len) {
  SlotsPosix *p = ctx;
  char path[SLOTS_DIR_BYTES_MAX + 16];
  path_of(p, SLOTS_STATE_FILE, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 1 : fail(err, err_len, "cannot open %s: %s", path, strerror(errno));
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return fail(err, err_len, "cannot read %s: %s", path, strerror(e));
    }
    if (r == 0 || (n += (size_t)r) == cap) break;
  }
  close(fd);
  *len = n; /* a record of cap bytes is over the bound; the decoder says so */
  return 0;
}

static int write_all(int fd, const char *buf, size_t len) {
  while (len) {
    ssize_t w = write(fd, buf, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    buf += w;
    len -= (size_t)w;
  }
  return 0;
}

static int write_state(void *ctx, const char *buf, size_t len, char *err, size_t err_len) {
  SlotsPosix *p = ctx;
  char tmp[SLOTS_DIR_BYTES_MAX + 16], path[SLOTS_DIR_BYTES_MAX + 16];
  path_of(p, SLOTS_STATE_TMP_FILE, tmp, sizeof tmp);
  path_of(p, SLOTS_STATE_FILE, path, sizeof path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(err, err_len, "cannot create %s: %s", tmp, strerror(errno));
  if (write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return fail(err, err_len, "cannot write %s: %s", tmp, strerror(e));
  }
  close(fd);
  sim_kill_point("state-tmp-written");
  if (rename(tmp, path) < 0) return fail(err, err_len, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
  sim_kill_point("state-renamed");
  int dfd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail(err, err_len, "cannot open folder %s to fsync it: %s", p->dir, strerror(errno));
  int r = fsync(dfd);
  int e = errno;
  close(dfd);
  if (r < 0) return fail(err, err_len, "cannot fsync folder %s: %s", p->dir, strerror(e));
  return 0;
}

static int has_image(void *ctx, SlotId s) {
  char path[SLOTS_DIR_BYTES_MAX + 16];
  slots_posix_image_path(ctx, s, path, sizeof path);
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int slots_posix_init(SlotsPosix *p, const char *dir, SlotStore *store) {
  if (strlen(dir) > SLOTS_DIR_BYTES_MAX) return -1;
  snprintf(p->dir, sizeof p->dir, "%s", dir);
  *store = (SlotStore){p, read_state, write_state, has_image};
  return 0;
}
