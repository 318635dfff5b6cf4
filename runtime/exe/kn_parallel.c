/* kn_parallel.c — kn_parallel_for, which generated code calls for every node with more than one
 * work item, on the runtime's thread pool (runtime/kn_pool.h). The pool starts on first use with
 * KILN_THREADS threads (default: the online CPUs); items are handed out one at a time. */
#include <stdlib.h>
#include <unistd.h>

#include "kilnrt.h"
#include "kn_pool.h"

static kn_pool pool;
static int want_threads, started;

void kn_parallel_set_threads(int n) {
  if (!started) want_threads = n < 1 ? 1 : n;
}

int kn_parallel_threads(void) {
  if (started) return kn_pool_threads(&pool);
  if (!want_threads) {
    const char *env = getenv("KILN_THREADS");
    long n = env ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);
    want_threads = n < 1 ? 1 : (int)n;
  }
  return want_threads;
}

static void stop(void) { kn_pool_free(&pool); }

typedef struct {
  void (*fn)(void *arg, int64_t begin, int64_t end);
  void *arg;
} kn_parallel_job;

static void run_item(void *ctx, int64_t i, int tid) {
  const kn_parallel_job *j = ctx;
  (void)tid;
  j->fn(j->arg, i, i + 1);
}

void kn_parallel_for(void (*fn)(void *arg, int64_t begin, int64_t end), void *arg, int64_t n) {
  if (n <= 0) return;
  if (!started) {
    kn_error err;
    int threads = kn_parallel_threads();
    if (threads > 1 && kn_pool_init(&pool, threads, &err)) {
      started = 1;
      atexit(stop);
    } else {
      want_threads = 1;
    }
  }
  if (!started || n == 1) {
    fn(arg, 0, n);
    return;
  }
  kn_parallel_job j = {fn, arg};
  kn_pool_parallel_for(&pool, n, run_item, &j);
}
