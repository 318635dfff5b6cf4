/* kn_parallel.c — the thread pool behind kn_parallel_for, which generated code calls for every
 * node with more than one work item. Workers are started on first use (KILN_THREADS or the
 * online CPUs) and take items one at a time from a shared counter, so uneven items balance.
 * Calls are not reentrant: generated code never nests them. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "kilnrt.h"

#define KN_MAX_THREADS 256

static struct {
  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  int nthreads, started;
  uint64_t gen;
  void (*fn)(void *, int64_t, int64_t);
  void *arg;
  int64_t n;
  atomic_llong next;
  int busy;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0, 0, 0, 0};

static void run_items(void (*fn)(void *, int64_t, int64_t), void *arg, int64_t n) {
  for (;;) {
    int64_t i = atomic_fetch_add(&pool.next, 1);
    if (i >= n) return;
    fn(arg, i, i + 1);
  }
}

static void *worker(void *unused) {
  uint64_t seen = 0;
  for (;;) {
    pthread_mutex_lock(&pool.mu);
    while (pool.gen == seen) pthread_cond_wait(&pool.wake, &pool.mu);
    seen = pool.gen;
    void (*fn)(void *, int64_t, int64_t) = pool.fn;
    void *arg = pool.arg;
    int64_t n = pool.n;
    pthread_mutex_unlock(&pool.mu);
    run_items(fn, arg, n);
    pthread_mutex_lock(&pool.mu);
    if (--pool.busy == 0) pthread_cond_signal(&pool.done);
    pthread_mutex_unlock(&pool.mu);
  }
  return NULL;
}

void kn_parallel_set_threads(int n) {
  pthread_mutex_lock(&pool.mu);
  if (!pool.started) pool.nthreads = n < 1 ? 1 : n > KN_MAX_THREADS ? KN_MAX_THREADS : n;
  pthread_mutex_unlock(&pool.mu);
}

int kn_parallel_threads(void) {
  if (!pool.nthreads) {
    const char *env = getenv("KILN_THREADS");
    long n = env ? atol(env) : sysconf(_SC_NPROCESSORS_ONLN);
    kn_parallel_set_threads(n < 1 ? 1 : (int)n);
  }
  return pool.nthreads;
}

static void start(void) {
  int n = kn_parallel_threads();
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 16u << 20); /* kernels keep packed panels on the stack */
  for (int i = 1; i < n; i++) {
    pthread_t t;
    if (pthread_create(&t, &at, worker, NULL) != 0) {
      n = i;
      break;
    }
    pthread_detach(t);
  }
  pthread_attr_destroy(&at);
  pool.nthreads = n;
  pool.started = 1;
}

void kn_parallel_for(void (*fn)(void *arg, int64_t begin, int64_t end), void *arg, int64_t n) {
  if (n <= 0) return;
  if (!pool.started) start();
  if (n == 1 || pool.nthreads == 1) {
    fn(arg, 0, n);
    return;
  }
  pthread_mutex_lock(&pool.mu);
  pool.fn = fn;
  pool.arg = arg;
  pool.n = n;
  atomic_store(&pool.next, 0);
  pool.busy = pool.nthreads - 1;
  pool.gen++;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
  run_items(fn, arg, n);
  pthread_mutex_lock(&pool.mu);
  while (pool.busy > 0) pthread_cond_wait(&pool.done, &pool.mu);
  pthread_mutex_unlock(&pool.mu);
}
