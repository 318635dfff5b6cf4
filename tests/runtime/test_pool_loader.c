/* test_pool_loader.c — the thread pool (every index once, tids in range, concurrent callers) and
 * the batch loader (partial last batch, drop_last, per-epoch permutations, batches identical for
 * 1 thread without prefetch and 4 threads with prefetch, each image equal to the pipeline run on
 * its own (seed, epoch, index) stream, abandoning an epoch). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kn_check.h"
#include "kn_loader.h"
#include "kn_synth.h"

typedef struct count_ctx {
  int *hits;
  atomic_int bad_tid;
  int n_threads;
} count_ctx;

static void count_fn(void *arg, int64_t i, int tid) {
  count_ctx *c = arg;
  c->hits[i]++;
  if (tid < 0 || tid >= c->n_threads) atomic_fetch_add(&c->bad_tid, 1);
}

typedef struct caller_arg {
  kn_pool *pool;
  int *hits;
  int ok;
} caller_arg;

static void *caller(void *p) {
  caller_arg *a = p;
  count_ctx c = {.hits = a->hits, .n_threads = kn_pool_threads(a->pool)};
  for (int r = 0; r < 50; r++) kn_pool_parallel_for(a->pool, 100, count_fn, &c);
  a->ok = atomic_load(&c.bad_tid) == 0;
  return NULL;
}

static void test_pool(void) {
  const int threads[] = {1, 2, 4, 7};
  for (int t = 0; t < 4; t++) {
    kn_pool pool;
    kn_error err;
    CHECK(kn_pool_init(&pool, threads[t], &err));
    int *hits = calloc(10000, sizeof(int));
    count_ctx c = {.hits = hits, .n_threads = threads[t]};
    for (int rep = 0; rep < 20; rep++) kn_pool_parallel_for(&pool, 10000, count_fn, &c);
    kn_pool_parallel_for(&pool, 0, count_fn, &c);
    int all = 1;
    for (int i = 0; i < 10000; i++) all &= hits[i] == 20;
    CHECK(all && atomic_load(&c.bad_tid) == 0);
    /* two threads sharing the pool */
    int *h1 = calloc(100, sizeof(int)), *h2 = calloc(100, sizeof(int));
    caller_arg a1 = {&pool, h1, 0}, a2 = {&pool, h2, 0};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, caller, &a1);
    pthread_create(&t2, NULL, caller, &a2);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    all = a1.ok && a2.ok;
    for (int i = 0; i < 100; i++) all &= h1[i] == 50 && h2[i] == 50;
    CHECK(all);
    free(hits), free(h1), free(h2);
    kn_pool_free(&pool);
  }
}

static const kn_rt_aug_step aug[4] = {
    {.kind = KN_RT_AUG_HFLIP, .p = 0.5},
    {.kind = KN_RT_AUG_RANDOM_RESIZED_CROP, .size = {20, 20}, .scale = {0.5, 1}, .ratio = {0.75, 1.3333}},
    {.kind = KN_RT_AUG_TO_TENSOR},
    {.kind = KN_RT_AUG_NORMALIZE, .mean = {0.5, 0.5, 0.5}, .std = {0.25, 0.25, 0.25}}};

/* Runs 2 epochs and returns all batch contents concatenated (x then y per batch). */
static float *run_epochs(const kn_dataset *ds, int threads, bool sync, int *n_batches, size_t *len) {
  kn_loader_config cfg = {.data = ds, .steps = aug, .n_steps = 4, .batch = 10, .shuffle = true, .seed = 9,
                          .threads = threads, .sync = sync};
  kn_loader ld;
  kn_error err;
  if (!kn_loader_init(&ld, &cfg, &err)) return NULL;
  size_t per = 3 * 20 * 20, cap = 2 * 11 * 10 * (per + 1), n = 0;
  float *all = malloc(cap * sizeof(float));
  *n_batches = 0;
  for (int e = 0; e < 2; e++) {
    kn_loader_start_epoch(&ld, e);
    const kn_batch *b;
    while ((b = kn_loader_next(&ld))) {
      memcpy(all + n, b->x, (size_t)b->n * per * sizeof(float));
      n += (size_t)b->n * per;
      for (int k = 0; k < b->n; k++) all[n++] = (float)b->y[k];
      ++*n_batches;
    }
  }
  kn_loader_free(&ld);
  *len = n;
  return all;
}

static void test_loader(void) {
  kn_dataset ds;
  kn_error err;
  CHECK(kn_synth_init(&ds, 103, 16, 16, 3, 3, KN_SYNTH_TRAIN, &err));
  int nb1 = 0, nb4 = 0;
  size_t l1 = 0, l4 = 0;
  float *a = run_epochs(&ds, 1, true, &nb1, &l1), *b = run_epochs(&ds, 4, false, &nb4, &l4);
  CHECK(a && b && nb1 == 22 && nb4 == 22 && l1 == l4 && l1 == 2 * 103 * (1200 + 1));
  CHECK(a && b && memcmp(a, b, l1 * sizeof(float)) == 0);
  free(a), free(b);

  kn_loader_config cfg = {.data = &ds, .steps = aug, .n_steps = 4, .batch = 10, .shuffle = true, .seed = 9, .threads = 3};
  kn_loader ld;
  CHECK(kn_loader_init(&ld, &cfg, &err));
  int c, h, w;
  kn_loader_image_shape(&ld, &c, &h, &w);
  CHECK(c == 3 && h == 20 && w == 20 && kn_loader_batches(&ld) == 11);
  CHECK(kn_loader_next(&ld) == NULL); /* no epoch started */
  int seen[2][103] = {{0}};
  int first_order[2][10];
  float *scratch = malloc(kn_aug_scratch_bytes(&ld.aug)), one[1200];
  int same_as_direct = 1, last_n = -1, numbers_ok = 1;
  for (int e = 0; e < 2; e++) {
    kn_loader_start_epoch(&ld, e);
    const kn_batch *bt;
    int count = 0;
    while ((bt = kn_loader_next(&ld))) {
      numbers_ok &= bt->number == count++;
      if (bt->number == 0) memcpy(first_order[e], bt->index, sizeof first_order[e]);
      for (int k = 0; k < bt->n; k++) {
        seen[e][bt->index[k]]++;
        numbers_ok &= bt->y[k] == ds.labels[bt->index[k]];
        kn_rng r;
        kn_rng_init3(&r, 9, (uint64_t)e, (uint64_t)bt->index[k]);
        kn_aug_run(&ld.aug, kn_dataset_image(&ds, bt->index[k]), &r, one, scratch);
        same_as_direct &= memcmp(one, bt->x + (size_t)k * 1200, sizeof one) == 0;
      }
      last_n = bt->n;
      if (bt->n < 10) { /* padding */
        numbers_ok &= bt->index[bt->n] == -1 && bt->y[9] == 0 && bt->x[(size_t)bt->n * 1200] == 0 && bt->x[10 * 1200 - 1] == 0;
      }
    }
  }
  CHECK(numbers_ok && same_as_direct && last_n == 3);
  int perm = 1;
  for (int e = 0; e < 2; e++)
    for (int i = 0; i < 103; i++) perm &= seen[e][i] == 1;
  CHECK(perm);
  CHECK(memcmp(first_order[0], first_order[1], sizeof first_order[0]) != 0);
  /* abandon epoch 5 after one batch, restart it: the same first batches */
  kn_loader_start_epoch(&ld, 5);
  const kn_batch *bt = kn_loader_next(&ld);
  int idx0 = bt->index[0];
  kn_loader_next(&ld);
  kn_loader_start_epoch(&ld, 5);
  bt = kn_loader_next(&ld);
  CHECK(bt->number == 0 && bt->index[0] == idx0);
  kn_loader_free(&ld);
  free(scratch);

  /* no shuffle, drop_last */
  cfg.shuffle = false;
  cfg.drop_last = true;
  CHECK(kn_loader_init(&ld, &cfg, &err));
  CHECK(kn_loader_batches(&ld) == 10);
  kn_loader_start_epoch(&ld, 0);
  int in_order = 1, nb = 0;
  while ((bt = kn_loader_next(&ld))) {
    nb++;
    for (int k = 0; k < bt->n; k++) in_order &= bt->index[k] == bt->number * 10 + k;
    in_order &= bt->n == 10;
  }
  CHECK(in_order && nb == 10);
  kn_loader_free(&ld);
  /* errors */
  cfg.batch = 0;
  CHECK(!kn_loader_init(&ld, &cfg, &err) && strstr(err.msg, "batch size"));
  cfg.batch = 4;
  cfg.steps = aug + 3;
  cfg.n_steps = 1;
  CHECK(!kn_loader_init(&ld, &cfg, &err) && strstr(err.msg, "Normalize"));
  kn_dataset_free(&ds);
}

int main(void) {
  test_pool();
  test_loader();
  return kn_check_summary();
}
