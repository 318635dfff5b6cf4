/* fma_peak.c — the peak probe of bench/peer_bench.py: an fp32 FMA loop (16 independent 512-bit,
 * or with KN_PEAK_V8 256-bit, accumulators, so neither latency nor loads limit it) run on T
 * threads at once. Prints, per thread count, GFLOP/s per thread from the thread's own CPU time
 * (the core's peak, meaningful on a shared machine) and from wall time.
 *
 * build: cc -O2 -march=native -pthread bench/fma_peak.c -o fma_peak
 * usage: fma_peak [MAX_THREADS] [SECONDS]   -> lines "threads T: per-thread cpu G wall G GFLOP/s"
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef KN_PEAK_V8
typedef float vf __attribute__((vector_size(32)));
#define LANES 8
#else
typedef float vf __attribute__((vector_size(64)));
#define LANES 16
#endif
#define ACC 16

typedef struct {
  double seconds, cpu, wall, flops;
  float sink;
} job;

volatile float kn_sink; /* the accumulators' sum: keeps the loop from being removed */

static double clk(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *run(void *arg) {
  job *j = arg;
  vf m = {0}, c = {0};
  for (int l = 0; l < LANES; l++) m[l] = 0.999999f, c[l] = 1e-7f;
  vf a0 = m, a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c, a6 = a5 + c, a7 = a6 + c;
  vf a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c, a12 = a11 + c, a13 = a12 + c, a14 = a13 + c;
  vf a15 = a14 + c;
  double w0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_THREAD_CPUTIME_ID), n = 0;
  do {
    for (int r = 0; r < 4096; r++) {
#define F(x) x = x * m + c;
      F(a0) F(a1) F(a2) F(a3) F(a4) F(a5) F(a6) F(a7) F(a8) F(a9) F(a10) F(a11) F(a12) F(a13) F(a14) F(a15)
#undef F
      __asm__ volatile("" : "+v"(m), "+v"(c)); /* keeps the loop from being folded */
    }
    n += 4096.0 * ACC * LANES * 2;
  } while (clk(CLOCK_MONOTONIC) - w0 < j->seconds);
  j->wall = clk(CLOCK_MONOTONIC) - w0;
  j->cpu = clk(CLOCK_THREAD_CPUTIME_ID) - c0;
  j->flops = n;
  vf a[ACC] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15};
  float s = 0;
  for (int i = 0; i < ACC; i++)
    for (int l = 0; l < LANES; l++) s += a[i][l];
  j->sink = s;
  return 0;
}

int main(int argc, char **argv) {
  int maxt = argc > 1 ? atoi(argv[1]) : 2;
  double secs = argc > 2 ? atof(argv[2]) : 1.0;
  for (int t = 1; t <= maxt; t++) {
    pthread_t th[64];
    job jobs[64] = {{0}};
    for (int i = 0; i < t && i < 64; i++) {
      jobs[i].seconds = secs;
      pthread_create(&th[i], 0, run, &jobs[i]);
    }
    double cpu = 0, wall = 0;
    for (int i = 0; i < t && i < 64; i++) {
      pthread_join(th[i], 0);
      cpu += jobs[i].flops / jobs[i].cpu;
      wall += jobs[i].flops / jobs[i].wall;
      kn_sink += jobs[i].sink;
    }
    printf("threads %d: per-thread cpu %.1f wall %.1f GFLOP/s\n", t, cpu / t * 1e-9, wall / t * 1e-9);
  }
  return 0;
}
