/* dist_allreduce.c — times the gradient all-reduce alone (bench/dist_bench.sh): every rank fills
 * FLOATS floats in buckets of BUCKET_MB and runs the same kn_dist_grad_ready / kn_dist_grad_wait
 * calls a generated training step makes, ITERS times; rank 0 prints the best and the mean time
 * per all-reduce and the bus bandwidth 2 (N - 1) / N x bytes / time.
 *
 *   mpirun -np 2 ./dist_allreduce FLOATS [BUCKET_MB] [ITERS]
 * Built by dist_bench.sh from runtime/exe/kn_dist.c and kn_mpi.c (no model needed). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kn_dist.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: mpirun -np N %s FLOATS [BUCKET_MB] [ITERS]\n", argv[0]);
    return 2;
  }
  int64_t n = atoll(argv[1]), bucket = (int64_t)((argc > 2 ? atof(argv[2]) : 4) * (1 << 20) / 4);
  int iters = argc > 3 ? atoi(argv[3]) : 20;
  kn_error err = {{0}};
  if (!kn_dist_init(&err)) return fprintf(stderr, "error: %s\n", err.msg), 1;
  float *g = calloc((size_t)n, sizeof *g);
  if (!g) return 1;
  double best = 1e30, sum = 0;
  for (int it = 0; it <= iters; it++) {
    double t0 = now_s();
    for (int64_t off = 0; off < n; off += bucket) {
      int64_t len = n - off < bucket ? n - off : bucket;
      kn_dist_grad_ready(g + off, len, off / bucket, 0, len);
    }
    for (int64_t off = 0; off < n; off += bucket) {
      int64_t len = n - off < bucket ? n - off : bucket;
      kn_dist_grad_wait(g + off, g + off, len, off / bucket, 0);
    }
    double dt = now_s() - t0;
    if (it == 0) continue; /* warm-up */
    best = dt < best ? dt : best;
    sum += dt;
  }
  int r = kn_dist_size();
  if (kn_dist_is_root())
    printf("allreduce %lld floats (%.1f MB, buckets %.1f MB) on %d ranks: best %.2f ms, mean %.2f ms, bus %.2f GB/s\n",
           (long long)n, 4e-6 * (double)n, 4e-6 * (double)bucket, r, 1e3 * best, 1e3 * sum / iters,
           r > 1 ? 2.0 * (r - 1) / r * 4.0 * (double)n / best / 1e9 : 0.0);
  free(g);
  kn_dist_finalize();
  return 0;
}
