/* kn_session.c — a live model: regions, initialisation, entry points, weights import/export
 * (see kn_session.h). */
#include "kn_session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_rng.h"

/* Emitted by `kiln compile --weights` (compiler/driver/ship.c); absent otherwise. */
extern const uint8_t kn_embedded_weights[] __attribute__((weak));
extern const uint8_t kn_embedded_weights_end[] __attribute__((weak));

static const char *const optim_suffixes[] = {".momentum_buffer", ".exp_avg", ".exp_avg_sq"};

static uint8_t *region_alloc(int64_t bytes) {
  size_t n = (size_t)((bytes + KN_ABI_ALIGN - 1) / KN_ABI_ALIGN * KN_ABI_ALIGN);
  if (n == 0) n = KN_ABI_ALIGN;
  uint8_t *p = aligned_alloc(KN_ABI_ALIGN, n);
  if (p) memset(p, 0, n);
  return p;
}

static const kn_tensor_desc *entry_role(const kn_entry_desc *e, int role) {
  for (int i = 0; e && i < e->n_tensors; i++)
    if (e->tensors[i].role == role) return &e->tensors[i];
  return NULL;
}

bool kn_session_init(kn_session *s, uint64_t seed, kn_error *err) {
  memset(s, 0, sizeof *s);
  s->entry[KN_SESSION_FORWARD] = kn_model_entry(&kn_model, "forward");
  s->entry[KN_SESSION_TRAIN] = kn_model_entry(&kn_model, "train_step");
  int64_t work = 0;
  for (int k = 0; k < 2; k++) {
    const kn_entry_desc *e = s->entry[k];
    if (!e) continue;
    s->input[k] = entry_role(e, KN_ROLE_INPUT);
    s->labels[k] = entry_role(e, KN_ROLE_LABELS);
    s->output[k] = entry_role(e, KN_ROLE_OUTPUT);
    if (!s->input[k] || s->input[k]->rank != 4 || !s->output[k] || s->output[k]->rank != 2)
      return kn_error_set(err, "entry point '%s' lacks an [N,C,H,W] input or an [N,K] output", e->name);
    if (e->work_size > work) work = e->work_size;
  }
  const kn_entry_desc *t = s->entry[KN_SESSION_TRAIN];
  if (t) {
    s->loss = entry_role(t, KN_ROLE_LOSS);
    s->lr = entry_role(t, KN_ROLE_LR);
    s->step = entry_role(t, KN_ROLE_STEP);
    if (!s->labels[KN_SESSION_TRAIN]) return kn_error_set(err, "entry point 'train_step' has no labels input");
  }
  const kn_tensor_desc *in = s->input[0] ? s->input[0] : s->input[1];
  if (!in) return kn_error_set(err, "model '%s' has no entry point 'forward' or 'train_step'", kn_model.name);
  s->batch = (int)in->dims[0];
  s->in_c = (int)in->dims[1], s->in_h = (int)in->dims[2], s->in_w = (int)in->dims[3];
  s->classes = (int)(s->output[0] ? s->output[0] : s->output[1])->dims[1];
  s->persist = region_alloc(kn_model.persist_size);
  s->work = region_alloc(work);
  if (!s->persist || !s->work) {
    kn_session_free(s);
    return kn_error_set(err, "cannot allocate %lld + %lld bytes for the model", (long long)kn_model.persist_size,
                        (long long)work);
  }
  kn_session_reset(s, seed);
  return true;
}

void kn_session_free(kn_session *s) {
  free(s->persist);
  free(s->work);
  memset(s, 0, sizeof *s);
}

/* Elements per output unit of the weight that parameter t belongs to ("fc.bias" -> "fc.weight"). */
static int64_t fan_in_of(const kn_tensor_desc *t) {
  const kn_tensor_desc *w = t;
  size_t n = strlen(t->name);
  if (t->rank == 1 && n > 5 && !strcmp(t->name + n - 5, ".bias")) {
    char name[512];
    snprintf(name, sizeof name, "%.*sweight", (int)(n - 4), t->name);
    const kn_tensor_desc *c = kn_model_tensor(&kn_model, NULL, name);
    if (c && c->rank > 1) w = c;
  }
  int64_t fan = 1;
  for (int i = 1; i < w->rank; i++) fan *= w->dims[i];
  return w->rank > 1 ? fan : w->dims[0];
}

void kn_session_reset(kn_session *s, uint64_t seed) {
  for (int i = 0; i < kn_model.n_persist; i++) {
    const kn_tensor_desc *t = &kn_model.persist[i];
    float *d = kn_tensor_data(t, s->persist, s->work);
    int64_t n = kn_tensor_numel(t);
    kn_rng r;
    kn_rng_init3(&r, seed, 0x1417, (uint64_t)i); /* one stream per tensor */
    double bound = 1.0 / sqrt((double)fan_in_of(t));
    for (int64_t k = 0; k < n; k++) {
      if (t->role == KN_ROLE_CONST) d[k] = t->fill;
      else if (t->init >= 2) d[k] = (float)kn_rng_uniform_range(&r, -bound, bound);
      else d[k] = t->init == 1 ? 1.0f : 0.0f;
    }
  }
  kn_model_persist_to_device(s->persist); /* GPU builds: the device copy is stale now */
}

float *kn_session_input(kn_session *s, kn_session_entry e) {
  return s->input[e] ? kn_tensor_data(s->input[e], s->persist, s->work) : NULL;
}

int32_t *kn_session_labels(kn_session *s, kn_session_entry e) {
  return s->labels[e] ? kn_tensor_data(s->labels[e], s->persist, s->work) : NULL;
}

const float *kn_session_output(kn_session *s, kn_session_entry e) {
  return kn_tensor_data(s->output[e], s->persist, s->work);
}

bool kn_session_forward(kn_session *s, kn_error *err) {
  const kn_entry_desc *e = s->entry[KN_SESSION_FORWARD];
  if (!e) return kn_error_set(err, "this executable was compiled without the 'forward' entry point");
  /* The forward graph may still take labels (unused); keep them in range. */
  int32_t *y = kn_session_labels(s, KN_SESSION_FORWARD);
  if (y) memset(y, 0, (size_t)kn_tensor_bytes(s->labels[KN_SESSION_FORWARD]));
  e->fn(s->persist, s->work);
  return true;
}

static void set_scalar(kn_session *s, const kn_tensor_desc *t, double v) {
  if (!t) return;
  void *d = kn_tensor_data(t, s->persist, s->work);
  if (t->dtype == KN_TDT_I32) *(int32_t *)d = (int32_t)v;
  else *(float *)d = (float)v;
}

float kn_session_train_step(kn_session *s, double lr, int64_t step) {
  set_scalar(s, s->lr, lr);
  set_scalar(s, s->step, (double)step);
  s->entry[KN_SESSION_TRAIN]->fn(s->persist, s->work);
  return s->loss ? *(const float *)kn_tensor_data(s->loss, s->persist, s->work) : NAN;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n > m && !strcmp(s + n - m, suffix);
}

/* True when name is "<a model PARAM>.<optimizer suffix>". */
static bool optimizer_name(const char *name) {
  for (size_t k = 0; k < sizeof optim_suffixes / sizeof optim_suffixes[0]; k++) {
    if (!ends_with(name, optim_suffixes[k])) continue;
    char base[512];
    snprintf(base, sizeof base, "%.*s", (int)(strlen(name) - strlen(optim_suffixes[k])), name);
    const kn_tensor_desc *p = kn_model_tensor(&kn_model, NULL, base);
    if (p && p->role == KN_ROLE_PARAM) return true;
  }
  return false;
}

bool kn_session_is_optimizer_state(const kn_tensor_desc *t) {
  return t->role == KN_ROLE_STATE && optimizer_name(t->name);
}

static bool is_weight(const kn_tensor_desc *t) {
  return t->role == KN_ROLE_PARAM || (t->role == KN_ROLE_STATE && !kn_session_is_optimizer_state(t));
}

static bool same_shape(const kn_st_tensor *x, const kn_tensor_desc *t) {
  if (x->ndim != t->rank) return false;
  for (int i = 0; i < t->rank; i++)
    if (x->shape[i] != t->dims[i]) return false;
  return true;
}

static void shape_str(char *buf, size_t n, int rank, const int64_t *dims) {
  size_t len = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < rank && len < n; i++) len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? ", " : "", (long long)dims[i]);
  if (len < n) snprintf(buf + len, n - len, "]");
}

/* A list of names in an error message: the first few, then a count. */
typedef struct {
  char text[400];
  int n;
} name_list;

static void list_add(name_list *l, const char *item) {
  if (l->n++ < 4) {
    size_t len = strlen(l->text);
    snprintf(l->text + len, sizeof l->text - len, "%s%s", len ? ", " : "", item);
  }
}

static void list_end(name_list *l) {
  size_t len = strlen(l->text);
  if (l->n > 4) snprintf(l->text + len, sizeof l->text - len, " and %d more", l->n - 4);
}

/* Checks (want_all: every non-constant persist tensor; else the weights) and copies. */
static bool load(kn_session *s, const kn_st_file *f, const char *what, bool want_all, kn_error *err) {
  name_list missing = {{0}, 0}, extra = {{0}, 0}, shape = {{0}, 0};
  for (int i = 0; i < kn_model.n_persist; i++) {
    const kn_tensor_desc *t = &kn_model.persist[i];
    if (t->role == KN_ROLE_CONST || (!want_all && !is_weight(t))) continue;
    const kn_st_tensor *x = kn_st_find(f, t->name);
    if (!x) {
      list_add(&missing, t->name);
    } else if (!same_shape(x, t)) {
      char a[96], b[96], item[320];
      shape_str(a, sizeof a, x->ndim, x->shape);
      shape_str(b, sizeof b, t->rank, t->dims);
      snprintf(item, sizeof item, "%s (file %s, model %s)", t->name, a, b);
      list_add(&shape, item);
    }
  }
  for (int i = 0; i < f->n; i++) {
    const char *name = f->tensors[i].name;
    const kn_tensor_desc *t = kn_model_tensor(&kn_model, NULL, name);
    if (t && t->role != KN_ROLE_CONST && (want_all || is_weight(t))) continue;
    if (!want_all && (ends_with(name, ".num_batches_tracked") || optimizer_name(name))) continue;
    list_add(&extra, name);
  }
  if (missing.n || extra.n || shape.n) {
    list_end(&missing), list_end(&extra), list_end(&shape);
    return kn_error_set(err, "%s does not fit model '%s':%s%s%s%s%s%s%s%s%s", what, kn_model.name,
                        missing.n ? " missing " : "", missing.text, missing.n && (extra.n || shape.n) ? ";" : "",
                        extra.n ? " extra (not in the model) " : "", extra.text, extra.n && shape.n ? ";" : "",
                        shape.n ? " wrong shape " : "", shape.text, "");
  }
  kn_model_persist_to_host(s->persist); /* GPU builds: the untouched tensors keep the device's values */
  for (int i = 0; i < kn_model.n_persist; i++) {
    const kn_tensor_desc *t = &kn_model.persist[i];
    if (t->role == KN_ROLE_CONST || (!want_all && !is_weight(t))) continue;
    kn_error e = {{0}};
    if (!kn_st_copy_f32(f, t->name, t->rank, t->dims, kn_tensor_data(t, s->persist, s->work), &e))
      return kn_error_set(err, "%s: %s", what, e.msg);
  }
  kn_model_persist_to_device(s->persist);
  return true;
}

bool kn_session_import(kn_session *s, const kn_st_file *f, const char *what, kn_error *err) {
  return load(s, f, what, false, err);
}

bool kn_session_load_all(kn_session *s, const kn_st_file *f, const char *what, kn_error *err) {
  return load(s, f, what, true, err);
}

bool kn_session_add_tensors(kn_session *s, kn_st_writer *w, bool all, kn_error *err) {
  kn_model_persist_to_host(s->persist); /* GPU builds: the device holds the trained values */
  for (int i = 0; i < kn_model.n_persist; i++) {
    const kn_tensor_desc *t = &kn_model.persist[i];
    if (t->role == KN_ROLE_CONST || (!all && !is_weight(t))) continue;
    if (!kn_st_writer_add(w, t->name, KN_ST_F32, t->rank, t->dims, kn_tensor_data(t, s->persist, s->work), err))
      return false;
  }
  return true;
}

const char *kn_session_nonfinite(kn_session *s, int64_t *count) {
  kn_model_persist_to_host(s->persist);
  for (int i = 0; i < kn_model.n_persist; i++) {
    const kn_tensor_desc *t = &kn_model.persist[i];
    if (t->role == KN_ROLE_CONST || t->dtype != KN_TDT_F32) continue;
    const float *v = kn_tensor_data(t, s->persist, s->work);
    int64_t n = kn_tensor_numel(t), bad = 0;
    for (int64_t k = 0; k < n; k++) bad += !isfinite(v[k]);
    if (bad) {
      *count = bad;
      return t->name;
    }
  }
  *count = 0;
  return NULL;
}

int kn_session_embedded(kn_st_file *f, kn_error *err) {
  if (!kn_embedded_weights || !kn_embedded_weights_end) return 0;
  size_t n = (size_t)(kn_embedded_weights_end - kn_embedded_weights);
  return kn_st_parse(f, kn_embedded_weights, n, "embedded weights", err) ? 1 : -1;
}
