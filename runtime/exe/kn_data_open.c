/* kn_data_open.c — opening a data split for train and eval (kn_commands.h): an image folder,
 * CIFAR-10 binaries or the synthetic set. Kept apart from kn_cmd_common.c so that a bundle,
 * which links that file, does not pull in the image decoders (libpng, libjpeg). */
#include <stdio.h>

#include "kn_cifar.h"
#include "kn_commands.h"
#include "kn_imagefolder.h"
#include "kn_synth.h"

#define KN_SYNTH_TRAIN_N 5000
#define KN_SYNTH_TEST_N 1000
#define KN_SYNTH_DATA_SEED 20240601u /* the synthetic set is the same for every --seed */

static double val_split = 0.2; /* image folders without train/ and val/: the test share */

void kn_data_set_val_split(double f) { val_split = f; }

bool kn_data_open(kn_dataset *ds, const char *dir, bool train, int limit, const kn_session *s, kn_error *err) {
  if (dir && kn_imagefolder_detect(dir)) { /* DIR/<class>/<image> (kn_imagefolder.h) */
    int skipped = 0;
    if (!kn_imagefolder_load(ds, dir, train, val_split, s->in_h, s->in_w, &skipped, err)) return false;
    if (skipped)
      fprintf(stderr, "note: %s split of %s: skipped %d file%s that did not decode\n", train ? "train" : "test", dir,
              skipped, skipped == 1 ? "" : "s");
  } else if (dir) {
    if (!kn_cifar_load(ds, dir, train ? KN_CIFAR_TRAIN : KN_CIFAR_TEST, err)) return false;
  } else {
    int h = s->in_h <= 64 ? s->in_h : 32, w = s->in_w <= 64 ? s->in_w : 32;
    if (!kn_synth_init(ds, train ? KN_SYNTH_TRAIN_N : KN_SYNTH_TEST_N, h, w, 3, KN_SYNTH_DATA_SEED,
                       train ? KN_SYNTH_TRAIN : KN_SYNTH_TEST, err))
      return false;
  }
  if (limit > 0 && limit < ds->n) kn_dataset_truncate(ds, limit);
  if (ds->num_classes > s->classes) {
    int k = ds->num_classes;
    kn_dataset_free(ds);
    return kn_error_set(err, "the data set has %d classes but the model outputs %d", k, s->classes);
  }
  return true;
}

