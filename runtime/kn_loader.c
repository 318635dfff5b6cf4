/* kn_loader.c — shuffled, augmented, prefetched batches (see kn_loader.h). */
#include "kn_loader.h"

#include <stdlib.h>
#include <string.h>

typedef struct build_ctx {
  kn_loader *ld;
  kn_batch *slot;
  size_t per_image; /* floats per output image */
} build_ctx;

static void build_one(void *arg, int64_t k, int tid) {
  build_ctx *bc = arg;
  kn_loader *ld = bc->ld;
  int idx = bc->slot->index[k];
  kn_rng r;
  kn_rng_init3(&r, ld->cfg.seed, (uint64_t)ld->epoch, (uint64_t)idx);
  kn_aug_run(&ld->aug, kn_dataset_image(ld->cfg.data, idx), &r, bc->slot->x + (size_t)k * bc->per_image,
             ld->scratch + (size_t)tid * ld->scratch_floats);
}

/* Builds batch b of the current epoch into slots[b % 2]. */
static void loader_build(kn_loader *ld, int b) {
  kn_batch *slot = &ld->slots[b % 2];
  int total = ld->n_order, first = b * ld->cfg.batch;
  int n = total - first < ld->cfg.batch ? total - first : ld->cfg.batch;
  for (int k = 0; k < n; k++) {
    slot->index[k] = ld->order[first + k];
    slot->y[k] = ld->cfg.data->labels[slot->index[k]];
  }
  slot->n = n;
  slot->number = b;
  build_ctx bc = {ld, slot, (size_t)ld->aug.out_c * (size_t)ld->aug.out_h * (size_t)ld->aug.out_w};
  for (int k = n; k < ld->cfg.batch; k++) { /* padding of a partial batch: zeros, label 0, index -1 */
    slot->index[k] = -1;
    slot->y[k] = 0;
  }
  if (n < ld->cfg.batch) memset(slot->x + (size_t)n * bc.per_image, 0, (size_t)(ld->cfg.batch - n) * bc.per_image * sizeof(float));
  kn_pool_parallel_for(&ld->pool, n, build_one, &bc);
}

static void *loader_thread(void *arg) {
  kn_loader *ld = arg;
  pthread_mutex_lock(&ld->mu);
  for (;;) {
    while (!ld->stop && ld->request < 0) pthread_cond_wait(&ld->cv, &ld->mu);
    if (ld->stop) break;
    int b = ld->request;
    ld->busy = true;
    pthread_mutex_unlock(&ld->mu);
    loader_build(ld, b);
    pthread_mutex_lock(&ld->mu);
    ld->ready[b % 2] = b;
    ld->request = -1;
    ld->busy = false;
    pthread_cond_broadcast(&ld->cv);
  }
  pthread_mutex_unlock(&ld->mu);
  return NULL;
}

static void loader_post(kn_loader *ld, int b) {
  if (!ld->has_thread) return; /* sync: built on demand */
  pthread_mutex_lock(&ld->mu);
  ld->request = b;
  pthread_cond_broadcast(&ld->cv);
  pthread_mutex_unlock(&ld->mu);
}

static void loader_wait_idle(kn_loader *ld) {
  if (!ld->has_thread) return;
  pthread_mutex_lock(&ld->mu);
  while (ld->request >= 0 || ld->busy) pthread_cond_wait(&ld->cv, &ld->mu);
  pthread_mutex_unlock(&ld->mu);
}

bool kn_loader_init(kn_loader *ld, const kn_loader_config *cfg, kn_error *err) {
  memset(ld, 0, sizeof *ld);
  if (!cfg->data || cfg->data->n <= 0) return kn_error_set(err, "loader: empty data set");
  if (cfg->batch <= 0) return kn_error_set(err, "loader: batch size %d must be at least 1", cfg->batch);
  ld->cfg = *cfg;
  ld->cfg.steps = NULL; /* copied into aug */
  pthread_mutex_init(&ld->mu, NULL);
  pthread_cond_init(&ld->cv, NULL);
  const kn_dataset *ds = cfg->data;
  if (!kn_aug_pipeline_init(&ld->aug, cfg->steps, cfg->n_steps, ds->h, ds->w, ds->c, err) ||
      !kn_pool_init(&ld->pool, cfg->threads, err)) {
    kn_loader_free(ld);
    return false;
  }
  int nt = kn_pool_threads(&ld->pool);
  ld->scratch_floats = kn_aug_scratch_bytes(&ld->aug) / sizeof(float);
  ld->scratch = malloc((size_t)nt * ld->scratch_floats * sizeof(float));
  ld->order = malloc((size_t)ds->n * sizeof *ld->order);
  size_t per = (size_t)ld->aug.out_c * (size_t)ld->aug.out_h * (size_t)ld->aug.out_w;
  bool ok = ld->scratch && ld->order;
  for (int s = 0; s < 2; s++) {
    ld->slots[s].x = malloc((size_t)cfg->batch * per * sizeof(float));
    ld->slots[s].y = malloc((size_t)cfg->batch * sizeof(int32_t));
    ld->slots[s].index = malloc((size_t)cfg->batch * sizeof(int32_t));
    ok = ok && ld->slots[s].x && ld->slots[s].y && ld->slots[s].index;
    ld->ready[s] = -1;
  }
  if (!ok) {
    kn_loader_free(ld);
    return kn_error_set(err, "loader: out of memory for batches of %d x %zu floats", cfg->batch, per);
  }
  ld->n_order = ds->n;
  ld->n_batches = cfg->drop_last ? ds->n / cfg->batch : (ds->n + cfg->batch - 1) / cfg->batch;
  ld->next_batch = ld->n_batches; /* nothing until start_epoch */
  ld->request = -1;
  if (!cfg->sync) {
    if (pthread_create(&ld->thread, NULL, loader_thread, ld) != 0) {
      kn_loader_free(ld);
      return kn_error_set(err, "loader: cannot start the prefetch thread");
    }
    ld->has_thread = true;
  }
  return true;
}

void kn_loader_free(kn_loader *ld) {
  if (ld->has_thread) {
    pthread_mutex_lock(&ld->mu);
    ld->stop = true;
    pthread_cond_broadcast(&ld->cv);
    pthread_mutex_unlock(&ld->mu);
    pthread_join(ld->thread, NULL);
  }
  if (ld->cfg.data) { /* init got past validation: the mutex exists */
    pthread_mutex_destroy(&ld->mu);
    pthread_cond_destroy(&ld->cv);
  }
  if (ld->pool.n_threads) kn_pool_free(&ld->pool);
  free(ld->scratch);
  free(ld->order);
  free(ld->full);
  for (int s = 0; s < 2; s++) {
    free(ld->slots[s].x);
    free(ld->slots[s].y);
    free(ld->slots[s].index);
  }
  memset(ld, 0, sizeof *ld);
}

void kn_loader_image_shape(const kn_loader *ld, int *c, int *h, int *w) {
  *c = ld->aug.out_c;
  *h = ld->aug.out_h;
  *w = ld->aug.out_w;
}

int kn_loader_batches(const kn_loader *ld) { return ld->n_batches; }

bool kn_loader_shard(kn_loader *ld, int rank, int count, bool pad) {
  int n = ld->cfg.data->n;
  if (count <= 1) return true;
  ld->full = malloc((size_t)(n ? n : 1) * sizeof *ld->full);
  if (!ld->full) return false;
  ld->cfg.shard_rank = rank, ld->cfg.shard_count = count, ld->cfg.shard_pad = pad;
  ld->n_order = pad ? (n + count - 1) / count : (int)((int64_t)n * (rank + 1) / count - (int64_t)n * rank / count);
  int b = ld->cfg.batch;
  ld->n_batches = ld->cfg.drop_last ? ld->n_order / b : (ld->n_order + b - 1) / b;
  ld->next_batch = ld->n_batches;
  return true;
}

void kn_loader_start_epoch(kn_loader *ld, int epoch) {
  loader_wait_idle(ld);
  int n = ld->cfg.data->n, count = ld->cfg.shard_count, rank = ld->cfg.shard_rank;
  int32_t *all = count > 1 ? ld->full : ld->order;
  for (int i = 0; i < n; i++) all[i] = i;
  if (ld->cfg.shuffle) {
    kn_rng r;
    kn_rng_init3(&r, ld->cfg.seed, (uint64_t)epoch, UINT64_MAX);
    kn_rng_shuffle(&r, all, n);
  }
  for (int j = 0; count > 1 && j < ld->n_order; j++) /* this rank's shard (kn_loader_shard) */
    ld->order[j] = ld->cfg.shard_pad ? all[(int)(((int64_t)rank + (int64_t)count * j) % n)]
                                     : all[(int)((int64_t)n * rank / count) + j];
  ld->epoch = epoch;
  ld->next_batch = 0;
  ld->ready[0] = ld->ready[1] = -1;
  if (ld->n_batches > 0) loader_post(ld, 0);
}

const kn_batch *kn_loader_next(kn_loader *ld) {
  int b = ld->next_batch;
  if (b >= ld->n_batches) return NULL;
  if (ld->has_thread) {
    pthread_mutex_lock(&ld->mu);
    while (ld->ready[b % 2] != b) pthread_cond_wait(&ld->cv, &ld->mu);
    pthread_mutex_unlock(&ld->mu);
    if (b + 1 < ld->n_batches) loader_post(ld, b + 1); /* into the slot the caller just released */
  } else {
    loader_build(ld, b);
    ld->ready[b % 2] = b;
  }
  ld->next_batch = b + 1;
  return &ld->slots[b % 2];
}
