/* kn_cmd_eval.c — evaluation on a data set: the loop the training run calls every eval_every
 * epochs, and the `eval` command (accuracy, per-class accuracy, confusion matrix). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_commands.h"
#include "kn_confusion.h"
#include "kn_dist.h"
#include "kn_loader.h"
#include "kn_log.h"
#include "kn_traincfg.h"

bool kn_loader_for(kn_loader *ld, const kn_dataset *ds, const kn_session *s, bool train, int batch, uint64_t seed,
                   int threads, kn_error *err) {
  const kn_rt_train_config *c = kn_traincfg_get();
  kn_loader_config lc = {.data = ds, .steps = train ? c->train_aug : c->test_aug,
                         .n_steps = train ? c->n_train_aug : c->n_test_aug, .batch = batch, .shuffle = train,
                         .seed = seed, .threads = threads};
  if (!kn_loader_init(ld, &lc, err)) return false;
  int ch, h, w;
  kn_loader_image_shape(ld, &ch, &h, &w);
  if (ch != s->in_c || h != s->in_h || w != s->in_w) {
    kn_loader_free(ld);
    return kn_error_set(err, "the %s pipeline gives %dx%dx%d images but the model takes %dx%dx%d (compile with a matching --input)",
                        train ? "training" : "test", ch, h, w, s->in_c, s->in_h, s->in_w);
  }
  return true;
}

bool kn_evaluate(kn_session *s, kn_loader *ld, kn_confusion *cm, double *loss, bool progress, kn_error *err) {
  kn_loader_start_epoch(ld, 0);
  size_t img = (size_t)s->in_c * (size_t)s->in_h * (size_t)s->in_w;
  float *x = kn_session_input(s, KN_SESSION_FORWARD);
  double sum = 0;
  int64_t seen = 0, correct = 0;
  kn_progress pr;
  if (progress) kn_progress_init(&pr, stderr, "eval", ld->n_order, KN_PROGRESS_AUTO); /* this rank's images */
  const kn_batch *b;
  while ((b = kn_loader_next(ld))) {
    memcpy(x, b->x, sizeof(float) * img * (size_t)b->n);
    memset(x + img * (size_t)b->n, 0, sizeof(float) * img * (size_t)(s->batch - b->n));
    if (!kn_session_forward(s, err)) return false;
    kn_score_batch(kn_session_output(s, KN_SESSION_FORWARD), b->y, b->n, s->classes, &sum, &correct, cm);
    seen += b->n;
    if (progress) kn_progress_update(&pr, seen, sum / (double)seen, (double)correct / (double)seen);
  }
  if (progress) kn_progress_finish(&pr);
  if (ld->cfg.shard_count > 1) { /* a shard of the test set (data-parallel training): sum over ranks */
    double t[2] = {sum, (double)seen};
    kn_dist_sum_f64(t, 2);
    kn_dist_sum_i64(cm->m, cm->k * cm->k);
    sum = t[0], seen = (int64_t)t[1];
  }
  *loss = seen ? sum / (double)seen : NAN;
  return true;
}

int kn_cmd_eval(int argc, char **argv) {
  const char *data = NULL, *weights = NULL;
  int limit = KN_OPT_UNSET, threads = KN_OPT_UNSET;
  double val_split = NAN;
  bool quiet = false;
  const kn_opt opts[] = {
      {"data", KN_OPT_STR, &data, "DIR", "CIFAR-10 binary directory (test_batch.bin) or image folder (DIR/<class>/*.png|jpg, or DIR/val/<class>/...); default: the synthetic test set"},
      {"val-split", KN_OPT_DOUBLE, &val_split, "F", "image folder without train/ and val/: the last F of each class is the test split (default 0.2)"},
      {"weights", KN_OPT_STR, &weights, "FILE", "weights or checkpoint (safetensors); default: embedded or spec weights"},
      {"limit", KN_OPT_INT, &limit, "N", "evaluate only the first N images"},
      {"threads", KN_OPT_INT, &threads, "N", "threads for the model and the data pipeline"},
      {"quiet", KN_OPT_FLAG, &quiet, NULL, "no progress display"},
  };
  int rc = kn_opts_parse("eval", "[options]  (accuracy, per-class accuracy, confusion matrix on the test split)", opts,
                         (int)(sizeof opts / sizeof opts[0]), argc, argv, NULL, 0, NULL);
  if (rc >= 0) return rc;
  const kn_int_range ranges[] = {{"limit", &limit, 1, INT_MAX, 0}, {"threads", &threads, 1, 1024, 0}};
  if ((rc = kn_opts_check_ints("eval", ranges, 2)) >= 0) return rc;
  if ((rc = kn_opts_check_double("eval", "val-split", val_split, 0, 0.9)) >= 0) return rc;
  if (!isnan(val_split)) kn_data_set_val_split(val_split);
  kn_threads_apply(threads);
  kn_error err = {{0}};
  kn_session s;
  kn_dataset ds = {0};
  kn_loader ld;
  kn_confusion cm = {0};
  bool have_ld = false;
  if (!kn_session_init(&s, 42, &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  bool ok = kn_weights_load(&s, weights, NULL, false, &err) && kn_data_open(&ds, data, false, limit, &s, &err) &&
            (have_ld = kn_loader_for(&ld, &ds, &s, false, s.batch, 0, threads, &err)) &&
            kn_confusion_init(&cm, s.classes, &err);
  double loss = NAN;
  ok = ok && kn_evaluate(&s, &ld, &cm, &loss, !quiet, &err);
  if (ok) {
    const char *names[KN_DATASET_MAX_CLASSES];
    for (int i = 0; i < s.classes; i++) names[i] = i < ds.num_classes ? ds.class_names[i] : "?";
    printf("model %s on %s: %d images\n", kn_model.name, data ? data : "the synthetic test set", ds.n);
    printf("loss %.4f\n", loss);
    kn_confusion_print(&cm, stdout, names);
  } else {
    fprintf(stderr, "error: %s\n", err.msg);
  }
  kn_confusion_free(&cm);
  if (have_ld) kn_loader_free(&ld);
  kn_dataset_free(&ds);
  kn_session_free(&s);
  return ok ? 0 : 1;
}
