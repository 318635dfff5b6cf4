/* gpu_check.c — `kn_gpu_check [--time STEPS] BUNDLE...`: runs GPU test bundles (written by
 * kn_gpu_gen on the build machine) on this machine's GPU and compares every expected buffer.
 * With --time, buffers without initial data get a small deterministic pattern and the bundle's
 * launch list is timed over STEPS steps after one warm-up step (prints "ms/step").
 * Needs only the C library and the NVIDIA driver (dlopen). Exit: 0 all passed, 1 a mismatch or
 * CUDA error, 77 no CUDA device (the test is skipped), 2 bad usage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kn_gpu_bundle.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Compares buffer k; prints the worst element on a mismatch. */
static bool compare(const kn_gpu_bundle *b, int k, const void *got) {
  size_t n = b->bytes[k] / 4;
  if (b->flags[k] & KN_BUNDLE_I32) return !memcmp(got, b->expect[k], b->bytes[k]);
  const float *g = got, *w = b->expect[k];
  size_t worst = 0;
  double worst_err = 0;
  for (size_t i = 0; i < n; i++) {
    double err = fabs((double)g[i] - w[i]) / (1.0 + fabs((double)w[i]));
    if (!(err <= worst_err)) { /* catches NaN */
      worst_err = isnan(err) ? INFINITY : err;
      worst = i;
    }
  }
  if (worst_err <= b->tol[k]) return true;
  printf("    %s[%zu] = %g, want %g (relative error %.3g > %.3g)\n", b->name[k], worst, g[worst], w[worst],
         worst_err, b->tol[k]);
  return false;
}

static bool run_bundle(kn_cuda *cu, const char *path, int time_steps) {
  kn_gpu_bundle b;
  char err[512];
  if (!kn_gpu_bundle_read(path, &b, err, sizeof err)) {
    printf("FAIL %s: %s\n", path, err);
    return false;
  }
  kn_gpu_exec x;
  bool ok = kn_gpu_exec_init(&x, cu, &b.prog);
  for (int k = 0; ok && k < b.prog.n_buffers; k++) {
    if (b.init[k]) ok = kn_cuda_upload(cu, x.buf[k], b.init[k], b.bytes[k]);
    else if (time_steps && !(b.flags[k] & KN_BUNDLE_I32)) {
      size_t n = b.bytes[k] / 4;
      float *pat = malloc(b.bytes[k] + 4);
      for (size_t i = 0; pat && i < n; i++) pat[i] = 0.05f * (float)((i * 2654435761u) % 2001) / 1000.f - 0.05f;
      ok = pat && kn_cuda_upload(cu, x.buf[k], pat, b.bytes[k]);
      free(pat);
    }
  }
  unsigned steps = time_steps ? (unsigned)time_steps + 1 : b.steps;
  double t0 = 0;
  for (unsigned s = 0; ok && s < steps; s++) {
    if (time_steps && s == 1) {
      ok = kn_cuda_sync(cu);
      t0 = now();
    }
    float step = (float)(s + 1);
    if (b.step_buffer >= 0) ok = ok && kn_cuda_upload_async(cu, x.buf[b.step_buffer], &step, 4);
    ok = ok && kn_gpu_exec_run(&x);
  }
  ok = ok && kn_cuda_sync(cu);
  if (!ok) printf("FAIL %s: %s\n", path, cu->error);
  else if (time_steps) printf("time %s: %.2f ms/step over %d steps\n", path, 1e3 * (now() - t0) / time_steps, time_steps);
  bool match = ok;
  for (int k = 0; ok && k < b.prog.n_buffers; k++) {
    if (!b.expect[k]) continue;
    void *got = malloc(b.bytes[k] + 4);
    bool same = got && kn_cuda_download(cu, got, x.buf[k], b.bytes[k]) && compare(&b, k, got);
    if (!same) match = false;
    free(got);
  }
  if (ok && !time_steps) printf("%s %s\n", match ? "ok  " : "FAIL", path);
  kn_gpu_exec_free(&x);
  kn_gpu_bundle_free(&b);
  return match;
}

int main(int argc, char **argv) {
  int time_steps = 0, first = 1, passed = 0, failed = 0;
  if (argc > 2 && !strcmp(argv[1], "--time")) {
    time_steps = atoi(argv[2]);
    first = 3;
  }
  if (first >= argc || time_steps < 0) {
    fprintf(stderr, "usage: kn_gpu_check [--time STEPS] BUNDLE...\n");
    return 2;
  }
  char why[256];
  kn_cuda *cu;
  int st = kn_cuda_init(&cu, 0, why, sizeof why);
  if (st != KN_CUDA_OK) {
    if (st == KN_CUDA_NO_DEVICE) kn_cuda_print_no_device(stdout, why);
    else printf("error: CUDA initialisation failed (%s)\n", why);
    printf("skipped: the GPU check needs an NVIDIA GPU\n");
    return st == KN_CUDA_NO_DEVICE ? 77 : 1;
  }
  printf("device: %s (sm_%d%d)\n", cu->name, cu->sm_major, cu->sm_minor);
  for (int k = first; k < argc; k++) run_bundle(cu, argv[k], time_steps) ? passed++ : failed++;
  kn_cuda_free(cu);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
