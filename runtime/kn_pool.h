/* kn_pool.h — a small fixed-size thread pool with one blocking primitive, parallel-for.
 * Used by the batch loader to augment the images of a batch, and usable by generated code to
 * split a kernel over N chunks.
 *
 *   kn_pool pool;
 *   kn_pool_init(&pool, 4, &err);                 // 4 threads in all: 3 workers + the caller
 *   kn_pool_parallel_for(&pool, n_chunks, fn, ctx); // fn(ctx, i, tid) for i in [0, n_chunks)
 *   kn_pool_free(&pool);
 *
 * parallel_for hands out indices dynamically (an atomic counter), runs some of them on the calling
 * thread and returns when every index has finished. tid is in [0, kn_pool_threads(pool)) and is
 * unique among the calls running at the same time, so fn can index per-thread scratch with it.
 * Calls from several threads on one pool are serialised (each waits its turn). With 1 thread (or
 * n_chunks == 1) everything runs inline on the caller.
 */
#ifndef KN_POOL_H
#define KN_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kn_error.h"

typedef void (*kn_pool_fn)(void *ctx, int64_t i, int tid);

typedef struct kn_pool {
  int n_threads;        /* workers + the caller */
  pthread_t *workers;   /* [n_threads - 1] */
  pthread_mutex_t mu;   /* guards everything below */
  pthread_cond_t wake;  /* workers wait here for a job */
  pthread_cond_t done;  /* the caller waits here for the job to finish */
  pthread_mutex_t submit; /* serialises parallel_for callers */
  uint64_t generation;  /* bumped per job */
  bool stop;
  kn_pool_fn fn;
  void *ctx;
  int64_t n;
  int64_t next;         /* next index to hand out */
  int active;           /* workers still inside the current job */
  int next_tid;         /* tids handed to workers joining the current job */
} kn_pool;

/* Starts n_threads - 1 workers (n_threads <= 0: the number of online CPUs). */
bool kn_pool_init(kn_pool *pool, int n_threads, kn_error *err);
/* Stops and joins the workers. */
void kn_pool_free(kn_pool *pool);
int kn_pool_threads(const kn_pool *pool);
/* Runs fn(ctx, i, tid) for every i in [0, n) and returns when all have finished. */
void kn_pool_parallel_for(kn_pool *pool, int64_t n, kn_pool_fn fn, void *ctx);

#endif
