/* kn_pool.c — fixed-size pthread pool with a blocking parallel-for (see kn_pool.h). */
#include "kn_pool.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Takes indices of the current job until none is left. Called with pool->mu held; returns with
 * it held. */
static void pool_drain(kn_pool *pool, int tid) {
  kn_pool_fn fn = pool->fn;
  void *ctx = pool->ctx;
  while (pool->next < pool->n) {
    int64_t i = pool->next++;
    pthread_mutex_unlock(&pool->mu);
    fn(ctx, i, tid);
    pthread_mutex_lock(&pool->mu);
  }
}

static void *pool_worker(void *arg) {
  kn_pool *pool = arg;
  uint64_t seen = 0;
  pthread_mutex_lock(&pool->mu);
  for (;;) {
    while (!pool->stop && pool->generation == seen) pthread_cond_wait(&pool->wake, &pool->mu);
    if (pool->stop) break;
    seen = pool->generation;
    if (pool->next >= pool->n) continue; /* joined too late: nothing left */
    int tid = pool->next_tid++;
    pool->active++;
    pool_drain(pool, tid);
    if (--pool->active == 0) pthread_cond_broadcast(&pool->done);
  }
  pthread_mutex_unlock(&pool->mu);
  return NULL;
}

bool kn_pool_init(kn_pool *pool, int n_threads, kn_error *err) {
  memset(pool, 0, sizeof *pool);
  if (n_threads <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n_threads = cpus > 0 ? (int)cpus : 1;
  }
  if (n_threads > 1024) n_threads = 1024;
  pool->n_threads = n_threads;
  pthread_mutex_init(&pool->mu, NULL);
  pthread_mutex_init(&pool->submit, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
  if (n_threads == 1) return true;
  pool->workers = calloc((size_t)n_threads - 1, sizeof *pool->workers);
  if (!pool->workers) {
    pool->n_threads = 1;
    kn_pool_free(pool);
    return kn_error_set(err, "thread pool: out of memory");
  }
  for (int i = 0; i < n_threads - 1; i++) {
    if (pthread_create(&pool->workers[i], NULL, pool_worker, pool) != 0) {
      pool->n_threads = i + 1; /* join the ones that started */
      kn_pool_free(pool);
      return kn_error_set(err, "thread pool: cannot start thread %d of %d", i + 2, n_threads);
    }
  }
  return true;
}

void kn_pool_free(kn_pool *pool) {
  pthread_mutex_lock(&pool->mu);
  pool->stop = true;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mu);
  for (int i = 0; i < pool->n_threads - 1 && pool->workers; i++) pthread_join(pool->workers[i], NULL);
  free(pool->workers);
  pthread_mutex_destroy(&pool->mu);
  pthread_mutex_destroy(&pool->submit);
  pthread_cond_destroy(&pool->wake);
  pthread_cond_destroy(&pool->done);
  memset(pool, 0, sizeof *pool);
}

int kn_pool_threads(const kn_pool *pool) { return pool->n_threads; }

void kn_pool_parallel_for(kn_pool *pool, int64_t n, kn_pool_fn fn, void *ctx) {
  if (n <= 0) return;
  if (pool->n_threads <= 1 || n == 1) {
    for (int64_t i = 0; i < n; i++) fn(ctx, i, 0);
    return;
  }
  pthread_mutex_lock(&pool->submit);
  pthread_mutex_lock(&pool->mu);
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n = n;
  pool->next = 0;
  pool->next_tid = 1; /* the caller is tid 0 */
  pool->generation++;
  pthread_cond_broadcast(&pool->wake);
  pool_drain(pool, 0);
  while (pool->active > 0) pthread_cond_wait(&pool->done, &pool->mu);
  pthread_mutex_unlock(&pool->mu);
  pthread_mutex_unlock(&pool->submit);
}
