/* The CPU quota cgroups put on this process: read from /proc/self/cgroup and the cgroup files, v2 and v1. */
#define _GNU_SOURCE
#include "cpu_quota.h"

#include <stdio.h>
#include <string.h>

/* Bounds on what is read: a /proc/self/cgroup line, a cgroup path, and how many levels are walked. */
#define CGROUP_LINE_BYTES_MAX 512
#define CGROUP_PATH_BYTES_MAX 1024
#define CGROUP_LEVELS_MAX 64

/* v2: cpu.max is "max <period>" or "<quota> <period>" (µs). */
static double quota_v2(const char *dir) {
  char path[CGROUP_PATH_BYTES_MAX + 16], word[32];
  long long period = 0;
  snprintf(path, sizeof path, "%s/cpu.max", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = fscanf(f, "%31s %lld", word, &period);
  fclose(f);
  if (n != 2 || period <= 0 || !strcmp(word, "max")) return 0;
  long long quota = 0;
  if (sscanf(word, "%lld", &quota) != 1 || quota <= 0) return 0;
  return (double)quota / (double)period;
}

static long long read_ll(const char *dir, const char *name) {
  char path[CGROUP_PATH_BYTES_MAX + 32];
  long long v = 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  if (fscanf(f, "%lld", &v) != 1) v = 0;
  fclose(f);
  return v;
}

/* v1: cpu.cfs_quota_us (-1 = none) over cpu.cfs_period_us. */
static double quota_v1(const char *dir) {
  long long quota = read_ll(dir, "cpu.cfs_quota_us"), period = read_ll(dir, "cpu.cfs_period_us");
  return quota > 0 && period > 0 ? (double)quota / (double)period : 0;
}

/* The tightest quota from mount/rel up to mount itself: a limit on any ancestor applies too. */
static double tightest(const char *mount, const char *rel, double (*read)(const char *)) {
  char path[CGROUP_PATH_BYTES_MAX];
  size_t root_len = strlen(mount);
  if ((size_t)snprintf(path, sizeof path, "%s%s", mount, rel) >= sizeof path) return 0;
  double best = 0;
  for (unsigned level = 0; level < CGROUP_LEVELS_MAX; level++) {
    size_t len = strlen(path);
    while (len > root_len && path[len - 1] == '/') path[--len] = '\0';
    double q = read(path);
    if (q > 0 && (best == 0 || q < best)) best = q;
    if (len <= root_len) break;
    char *slash = strrchr(path + root_len, '/');
    if (!slash) break;
    *slash = '\0';
  }
  return best;
}

/* Whether a v1 line's controller list ("cpu,cpuacct") names `want`. */
static int names_controller(const char *list, const char *want) {
  size_t n = strlen(want);
  for (const char *p = list; *p;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && !strncmp(p, want, n)) return 1;
    if (!end) break;
    p = end + 1;
  }
  return 0;
}

double cpu_quota_cpus(const char *proc_cgroup, const char *root) {
  FILE *f = fopen(proc_cgroup, "r");
  if (!f) return 0;
  char line[CGROUP_LINE_BYTES_MAX], mount[CGROUP_PATH_BYTES_MAX];
  double best = 0;
  /* One line per hierarchy: "<id>:<controllers>:<path>"; v2's has no controllers. */
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    char *c1 = strchr(line, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c2[1] != '/') continue;
    *c2 = '\0';
    const char *controllers = c1 + 1, *rel = c2 + 1;
    double q = 0;
    if (!*controllers) {
      q = tightest(root, rel, quota_v2);
    } else if (names_controller(controllers, "cpu")) {
      snprintf(mount, sizeof mount, "%s/cpu", root);
      q = tightest(mount, rel, quota_v1);
    }
    if (q > 0 && (best == 0 || q < best)) best = q;
  }
  fclose(f);
  return best;
}
