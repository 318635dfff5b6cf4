/* kn_checkpoint.c — writing and reading checkpoints and weights files (see kn_checkpoint.h). */
#include "kn_checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_safetensors.h"
#include "kn_traincfg.h"

static void meta_int(kn_st_writer *w, const char *key, long long v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", v);
  kn_st_writer_set_meta(w, key, buf);
}

static void meta_double(kn_st_writer *w, const char *key, double v) {
  char buf[40];
  snprintf(buf, sizeof buf, "%.17g", v);
  kn_st_writer_set_meta(w, key, buf);
}

bool kn_ckpt_save(kn_session *s, const char *path, const kn_ckpt_meta *m, const char (*names)[KN_DATASET_NAME_LEN],
                  bool all, kn_error *err) {
  /* A checkpoint with NaN or inf is never written: the previous file stays the last good one. */
  int64_t bad;
  const char *t = kn_session_nonfinite(s, &bad);
  if (t)
    return kn_error_set(err, "not writing %s: tensor '%s' has %lld non-finite values (training diverged)", path, t,
                        (long long)bad);
  kn_st_writer w;
  kn_st_writer_init(&w);
  bool ok = kn_session_add_tensors(s, &w, all, err);
  kn_st_writer_set_meta(&w, "format", all ? "kiln-checkpoint" : "kiln-weights");
  kn_st_writer_set_meta(&w, "version", "1");
  kn_st_writer_set_meta(&w, "model", kn_model.name);
  meta_int(&w, "epoch", m->epoch);
  meta_int(&w, "epochs", m->epochs);
  meta_int(&w, "step", (long long)m->step);
  char buf[64];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)m->seed);
  kn_st_writer_set_meta(&w, "seed", buf);
  snprintf(buf, sizeof buf, "seed=%llu epoch=%d", (unsigned long long)m->seed, m->epoch);
  kn_st_writer_set_meta(&w, "rng", buf);
  meta_int(&w, "batch", m->batch);
  meta_double(&w, "lr", m->lr);
  kn_st_writer_set_meta(&w, "schedule", kn_sched_name((kn_rt_sched)m->schedule));
  meta_int(&w, "warmup_epochs", m->warmup_epochs);
  meta_double(&w, "best_acc", m->best_acc);
  meta_int(&w, "best_epoch", m->best_epoch);
  if (names) {
    size_t cap = (size_t)s->classes * KN_DATASET_NAME_LEN + 1, len = 0;
    char *joined = calloc(cap, 1);
    for (int i = 0; joined && i < s->classes; i++) len += (size_t)snprintf(joined + len, cap - len, "%s%s", i ? "," : "", names[i]);
    if (joined) kn_st_writer_set_meta(&w, "classes", joined);
    free(joined);
  }
  ok = ok && kn_st_writer_write(&w, path, err);
  kn_st_writer_free(&w);
  return ok;
}

/* A required integer (or double) metadata value. */
static bool get_num(const kn_st_file *f, const char *path, const char *key, double *v, kn_error *err) {
  const char *s = kn_st_meta(f, key);
  char *end;
  errno = 0;
  if (s) *v = strtod(s, &end);
  if (!s || errno || end == s || *end)
    return kn_error_set(err, "%s: checkpoint metadata '%s' is %s", path, key, s ? "not a number" : "missing");
  return true;
}

bool kn_ckpt_load(kn_session *s, const char *path, kn_ckpt_meta *m, kn_error *err) {
  kn_st_file f;
  if (!kn_st_read(&f, path, err)) return false;
  const char *fmt = kn_st_meta(&f, "format"), *model = kn_st_meta(&f, "model");
  bool ok = true;
  if (!fmt || strcmp(fmt, "kiln-checkpoint"))
    ok = kn_error_set(err, "%s is not a kiln checkpoint (format '%s'); use --weights for weights files", path,
                      fmt ? fmt : "none");
  else if (!model || strcmp(model, kn_model.name))
    ok = kn_error_set(err, "%s is a checkpoint of model '%s', this is '%s'", path, model ? model : "?", kn_model.name);
  double v[9];
  static const char *const keys[] = {"epoch", "epochs", "step", "seed", "batch", "lr", "warmup_epochs", "best_acc", "best_epoch"};
  for (int i = 0; ok && i < 9; i++) ok = get_num(&f, path, keys[i], &v[i], err);
  /* Ranges before anything is used: a resumed run trusts these (epoch 1e20 would wrap, lr nan
   * would look like divergence). Integers must be whole; epoch, warmup and best_epoch lie within
   * epochs; batch within the compiled batch. */
  const double hi[9] = {v[1], 1e6, 9007199254740992.0, 18446744073709551615.0, s->batch, 1000, v[1], 1, v[0]};
  const double lo[9] = {0, 1, 0, 0, 1, 0, 0, -1, 0};
  for (int k = 0; ok && k < 9; k++) {
    int i = k < 2 ? 1 - k : k; /* epochs first: epoch and warmup are checked against it */
    bool whole = i != 5 && i != 7;
    if (!isfinite(v[i]) || v[i] < lo[i] || v[i] > hi[i] || (whole && v[i] != floor(v[i])) || (i == 5 && v[i] <= 0))
      ok = kn_error_set(err, "%s: checkpoint metadata '%s' = %s is out of range (allowed range is %s%g to %g%s)", path,
                        keys[i], kn_st_meta(&f, keys[i]), i == 5 ? "above " : "", lo[i], hi[i],
                        whole ? ", whole numbers" : "");
  }
  const char *seed = kn_st_meta(&f, "seed");
  for (const char *p = seed; ok && *p; p++)
    if (*p < '0' || *p > '9') ok = kn_error_set(err, "%s: checkpoint metadata 'seed' = %s is not a whole number", path, seed);
  const char *sched = kn_st_meta(&f, "schedule");
  int sc = sched ? kn_sched_parse(sched) : -1;
  if (ok && sc < 0) ok = kn_error_set(err, "%s: checkpoint metadata 'schedule' is missing or unknown", path);
  ok = ok && kn_session_load_all(s, &f, path, err);
  if (ok) {
    *m = (kn_ckpt_meta){.epoch = (int)v[0], .epochs = (int)v[1], .step = (int64_t)v[2],
                        .seed = strtoull(seed, NULL, 10), .batch = (int)v[4], .lr = v[5], .schedule = sc,
                        .warmup_epochs = (int)v[6], .best_acc = v[7], .best_epoch = (int)v[8]};
  }
  kn_st_free(&f);
  return ok;
}
