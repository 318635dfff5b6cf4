/* kn_checkpoint.h — training checkpoints and exported weights, both safetensors with the model's
 * torchvision tensor names.
 *
 * A checkpoint holds every non-constant persist tensor (parameters, BatchNorm running statistics,
 * optimizer buffers) and, in __metadata__, where the run stands:
 *   format "kiln-checkpoint", version "1", model, epoch (epochs completed), epochs (planned),
 *   step (optimizer steps done), seed, batch, lr (base), schedule, warmup_epochs, best_acc,
 *   best_epoch, classes (comma-separated names), rng.
 * The data pipeline has no hidden state to save: the shuffle of epoch e and every augmentation
 * draw derive from (seed, e, image index) (kn_loader.h), so `rng` records "seed=S epoch=E" and a
 * resumed run rebuilds the exact stream from those. Weights files ("best.safetensors") hold the
 * parameters and running statistics only, with format "kiln-weights" and the same metadata.
 * Both are written to a temporary file and renamed (kn_st_writer_write).
 *
 *   kn_ckpt_meta m = {.epoch = 3, ...};
 *   kn_ckpt_save(&session, "run/checkpoint.safetensors", &m, names, true, &err);
 *   kn_ckpt_load(&session, "run/checkpoint.safetensors", &m, &err);
 */
#ifndef KN_CHECKPOINT_H
#define KN_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "kn_dataset.h"
#include "kn_error.h"
#include "kn_session.h"

typedef struct kn_ckpt_meta {
  int epoch;          /* epochs completed */
  int epochs;         /* epochs planned for the run */
  int64_t step;       /* optimizer steps done */
  uint64_t seed;
  int batch;
  double lr;          /* base learning rate */
  int schedule;       /* kn_rt_sched */
  int warmup_epochs;
  double best_acc;    /* best validation accuracy so far, -1 when none */
  int best_epoch;
} kn_ckpt_meta;

/* all: a checkpoint (every persist tensor) or a weights file (params + running statistics).
 * names: num_classes class names stored as metadata (may be NULL). */
bool kn_ckpt_save(kn_session *s, const char *path, const kn_ckpt_meta *m, const char (*names)[KN_DATASET_NAME_LEN],
                  bool all, kn_error *err);
/* Restores every persist tensor and the metadata of a checkpoint written with all = true. */
bool kn_ckpt_load(kn_session *s, const char *path, kn_ckpt_meta *m, kn_error *err);

#endif
