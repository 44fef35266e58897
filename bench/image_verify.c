/* bench_image_verify: times image_open (Ed25519 over the manifest, SHA-256 of every bundle, manifest parse) on one image file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image.h"
#include "image_sig.h"

#define BENCH_ITERATIONS_MAX 100000L
#define BENCH_KEY_FILE_BYTES_MAX 256u

static uint8_t *slurp(const char *path, size_t cap, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = malloc(cap);
  *len = buf ? fread(buf, 1, cap, f) : 0;
  fclose(f);
  return buf;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench_image_verify <image> <trusted.pub> <iterations>\n");
    return 2;
  }
  long iterations = strtol(argv[3], NULL, 10);
  if (iterations < 1 || iterations > BENCH_ITERATIONS_MAX) {
    fprintf(stderr, "bench_image_verify: iterations must be 1..%ld\n", BENCH_ITERATIONS_MAX);
    return 2;
  }
  size_t len = 0, klen = 0;
  uint8_t *img = slurp(argv[1], IMAGE_BYTES_MAX + 1, &len);
  uint8_t *ktext = slurp(argv[2], BENCH_KEY_FILE_BYTES_MAX, &klen);
  char err[512];
  ImageTrust trust = {1, {0}};
  if (!img || !ktext || image_pubkey_parse((const char *)ktext, klen, trust.key, err, sizeof err) < 0) {
    fprintf(stderr, "bench_image_verify: cannot read %s or %s\n", argv[1], argv[2]);
    return 1;
  }
  static Image image;
  static Manifest m;
  double best = 1e30, total = 0;
  for (long i = 0; i < iterations; i++) {
    double t0 = now_us();
    if (image_open(img, len, &trust, &image, &m, err, sizeof err) < 0) {
      fprintf(stderr, "bench_image_verify: %s\n", err);
      return 1;
    }
    double dt = now_us() - t0;
    manifest_free(&m);
    total += dt;
    if (dt < best) best = dt;
  }
  printf("{\"image_bytes\": %zu, \"iterations\": %ld, \"mean_us\": %.1f, \"best_us\": %.1f}\n", len, iterations,
         total / (double)iterations, best);
  free(img);
  free(ktext);
  return 0;
}
