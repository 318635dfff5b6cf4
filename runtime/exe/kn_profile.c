/* kn_profile.c — the run-time half of `kiln compile --profile`: the timer calls generated code
 * makes around each kernel (kn_prof_now, kn_prof_add; kilnrt.h), a peak FLOP rate measured by an
 * FMA loop on every pool thread, and the table `bench ENTRY --profile[=csv FILE]` prints.
 *
 * Kernel times are wall time on the thread that runs the entry (parallel kernels return when
 * all their items are done), so they add up to the step's wall time with any number of threads;
 * "coverage" is that sum over the step's wall time as bench measures it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kilnrt.h"
#include "kn_profile.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

int64_t kn_prof_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void kn_prof_add(int64_t *counters, int32_t k, int64_t t0) {
  counters[2 * k] += kn_prof_now() - t0;
  counters[2 * k + 1]++;
}

const kn_prof_entry_desc *kn_prof_entry(const char *entry) {
  if (!&kn_model_profile) return NULL;
  for (int i = 0; i < kn_model_profile.n_entries; i++)
    if (!strcmp(kn_model_profile.entries[i].entry, entry)) return &kn_model_profile.entries[i];
  return NULL;
}

void kn_prof_reset(const kn_prof_entry_desc *p) {
  memset(p->counters, 0, (size_t)p->n_kernels * 2 * sizeof *p->counters);
}

/* ---- the peak: independent FMA chains, the widest vectors the CPU has ---- */
#define KN_FMA_REPS 2000000
static volatile float fma_sink;

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma_avx512(void) {
  __m512 a[12], m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
  for (int r = 0; r < KN_FMA_REPS; r++)
    for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
  for (int i = 1; i < 12; i++) a[0] = _mm512_add_ps(a[0], a[i]);
  fma_sink = _mm512_reduce_add_ps(a[0]);
  return 12.0 * 16 * 2 * KN_FMA_REPS;
}

__attribute__((target("avx2,fma"))) static double fma_avx2(void) {
  __m256 a[12], m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
  for (int r = 0; r < KN_FMA_REPS; r++)
    for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
  float o[8];
  for (int i = 1; i < 12; i++) a[0] = _mm256_add_ps(a[0], a[i]);
  _mm256_storeu_ps(o, a[0]);
  fma_sink = o[0];
  return 12.0 * 8 * 2 * KN_FMA_REPS;
}
#endif

static double fma_scalar(void) {
  float a[12];
  for (int i = 0; i < 12; i++) a[i] = (float)i;
  for (int r = 0; r < KN_FMA_REPS; r++)
    for (int i = 0; i < 12; i++) a[i] = a[i] * 0.9999999f + 1e-7f;
  fma_sink = a[0] + a[11];
  return 12.0 * 2 * KN_FMA_REPS;
}

static const char *fma_kind(void) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
  return "scalar";
}

static double fma_once(void) {
#if defined(__x86_64__)
  if (!strcmp(fma_kind(), "avx512")) return fma_avx512();
  if (!strcmp(fma_kind(), "avx2")) return fma_avx2();
#endif
  return fma_scalar();
}

static double fma_flops[256];
static void fma_item(void *arg, int64_t b, int64_t e) {
  (void)arg;
  for (int64_t i = b; i < e; i++) fma_flops[i % 256] += fma_once();
}

double kn_prof_peak_gflops(const char **kind) {
  int threads = kn_parallel_threads();
  if (threads > 256) threads = 256;
  double best = 0;
  for (int round = 0; round < 3; round++) {
    memset(fma_flops, 0, sizeof fma_flops);
    int64_t t0 = kn_prof_now();
    kn_parallel_for(fma_item, NULL, threads);
    double ns = (double)(kn_prof_now() - t0), flops = 0;
    for (int i = 0; i < threads; i++) flops += fma_flops[i];
    if (ns > 0 && flops / ns > best) best = flops / ns;
  }
  if (kind) *kind = fma_kind();
  return best;
}

/* ---- the report ---- */
static const kn_prof_entry_desc *sort_entry;
static int by_time(const void *a, const void *b) {
  int64_t x = sort_entry->counters[2 * *(const int *)a], y = sort_entry->counters[2 * *(const int *)b];
  return x > y ? -1 : x < y;
}

static void csv_field(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

bool kn_prof_report(const kn_prof_entry_desc *p, int iters, double step_s, double cpu_s, const char *csv) {
  const char *kind;
  double peak = kn_prof_peak_gflops(&kind);
  int n = p->n_kernels;
  int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
  if (!order) return false;
  int64_t sum_ns = 0, sum_flops = 0, sum_bytes = 0;
  for (int k = 0; k < n; k++) {
    order[k] = k;
    sum_ns += p->counters[2 * k];
    sum_flops += p->kernels[k].flops;
    sum_bytes += p->kernels[k].bytes;
  }
  sort_entry = p;
  qsort(order, (size_t)n, sizeof *order, by_time);
  double step_ns = step_s * 1e9 * (iters > 0 ? iters : 1);
  printf("profile of %s: %d iterations, step %.3f ms (process CPU %.3f ms); kernels %.3f ms/step = %.1f %% of the step; %d kernels, "
         "%.3f GFLOP and %.1f MB per step (IR); peak %.1f GFLOP/s (%s FMA loop, %d threads)\n",
         p->entry, iters, step_s * 1e3, cpu_s * 1e3, (double)sum_ns / 1e6 / (iters > 0 ? iters : 1),
         step_ns > 0 ? 100.0 * (double)sum_ns / step_ns : 0.0, n, (double)sum_flops / 1e9, (double)sum_bytes / 1e6,
         peak, kind, kn_parallel_threads());
  printf("%-28s %6s %10s %6s %9s %9s %8s %7s %6s  %s\n", "kernel", "calls", "total ms", "share", "MFLOP", "MB",
         "GFLOP/s", "GB/s", "%peak", "members");
  for (int j = 0; j < n; j++) {
    int k = order[j];
    const kn_prof_kernel_desc *K = &p->kernels[k];
    double ns = (double)p->counters[2 * k], calls = (double)p->counters[2 * k + 1];
    double gf = ns > 0 ? (double)K->flops * calls / ns : 0, gb = ns > 0 ? (double)K->bytes * calls / ns : 0;
    printf("%-28s %6lld %10.3f %5.1f%% %9.2f %9.2f %8.1f %7.1f %5.1f%%  %.60s%s\n", K->name,
           (long long)p->counters[2 * k + 1], ns / 1e6, step_ns > 0 ? 100.0 * ns / step_ns : 0.0, (double)K->flops / 1e6,
           (double)K->bytes / 1e6, gf, gb, peak > 0 ? 100.0 * gf / peak : 0.0, K->members,
           strlen(K->members) > 60 ? "..." : "");
  }
  bool ok = true;
  if (csv) {
    size_t len = strlen(csv) + 32;
    char *tmp = malloc(len);
    if (!tmp) ok = false;
    FILE *f = NULL;
    if (ok) {
      snprintf(tmp, len, "%s.tmp%d", csv, (int)getpid());
      f = fopen(tmp, "w");
      ok = f != NULL;
    }
    if (ok) {
      fprintf(f, "entry,kernel,members,calls,total_ns,share,flops,bytes,gflops_per_s,gb_per_s,peak_pct\n");
      for (int j = 0; j < n; j++) {
        int k = order[j];
        const kn_prof_kernel_desc *K = &p->kernels[k];
        double ns = (double)p->counters[2 * k], calls = (double)p->counters[2 * k + 1];
        double gf = ns > 0 ? (double)K->flops * calls / ns : 0, gb = ns > 0 ? (double)K->bytes * calls / ns : 0;
        fprintf(f, "%s,%s,", p->entry, K->name);
        csv_field(f, K->members);
        fprintf(f, ",%lld,%lld,%.6f,%lld,%lld,%.3f,%.3f,%.3f\n", (long long)p->counters[2 * k + 1],
                (long long)p->counters[2 * k], step_ns > 0 ? ns / step_ns : 0.0, (long long)K->flops,
                (long long)K->bytes, gf, gb, peak > 0 ? 100.0 * gf / peak : 0.0);
      }
      /* Summary rows: the step as bench timed it (wall), its process CPU time, the measured peak. */
      double sgf = step_ns > 0 ? (double)sum_flops * iters / step_ns : 0;
      fprintf(f, "%s,(step),,%d,%.0f,1.0,%lld,%lld,%.3f,%.3f,%.3f\n", p->entry, iters, step_ns, (long long)sum_flops,
              (long long)sum_bytes, sgf, step_ns > 0 ? (double)sum_bytes * iters / step_ns : 0.0,
              peak > 0 ? 100.0 * sgf / peak : 0.0);
      fprintf(f, "%s,(step_cpu),,%d,%.0f,0,0,0,0,0,0\n", p->entry, iters, cpu_s * 1e9 * iters);
      fprintf(f, "%s,(peak_fma_%s),,%d,0,0,0,0,%.3f,0,100\n", p->entry, kind, kn_parallel_threads(), peak);
      ok = !ferror(f);
      ok = (fclose(f) == 0) && ok;
      if (ok && rename(tmp, csv) != 0) ok = false;
      if (!ok) unlink(tmp);
    }
    if (!ok) fprintf(stderr, "error: cannot write '%s'\n", csv);
    free(tmp);
  }
  free(order);
  return ok;
}
