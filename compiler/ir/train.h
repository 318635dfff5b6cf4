/* train.h — the `train:` section of a spec, validated by the spec loader and read by autodiff
 * (optimizer, frozen scopes), the backends (batch size) and the generated executable's runtime
 * (epochs, schedule, augmentation, initial weights).
 *
 * Defaults are PyTorch's and the write-up's; see docs/spec.md for every key.
 */
#ifndef KN_TRAIN_H
#define KN_TRAIN_H

#include <stdbool.h>

typedef enum { KN_OPTIM_SGD, KN_OPTIM_ADAM, KN_OPTIM_ADAMW } kn_optim_kind;
typedef enum { KN_SCHED_CONSTANT, KN_SCHED_STEP, KN_SCHED_COSINE } kn_sched_kind;
typedef enum { KN_BN_FROZEN_BATCH, KN_BN_FROZEN_EVAL } kn_bn_frozen_mode;

/* One augmentation step, applied in order to each training image (uint8 HWC in, float CHW out). */
typedef enum {
  KN_AUG_RESIZE,              /* size[2], bilinear */
  KN_AUG_HFLIP,               /* p */
  KN_AUG_RANDOM_RESIZED_CROP, /* size[2], scale[2], ratio[2] */
  KN_AUG_TO_TENSOR,           /* uint8 -> float in [0, 1] */
  KN_AUG_NORMALIZE,           /* mean[3], std[3] */
  KN_AUG_CENTER_CROP,         /* size[2]: the central window, torchvision CenterCrop */
  KN_AUG_RESIZE_SHORTER       /* size[0]: shorter edge to size[0], aspect kept (`resize: n`) */
} kn_aug_kind;

typedef struct kn_aug_step {
  kn_aug_kind kind;
  int size[2];      /* RESIZE, RANDOM_RESIZED_CROP, CENTER_CROP: height, width; RESIZE_SHORTER: n, n */
  double p;         /* HFLIP */
  double scale[2];  /* RANDOM_RESIZED_CROP */
  double ratio[2];  /* RANDOM_RESIZED_CROP */
  double mean[3], std[3]; /* NORMALIZE */
} kn_aug_step;

#define KN_MAX_AUG 8
#define KN_MAX_SCOPES 32

typedef struct kn_train_config {
  /* optimizer */
  kn_optim_kind optim;   /* default SGD */
  double lr;             /* default 0.01 */
  double momentum;       /* SGD, default 0.9 */
  double dampening;      /* SGD, default 0 */
  double weight_decay;   /* default 0 */
  bool nesterov;         /* SGD, default false */
  double beta1, beta2, eps; /* Adam/AdamW: 0.9, 0.999, 1e-8 */
  /* learning-rate schedule (evaluated by the runtime; lr is a run-time input) */
  kn_sched_kind sched;   /* default constant */
  int step_size;         /* STEP: epochs between decays */
  double gamma;          /* STEP: decay factor, default 0.1 */
  double min_lr;         /* COSINE: floor, default 0 */
  int warmup_epochs;     /* linear warm-up from lr/10, default 0 */
  /* loop */
  int batch_size;        /* default 32; also the compiled batch N */
  int epochs;            /* default 10 */
  int eval_every;        /* epochs between evaluations, default 1 */
  /* data */
  int input_size[2];     /* network input H, W; default 224x224 */
  int num_classes;       /* default 10 */
  kn_aug_step train_aug[KN_MAX_AUG]; /* training pipeline */
  int n_train_aug;
  kn_aug_step test_aug[KN_MAX_AUG];  /* evaluation pipeline (deterministic steps only) */
  int n_test_aug;
  /* what learns */
  const char *freeze[KN_MAX_SCOPES];   /* scope prefixes ("layer1", "*" for all); owned by the spec */
  int n_freeze;
  const char *unfreeze[KN_MAX_SCOPES]; /* exceptions to freeze ("fc") */
  int n_unfreeze;
  kn_bn_frozen_mode bn_frozen;         /* BatchNorm inside a frozen scope; default batch (PyTorch) */
  const char *weights;                 /* initial weights (safetensors), NULL for random init */
  const char *init_from;               /* a foreign checkpoint loaded where names and shapes match
                                          (runtime/exe/kn_init_from.h), NULL for none */
  const char *loss;                    /* "nll" */
} kn_train_config;

/* Fills every field with its default. */
void kn_train_config_defaults(kn_train_config *c);
/* True when a parameter or node scope name lies in a frozen scope (prefix match on '.' boundaries). */
bool kn_train_is_frozen(const kn_train_config *c, const char *name);

#endif
