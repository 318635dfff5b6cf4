/* train.c — defaults of the `train:` section and frozen-scope matching. */
#include "train.h"

#include <string.h>

void kn_train_config_defaults(kn_train_config *c) {
  memset(c, 0, sizeof *c);
  c->optim = KN_OPTIM_SGD;
  c->lr = 0.01;
  c->momentum = 0.9;
  c->beta1 = 0.9;
  c->beta2 = 0.999;
  c->eps = 1e-8;
  c->sched = KN_SCHED_CONSTANT;
  c->step_size = 10;
  c->gamma = 0.1;
  c->batch_size = 32;
  c->epochs = 10;
  c->eval_every = 1;
  c->input_size[0] = c->input_size[1] = 224;
  c->num_classes = 10;
  c->bn_frozen = KN_BN_FROZEN_BATCH;
  c->loss = "nll";
  /* The write-up's pipeline. */
  static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  kn_aug_step resize = {.kind = KN_AUG_RESIZE, .size = {224, 224}};
  kn_aug_step flip = {.kind = KN_AUG_HFLIP, .p = 0.5};
  kn_aug_step crop = {.kind = KN_AUG_RANDOM_RESIZED_CROP, .size = {224, 224}, .scale = {0.8, 1.0}, .ratio = {1.0, 1.0}};
  kn_aug_step tt = {.kind = KN_AUG_TO_TENSOR};
  kn_aug_step norm = {.kind = KN_AUG_NORMALIZE};
  memcpy(norm.mean, mean, sizeof mean);
  memcpy(norm.std, std, sizeof std);
  c->train_aug[0] = resize;
  c->train_aug[1] = flip;
  c->train_aug[2] = crop;
  c->train_aug[3] = tt;
  c->train_aug[4] = norm;
  c->n_train_aug = 5;
  c->test_aug[0] = resize;
  c->test_aug[1] = tt;
  c->test_aug[2] = norm;
  c->n_test_aug = 3;
}

static bool in_scope(const char *scope, const char *name) {
  if (strcmp(scope, "*") == 0) return true;
  size_t n = strlen(scope);
  return strncmp(scope, name, n) == 0 && (name[n] == 0 || name[n] == '.');
}

bool kn_train_is_frozen(const kn_train_config *c, const char *name) {
  bool frozen = false;
  for (int i = 0; i < c->n_freeze && !frozen; i++) frozen = in_scope(c->freeze[i], name);
  for (int i = 0; i < c->n_unfreeze && frozen; i++) frozen = !in_scope(c->unfreeze[i], name);
  return frozen;
}
