/* kn_loader.h — the batch loader: per-epoch seeded shuffling, the augmentation pipeline run on a
 * thread pool, and double-buffered prefetch (the next batch is prepared on a background thread
 * while the training step consumes the current one).
 *
 *   kn_loader_config cfg = {.data = &train, .steps = aug, .n_steps = n_aug, .batch = 32,
 *                           .shuffle = true, .seed = 42, .threads = 4};
 *   kn_loader ld;
 *   if (!kn_loader_init(&ld, &cfg, &err)) ...
 *   for (int epoch = 0; epoch < epochs; epoch++) {
 *     kn_loader_start_epoch(&ld, epoch);
 *     const kn_batch *b;
 *     while ((b = kn_loader_next(&ld))) train_step(b->x, b->y, b->n);  // b->n < batch on the last one
 *   }
 *   kn_loader_free(&ld);
 *
 * Determinism: the order of epoch e is a Fisher-Yates shuffle from kn_rng_init3(seed, e, ~0);
 * image k's augmentation draws from kn_rng_init3(seed, e, k) (k = its index in the data set), so
 * batches are bit-identical whatever the number of threads. Without shuffle the order is 0..n-1.
 * A batch is valid until the next kn_loader_next / kn_loader_start_epoch call.
 */
#ifndef KN_LOADER_H
#define KN_LOADER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "kn_aug.h"
#include "kn_dataset.h"
#include "kn_pool.h"

typedef struct kn_loader_config {
  const kn_dataset *data;      /* borrowed; must outlive the loader */
  const kn_rt_aug_step *steps; /* copied */
  int n_steps;
  int batch;                   /* images per batch (>= 1) */
  bool shuffle;                /* new seeded order every epoch */
  bool drop_last;              /* skip the final partial batch */
  uint64_t seed;
  int threads;                 /* augmentation threads (<= 0: online CPUs) */
  bool sync;                   /* no prefetch thread: each batch is built inside kn_loader_next */
  int shard_rank, shard_count; /* set by kn_loader_shard; count 0 or 1: the whole set */
  bool shard_pad;
} kn_loader_config;

/* A partial batch is padded to `batch` images: zero pixels, label 0, index -1; only the first n
 * count (mask the rest out of the loss and accuracy, or run the model on n images). */
typedef struct kn_batch {
  float *x;       /* [batch][out_c][out_h][out_w], the first n images valid */
  int32_t *y;     /* [batch] labels */
  int32_t *index; /* [batch] data-set index of each image, -1 for padding */
  int n;          /* images in this batch (the last one may be partial) */
  int number;     /* batch number within the epoch, from 0 */
} kn_batch;

typedef struct kn_loader {
  kn_loader_config cfg;
  kn_aug_pipeline aug;
  kn_pool pool;
  float *scratch;          /* [threads][aug scratch] */
  size_t scratch_floats;   /* per thread */
  int32_t *order;          /* [data->n] this epoch's order (of this rank's shard: n_order) */
  int32_t *full;           /* [data->n] the whole set's order, when sharded */
  int n_order;
  int epoch;
  int n_batches;           /* per epoch */
  int next_batch;          /* the batch kn_loader_next returns next */
  kn_batch slots[2];       /* batch b lives in slots[b % 2] */
  int ready[2];            /* batch number held by each slot, -1 when none */
  /* prefetch thread */
  pthread_t thread;
  bool has_thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int request;             /* batch to build, -1 when idle */
  bool busy;
  bool stop;
} kn_loader;

/* Validates the pipeline against the data set's image shape, allocates the two batch buffers and
 * starts the threads. */
bool kn_loader_init(kn_loader *ld, const kn_loader_config *cfg, kn_error *err);
void kn_loader_free(kn_loader *ld);
/* Output tensor shape of one image (C, H, W). */
void kn_loader_image_shape(const kn_loader *ld, int *c, int *h, int *w);
/* Batches per epoch (counting a final partial batch unless drop_last). */
int kn_loader_batches(const kn_loader *ld);
/* Data-parallel training (docs/distributed.md): this loader yields only shard `rank` of `count`.
 * pad (training, PyTorch's DistributedSampler with drop_last = false): every epoch's shared
 * shuffle is padded to a multiple of count by repeating its first images and rank r takes
 * positions r, r + count, r + 2 count, ...; so every rank has ceil(n / count) images and the same
 * number of batches, and count ranks with batch B see the images one rank with batch count x B
 * would. Without pad (evaluation): the contiguous block [r n / count, (r + 1) n / count), no
 * image twice. Call before the first kn_loader_start_epoch; false when out of memory. */
bool kn_loader_shard(kn_loader *ld, int rank, int count, bool pad);
/* Sets up epoch `epoch` (its order) and starts building its first batch. Abandons any batch of
 * the previous epoch that was not consumed. */
void kn_loader_start_epoch(kn_loader *ld, int epoch);
/* The next batch of the epoch, or NULL when the epoch is finished. */
const kn_batch *kn_loader_next(kn_loader *ld);

#endif
