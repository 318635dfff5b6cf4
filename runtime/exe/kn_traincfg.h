/* kn_traincfg.h — the spec's `train:` section as the generated executable sees it: defaults for
 * the run-time options (epochs, lr, schedule, batch), the input size, the class count and the
 * augmentation pipelines, plus the learning-rate schedule computed from them.
 *
 * `kiln compile` embeds the config as text in the executable (symbol kn_embedded_train_config,
 * NUL-terminated, see compiler/driver/ship.c). One `key value...` per line, doubles printed with
 * 17 significant digits so they round-trip:
 *
 *   kiln-train-config 1
 *   optimizer sgd            sgd | adam | adamw (informational: the update is compiled in)
 *   lr 0.01
 *   schedule cosine          constant | step | cosine
 *   step_size 10             step: epochs between decays
 *   gamma 0.1                step: decay factor
 *   min_lr 0                 cosine: floor
 *   warmup_epochs 0          linear warm-up from lr/10
 *   batch 32
 *   epochs 20
 *   eval_every 5
 *   input 224 224            H W
 *   num_classes 10
 *   train_aug resize 224 224 | resize_shorter 256 | center_crop H W | hflip P |
 *             random_resized_crop H W S0 S1 R0 R1 | to_tensor |
 *             normalize M0 M1 M2 S0 S1 S2          (one line per step, in order)
 *   test_aug  ... the same for the evaluation / predict pipeline
 *   weights PATH             the spec's initial weights (absent: random initialisation)
 *   init_from PATH           the spec's train.init_from (kn_init_from.h; absent: none)
 *
 * Without an embedded config (an object linked by hand), kn_traincfg_get derives one from the
 * model descriptor: its batch, its input H x W, the class count of its output, SGD lr 0.01, and
 * the pipelines [to_tensor, normalize(ImageNet)] with a resize to the input size in front.
 *
 *   const kn_rt_train_config *c = kn_traincfg_get();
 *   double lr = kn_sched_lr(c, c->lr, epochs, epoch + (double)batch_no / n_batches);
 */
#ifndef KN_TRAINCFG_H
#define KN_TRAINCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "kn_aug.h"
#include "kn_error.h"

typedef enum { KN_RT_SCHED_CONSTANT, KN_RT_SCHED_STEP, KN_RT_SCHED_COSINE } kn_rt_sched;

typedef struct kn_rt_train_config {
  char optimizer[8];   /* "sgd", "adam", "adamw" */
  double lr;
  kn_rt_sched sched;
  int step_size;
  double gamma, min_lr;
  int warmup_epochs;
  int batch, epochs, eval_every;
  int input_h, input_w, num_classes;
  kn_rt_aug_step train_aug[KN_RT_MAX_AUG];
  int n_train_aug;
  kn_rt_aug_step test_aug[KN_RT_MAX_AUG];
  int n_test_aug;
  char weights[1024];  /* "" when none */
  char init_from[1024]; /* "" when none */
} kn_rt_train_config;

/* Parses the text form above into c (every field first set from the model descriptor). */
bool kn_traincfg_parse(kn_rt_train_config *c, const char *text, kn_error *err);
/* The executable's config: the embedded one, or derived from the descriptor. Parsed once; an
 * embedded config that does not parse is fatal (a build bug): the message is printed, exit 1. */
const kn_rt_train_config *kn_traincfg_get(void);
/* Whether the executable carries a train config (kiln compile's executables do; a model object
 * linked by other means, e.g. the codegen test harness, does not). */
bool kn_traincfg_embedded(void);
/* Name of a schedule ("constant", ...) and the reverse (-1 when unknown). */
const char *kn_sched_name(kn_rt_sched s);
int kn_sched_parse(const char *name);
/* Learning rate at fractional epoch t in [0, epochs): warm-up from base/10 to base over
 * warmup_epochs (linear in t), then constant, step (base * gamma^floor((t - warmup) / step_size))
 * or cosine (min_lr + (base - min_lr) * (1 + cos(pi * (t - warmup) / (epochs - warmup))) / 2). */
double kn_sched_lr(const kn_rt_train_config *c, double base, int epochs, double t);

#endif
