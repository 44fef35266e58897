/* cpu_quota_cpus: the CPU quota read from a cgroup list and cgroup files (v2 cpu.max, v1 CFS), walked up to the mount. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cpu_quota.h"

#define PATH_BYTES_MAX 512

/* A fake machine: a temporary directory holding the cgroup list and the cgroup mount. */
typedef struct Fake {
  char dir[PATH_BYTES_MAX];
  char list[PATH_BYTES_MAX + 16];
  char root[PATH_BYTES_MAX + 16];
} Fake;

static void put(const Fake *f, const char *rel, const char *text) {
  char path[PATH_BYTES_MAX * 2];
  snprintf(path, sizeof path, "%s/%s", f->root, rel);
  /* Every directory on the way. */
  for (char *p = path + strlen(f->root) + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    mkdir(path, 0700);
    *p = '/';
  }
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
}

static void cgroups(const Fake *f, const char *text) {
  FILE *out = fopen(f->list, "w");
  assert_non_null(out);
  fputs(text, out);
  fclose(out);
}

/* A v1 cgroup directory's CFS quota (-1 = none) over a 100 ms period. */
static void put_cfs(const Fake *f, const char *dir, const char *quota_us) {
  char rel[PATH_BYTES_MAX];
  snprintf(rel, sizeof rel, "%s/cpu.cfs_quota_us", dir);
  put(f, rel, quota_us);
  snprintf(rel, sizeof rel, "%s/cpu.cfs_period_us", dir);
  put(f, rel, "100000\n");
}

static double quota(const Fake *f) { return cpu_quota_cpus(f->list, f->root); }

static int setup(void **state) {
  Fake *f = calloc(1, sizeof *f);
  snprintf(f->dir, sizeof f->dir, "/tmp/cohesix-cpu-quota-XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->list, sizeof f->list, "%s/cgroup", f->dir);
  snprintf(f->root, sizeof f->root, "%s/fs", f->dir);
  mkdir(f->root, 0700);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  Fake *f = *state;
  char cmd[PATH_BYTES_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  int rc = system(cmd);
  free(f);
  return rc == 0 ? 0 : -1;
}

static void v2_quota_on_the_own_cgroup(void **state) {
  Fake *f = *state;
  cgroups(f, "0::/hive\n");
  put(f, "hive/cpu.max", "50000 100000\n");
  assert_float_equal(quota(f), 0.5, 1e-9);
}

static void v2_no_quota_is_zero(void **state) {
  Fake *f = *state;
  cgroups(f, "0::/hive\n");
  put(f, "hive/cpu.max", "max 100000\n");
  put(f, "cpu.max", "max 100000\n");
  assert_float_equal(quota(f), 0.0, 0);
}

static void v2_a_parent_quota_applies_and_the_tightest_wins(void **state) {
  Fake *f = *state;
  cgroups(f, "0::/a/b/c\n");
  put(f, "a/cpu.max", "150000 100000\n");
  put(f, "a/b/cpu.max", "max 100000\n");
  put(f, "cpu.max", "300000 100000\n");
  put(f, "a/b/c/cgroup.procs", ""); /* c has no cpu.max of its own */
  assert_float_equal(quota(f), 1.5, 1e-9);
}

static void v2_root_path_reads_the_mount_itself(void **state) {
  Fake *f = *state;
  cgroups(f, "0::/\n");
  put(f, "cpu.max", "100000 100000\n");
  assert_float_equal(quota(f), 1.0, 1e-9);
}

static void v1_cfs_quota_under_the_cpu_mount(void **state) {
  Fake *f = *state;
  cgroups(f, "12:pids:/x\n4:cpu,cpuacct:/docker/abc\n0::/\n");
  put_cfs(f, "cpu/docker/abc", "-1\n");
  put_cfs(f, "cpu/docker", "20000\n");
  assert_float_equal(quota(f), 0.2, 1e-9);
}

static void v1_and_v2_together_take_the_tighter(void **state) {
  Fake *f = *state;
  cgroups(f, "4:cpu:/h\n0::/h\n");
  put_cfs(f, "cpu/h", "300000\n");
  put(f, "h/cpu.max", "70000 100000\n");
  assert_float_equal(quota(f), 0.7, 1e-9);
}

static void malformed_or_missing_input_is_no_quota(void **state) {
  Fake *f = *state;
  cgroups(f, "garbage\n3:cpuacct:/y\n1:cpu:relative\n0::/h\n");
  /* A quota where a cpuacct-only line would lead if it were taken for the cpu controller. */
  put_cfs(f, "cpu/y", "10000\n");
  put(f, "h/cpu.max", "0 100000\n");
  assert_float_equal(quota(f), 0.0, 0);
  put(f, "h/cpu.max", "50000 0\n");
  assert_float_equal(quota(f), 0.0, 0);
  put(f, "h/cpu.max", "lots\n");
  assert_float_equal(quota(f), 0.0, 0);
  char missing[PATH_BYTES_MAX + 16];
  snprintf(missing, sizeof missing, "%s/none", f->dir);
  assert_float_equal(cpu_quota_cpus(missing, f->root), 0.0, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(v2_quota_on_the_own_cgroup, setup, teardown),
      cmocka_unit_test_setup_teardown(v2_no_quota_is_zero, setup, teardown),
      cmocka_unit_test_setup_teardown(v2_a_parent_quota_applies_and_the_tightest_wins, setup, teardown),
      cmocka_unit_test_setup_teardown(v2_root_path_reads_the_mount_itself, setup, teardown),
      cmocka_unit_test_setup_teardown(v1_cfs_quota_under_the_cpu_mount, setup, teardown),
      cmocka_unit_test_setup_teardown(v1_and_v2_together_take_the_tighter, setup, teardown),
      cmocka_unit_test_setup_teardown(malformed_or_missing_input_is_no_quota, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
