/* conv_layer_main.h — the timing harness of bench/conv_layers.py, included at the end of the C
 * file that script generates (after kernels/conv.c and per-shape wrappers with constant shapes, as
 * kiln specialises them; the generated file then defines kn_layer_table()). Runs one kernel of one layer on T threads with
 * work items handed out one at a time (as the runtime's pool does) and prints wall and process
 * CPU ms per call.
 *
 * usage: layers LAYER {fwd|gi|gw} THREADS MIN_SECONDS  ->  "wall_ms=X cpu_ms=Y calls=N"
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*kn_wrap)(void *const *p, int64_t b, int64_t e);
typedef struct {
  int64_t N, Ci, H, W, Co, OH, OW, kh, kw, G, fwd_items, gi_items, gw_items;
  kn_wrap fwd, gi, gw;
} kn_layer;

static const kn_layer *kn_layer_table(void);

typedef struct {
  kn_wrap fn;
  void *const *p;
  int64_t items;
  atomic_llong next;
} kn_job;

static void *worker(void *arg) {
  kn_job *j = arg;
  for (int64_t i; (i = atomic_fetch_add(&j->next, 1)) < j->items;) j->fn(j->p, i, i + 1);
  return 0;
}

static void run(kn_wrap fn, void *const *p, int64_t items, int threads) {
  kn_job j = {fn, p, items, 0};
  pthread_t th[16];
  int t = threads < 16 ? threads : 16;
  for (int i = 1; i < t; i++) pthread_create(&th[i], 0, worker, &j);
  worker(&j);
  for (int i = 1; i < t; i++) pthread_join(th[i], 0);
}

static double clk(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *rnd(int64_t n, uint64_t *s) {
  float *a = aligned_alloc(64, (size_t)((n * 4 + 63) / 64 * 64));
  for (int64_t i = 0; i < n; i++) {
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    a[i] = (float)((*s >> 40) & 0xffff) / 32768.0f - 1.0f;
  }
  return a;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s LAYER {fwd|gi|gw} THREADS MIN_SECONDS\n", argv[0]);
    return 2;
  }
  const kn_layer *L = &kn_layer_table()[atoi(argv[1])];
  const char *op = argv[2];
  int threads = atoi(argv[3]);
  double min_s = atof(argv[4]);
  uint64_t s = 1;
  float *x = rnd(L->N * L->Ci * L->H * L->W, &s), *w = rnd(L->Co * (L->Ci / L->G) * L->kh * L->kw, &s);
  float *y = rnd(L->N * L->Co * L->OH * L->OW, &s);
  void *pf[3] = {x, w, y}, *pi[3] = {y, w, x}, *pw[3] = {y, x, w};
  kn_wrap fn = op[0] == 'f' ? L->fwd : op[1] == 'i' ? L->gi : L->gw;
  void *const *p = op[0] == 'f' ? pf : op[1] == 'i' ? pi : pw;
  int64_t items = op[0] == 'f' ? L->fwd_items : op[1] == 'i' ? L->gi_items : L->gw_items;
  run(fn, p, items, threads); /* warm-up */
  double w0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
  int calls = 0;
  do {
    run(fn, p, items, threads);
    calls++;
  } while (clk(CLOCK_MONOTONIC) - w0 < min_s || calls < 2);
  double wall = (clk(CLOCK_MONOTONIC) - w0) / calls, cpu = (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / calls;
  printf("wall_ms=%.4f cpu_ms=%.4f calls=%d\n", wall * 1e3, cpu * 1e3, calls);
  return 0;
}
