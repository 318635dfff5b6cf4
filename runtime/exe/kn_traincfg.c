/* kn_traincfg.c — parses the embedded train config (see kn_traincfg.h) and computes the
 * learning-rate schedule. */
#include "kn_traincfg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kilnrt.h"

/* Emitted by `kiln compile` (compiler/driver/ship.c); absent in objects linked by hand. */
extern const char kn_embedded_train_config[] __attribute__((weak));

static const char *const sched_names[] = {"constant", "step", "cosine"};

const char *kn_sched_name(kn_rt_sched s) { return s >= 0 && s <= KN_RT_SCHED_COSINE ? sched_names[s] : "?"; }

int kn_sched_parse(const char *name) {
  for (int i = 0; i <= KN_RT_SCHED_COSINE; i++)
    if (!strcmp(name, sched_names[i])) return i;
  return -1;
}

/* The first tensor of a role in the forward entry (else train_step). */
static const kn_tensor_desc *model_tensor(int role) {
  static const char *const entries[] = {"forward", "train_step"};
  for (int k = 0; k < 2; k++) {
    const kn_entry_desc *e = kn_model_entry(&kn_model, entries[k]);
    for (int i = 0; e && i < e->n_tensors; i++)
      if (e->tensors[i].role == role) return &e->tensors[i];
  }
  return NULL;
}

static int default_pipeline(kn_rt_aug_step *s, int h, int w) {
  static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  memset(s, 0, 3 * sizeof *s);
  s[0] = (kn_rt_aug_step){.kind = KN_RT_AUG_RESIZE, .size = {h, w}};
  s[1].kind = KN_RT_AUG_TO_TENSOR;
  s[2].kind = KN_RT_AUG_NORMALIZE;
  memcpy(s[2].mean, mean, sizeof mean);
  memcpy(s[2].std, std, sizeof std);
  return 3;
}

static void from_descriptor(kn_rt_train_config *c) {
  memset(c, 0, sizeof *c);
  snprintf(c->optimizer, sizeof c->optimizer, "sgd");
  c->lr = 0.01;
  c->sched = KN_RT_SCHED_CONSTANT;
  c->step_size = 10;
  c->gamma = 0.1;
  c->batch = kn_model.batch;
  c->epochs = 10;
  c->eval_every = 1;
  const kn_tensor_desc *in = model_tensor(KN_ROLE_INPUT), *out = model_tensor(KN_ROLE_OUTPUT);
  c->input_h = in && in->rank == 4 ? (int)in->dims[2] : 32;
  c->input_w = in && in->rank == 4 ? (int)in->dims[3] : 32;
  c->num_classes = out && out->rank == 2 ? (int)out->dims[1] : 10;
  c->n_train_aug = default_pipeline(c->train_aug, c->input_h, c->input_w);
  c->n_test_aug = default_pipeline(c->test_aug, c->input_h, c->input_w);
}

/* Reads n doubles from s; false when fewer are there or trailing garbage follows. */
static bool numbers(const char *s, double *v, int n) {
  for (int i = 0; i < n; i++) {
    char *end;
    v[i] = strtod(s, &end);
    if (end == s) return false;
    s = end;
  }
  while (*s == ' ' || *s == '\t') s++;
  return *s == 0;
}

static bool parse_aug(kn_rt_aug_step *steps, int *n, const char *rest, kn_error *err) {
  if (*n >= KN_RT_MAX_AUG) return kn_error_set(err, "more than %d augmentation steps", KN_RT_MAX_AUG);
  kn_rt_aug_step s;
  memset(&s, 0, sizeof s);
  char kind[32];
  int used = 0;
  double v[6];
  if (sscanf(rest, "%31s%n", kind, &used) != 1) return kn_error_set(err, "empty augmentation step");
  rest += used;
  bool ok;
  if (!strcmp(kind, "resize")) {
    s.kind = KN_RT_AUG_RESIZE;
    ok = numbers(rest, v, 2);
    s.size[0] = (int)v[0], s.size[1] = (int)v[1];
  } else if (!strcmp(kind, "resize_shorter")) {
    s.kind = KN_RT_AUG_RESIZE_SHORTER;
    ok = numbers(rest, v, 1);
    s.size[0] = s.size[1] = (int)v[0];
  } else if (!strcmp(kind, "center_crop")) {
    s.kind = KN_RT_AUG_CENTER_CROP;
    ok = numbers(rest, v, 2);
    s.size[0] = (int)v[0], s.size[1] = (int)v[1];
  } else if (!strcmp(kind, "hflip")) {
    s.kind = KN_RT_AUG_HFLIP;
    ok = numbers(rest, &s.p, 1);
  } else if (!strcmp(kind, "random_resized_crop")) {
    s.kind = KN_RT_AUG_RANDOM_RESIZED_CROP;
    ok = numbers(rest, v, 6);
    s.size[0] = (int)v[0], s.size[1] = (int)v[1];
    s.scale[0] = v[2], s.scale[1] = v[3], s.ratio[0] = v[4], s.ratio[1] = v[5];
  } else if (!strcmp(kind, "to_tensor")) {
    s.kind = KN_RT_AUG_TO_TENSOR;
    ok = numbers(rest, v, 0);
  } else if (!strcmp(kind, "normalize")) {
    s.kind = KN_RT_AUG_NORMALIZE;
    ok = numbers(rest, v, 6);
    memcpy(s.mean, v, sizeof s.mean);
    memcpy(s.std, v + 3, sizeof s.std);
  } else {
    return kn_error_set(err, "unknown augmentation step '%s'", kind);
  }
  if (!ok) return kn_error_set(err, "bad arguments for augmentation step '%s'", kind);
  steps[(*n)++] = s;
  return true;
}

static bool parse_line(kn_rt_train_config *c, const char *key, const char *rest, kn_error *err) {
  double v[2];
  if (!strcmp(key, "kiln-train-config")) return numbers(rest, v, 1) && v[0] == 1 ? true : kn_error_set(err, "unsupported config version '%s'", rest);
  if (!strcmp(key, "optimizer")) return snprintf(c->optimizer, sizeof c->optimizer, "%s", rest), true;
  if (!strcmp(key, "weights")) return snprintf(c->weights, sizeof c->weights, "%s", rest), true;
  if (!strcmp(key, "init_from")) return snprintf(c->init_from, sizeof c->init_from, "%s", rest), true;
  if (!strcmp(key, "schedule")) {
    int s = kn_sched_parse(rest);
    if (s < 0) return kn_error_set(err, "unknown schedule '%s'", rest);
    c->sched = (kn_rt_sched)s;
    return true;
  }
  if (!strcmp(key, "train_aug")) return parse_aug(c->train_aug, &c->n_train_aug, rest, err);
  if (!strcmp(key, "test_aug")) return parse_aug(c->test_aug, &c->n_test_aug, rest, err);
  if (!strcmp(key, "input")) {
    if (!numbers(rest, v, 2)) return kn_error_set(err, "bad input size '%s'", rest);
    c->input_h = (int)v[0], c->input_w = (int)v[1];
    return true;
  }
  struct { const char *key; double *d; int *i; } scalars[] = {
      {"lr", &c->lr, NULL},           {"gamma", &c->gamma, NULL},       {"min_lr", &c->min_lr, NULL},
      {"step_size", NULL, &c->step_size}, {"warmup_epochs", NULL, &c->warmup_epochs}, {"batch", NULL, &c->batch},
      {"epochs", NULL, &c->epochs},   {"eval_every", NULL, &c->eval_every}, {"num_classes", NULL, &c->num_classes}};
  for (size_t k = 0; k < sizeof scalars / sizeof scalars[0]; k++) {
    if (strcmp(key, scalars[k].key)) continue;
    if (!numbers(rest, v, 1)) return kn_error_set(err, "bad value '%s' for '%s'", rest, key);
    if (scalars[k].d) *scalars[k].d = v[0];
    else *scalars[k].i = (int)v[0];
    return true;
  }
  return kn_error_set(err, "unknown key '%s'", key);
}

bool kn_traincfg_parse(kn_rt_train_config *c, const char *text, kn_error *err) {
  from_descriptor(c);
  bool seen_train = false, seen_test = false;
  for (int lineno = 1; *text; lineno++) {
    const char *nl = strchr(text, '\n');
    size_t len = nl ? (size_t)(nl - text) : strlen(text);
    char line[1200], key[40];
    if (len >= sizeof line) return kn_error_set(err, "train config line %d is too long", lineno);
    memcpy(line, text, len);
    line[len] = 0;
    text += len + (nl ? 1 : 0);
    int used = 0;
    if (sscanf(line, "%39s%n", key, &used) != 1) continue; /* blank line */
    const char *rest = line + used;
    while (*rest == ' ') rest++;
    /* The first pipeline line replaces the descriptor's default pipeline. */
    if (!strcmp(key, "train_aug") && !seen_train) seen_train = true, c->n_train_aug = 0;
    if (!strcmp(key, "test_aug") && !seen_test) seen_test = true, c->n_test_aug = 0;
    kn_error e = {{0}};
    if (!parse_line(c, key, rest, &e)) return kn_error_set(err, "train config line %d: %s", lineno, e.msg);
  }
  if (c->batch < 1 || c->epochs < 0 || c->eval_every < 1 || c->input_h < 1 || c->input_w < 1 || c->num_classes < 1)
    return kn_error_set(err, "train config has a non-positive batch, eval_every, input size or class count");
  return true;
}

bool kn_traincfg_embedded(void) { return kn_embedded_train_config != NULL; }

const kn_rt_train_config *kn_traincfg_get(void) {
  static kn_rt_train_config cfg;
  static bool done;
  if (done) return &cfg;
  kn_error err = {{0}};
  if (!kn_traincfg_parse(&cfg, kn_embedded_train_config ? kn_embedded_train_config : "", &err)) {
    fprintf(stderr, "error: embedded train config: %s\n", err.msg);
    exit(1);
  }
  done = true;
  return &cfg;
}

double kn_sched_lr(const kn_rt_train_config *c, double base, int epochs, double t) {
  double w = c->warmup_epochs;
  if (t < w) return base * (0.1 + 0.9 * t / w);
  double u = t - w;
  switch (c->sched) {
  case KN_RT_SCHED_CONSTANT: return base;
  case KN_RT_SCHED_STEP: return base * pow(c->gamma, floor(u / (c->step_size > 0 ? c->step_size : 1)));
  case KN_RT_SCHED_COSINE: {
    double span = epochs - w;
    if (span <= 0) return base;
    return c->min_lr + (base - c->min_lr) * 0.5 * (1.0 + cos(M_PI * fmin(u / span, 1.0)));
  }
  }
  return base;
}
