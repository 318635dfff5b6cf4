/* kn_train_dist.h — what the train command does differently with several ranks (kn_dist.h,
 * docs/distributed.md): the start-up agreement between ranks and the sharded loaders. Every
 * function is a no-op (true) in a single-process run. */
#ifndef KN_TRAIN_DIST_H
#define KN_TRAIN_DIST_H

#include <stdbool.h>

#include "kn_checkpoint.h"
#include "kn_error.h"
#include "kn_loader.h"
#include "kn_session.h"

/* At start, after the session and its starting point (fresh, --weights or --resume) are set up:
 * refuses a GPU build (no NCCL lowering yet), checks that every rank runs the same executable
 * (a hash of the model descriptor: name, batch, target, every tensor table) with the same run
 * options (batch, seed, epochs, lr, schedule, starting epoch and step), then gives every rank
 * rank 0's persist region (weights, running statistics, optimizer state). */
bool kn_train_dist_start(kn_session *s, const kn_ckpt_meta *m, kn_error *err);
/* Shards the training loader (padded, interleaved) and the test loader (contiguous blocks). */
bool kn_train_dist_shard(kn_loader *train, kn_loader *test, kn_error *err);
/* Sums an epoch's training statistics (loss sum, images, correct) over ranks. */
void kn_train_dist_epoch_sums(double *loss_sum, int64_t *seen, int64_t *correct);
/* Rank 0 prints the epoch's gradient all-reduce times (blocked in waits vs in flight). */
void kn_train_dist_report(double epoch_s);

#endif
