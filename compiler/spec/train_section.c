/* train_section.c — the `train:` section: optimizer, schedule, loop, data pipeline and frozen
 * scopes, validated into a kn_train_config (compiler/ir/train.h). docs/spec.md lists every key. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec_internal.h"
#include "util.h"

static const char *const train_keys[] = {"optimizer", "schedule", "batch_size", "epochs", "eval_every", "input_size",
                                         "num_classes", "loss", "augment", "test_augment", "freeze", "unfreeze",
                                         "bn_frozen", "weights", "init_from", NULL};

/* A scalar `name` or a mapping with `type: name`; returns the type node. */
static kn_sp_node type_of(kn_sp_node v) { return kn_sp_is_map(v) ? kn_sp_map_get(v, "type") : v; }

static int pick(kn_sp *c, kn_sp_node v, const char *key, const char *const *names) {
  if (!kn_sp_is_scalar(v) || kn_sp_is_null(v)) {
    kn_diag_error(c->d, kn_sp_loc(v), NULL, "'%s' must be a name, not %s", key, kn_sp_type_name(v));
    return -1;
  }
  int n = 0;
  for (; names[n]; n++)
    if (!strcmp(names[n], kn_sp_str(v))) return n;
  const char *s = kn_diag_suggest(kn_sp_str(v), names, n);
  char hint[128];
  if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
  else {
    size_t off = (size_t)snprintf(hint, sizeof hint, "one of:");
    for (int i = 0; i < n; i++) off += (size_t)snprintf(hint + off, sizeof hint - off, "%s %s", i ? "," : "", names[i]);
  }
  kn_diag_error(c->d, kn_sp_loc(v), hint, "unknown %s '%s'", key, kn_sp_str(v));
  return -1;
}

static bool optimizer(kn_sp *c, kn_sp_node v, kn_train_config *t) {
  static const char *const kinds[] = {"sgd", "adam", "adamw", NULL};
  static const char *const sgd_keys[] = {"type", "lr", "momentum", "dampening", "weight_decay", "nesterov", NULL};
  static const char *const adam_keys[] = {"type", "lr", "beta1", "beta2", "eps", "weight_decay", NULL};
  kn_sp_node ty = type_of(v);
  if (!ty.n) {
    kn_diag_error(c->d, kn_sp_loc(v), "write optimizer: {type: sgd, lr: 0.01}", "optimizer needs a 'type'");
    return false;
  }
  int k = pick(c, ty, "optimizer", kinds);
  if (k < 0) return false;
  kn_train_config def;
  kn_train_config_defaults(&def);
  t->optim = (kn_optim_kind)k;
  t->lr = k == 0 ? def.lr : 0.001;
  t->momentum = def.momentum;
  t->dampening = def.dampening;
  t->weight_decay = k == 2 ? 0.01 : def.weight_decay;
  t->nesterov = def.nesterov;
  t->beta1 = def.beta1;
  t->beta2 = def.beta2;
  t->eps = def.eps;
  if (!kn_sp_is_map(v)) return true;
  char what[64];
  snprintf(what, sizeof what, "%s optimizer", kinds[k]);
  if (!kn_sp_check_map(v, what, k == 0 ? sgd_keys : adam_keys, c->d)) return false;
  for (int i = 0; i < kn_sp_map_len(v); i++) {
    const char *key = kn_sp_str(kn_sp_map_key(v, i));
    kn_sp_node x = kn_sp_map_val(v, i);
    bool ok = true;
    if (!strcmp(key, "lr")) ok = kn_sp_get_float(x, key, 1e-12, 100, &t->lr, c->d);
    else if (!strcmp(key, "momentum")) ok = kn_sp_get_float(x, key, 0, 0.999999, &t->momentum, c->d);
    else if (!strcmp(key, "dampening")) ok = kn_sp_get_float(x, key, 0, 1, &t->dampening, c->d);
    else if (!strcmp(key, "weight_decay")) ok = kn_sp_get_float(x, key, 0, 1, &t->weight_decay, c->d);
    else if (!strcmp(key, "nesterov")) ok = kn_sp_get_bool(x, key, &t->nesterov, c->d);
    else if (!strcmp(key, "beta1")) ok = kn_sp_get_float(x, key, 0, 0.999999, &t->beta1, c->d);
    else if (!strcmp(key, "beta2")) ok = kn_sp_get_float(x, key, 0, 0.999999, &t->beta2, c->d);
    else if (!strcmp(key, "eps")) ok = kn_sp_get_float(x, key, 1e-30, 1, &t->eps, c->d);
    if (!ok) return false;
  }
  if (t->nesterov && (t->momentum <= 0 || t->dampening != 0)) {
    kn_diag_error(c->d, kn_sp_loc(kn_sp_map_get(v, "nesterov")), "as in PyTorch", "nesterov needs momentum > 0 and dampening 0");
    return false;
  }
  return true;
}

static bool schedule(kn_sp *c, kn_sp_node v, kn_train_config *t) {
  static const char *const kinds[] = {"constant", "step", "cosine", NULL};
  static const char *const keys[3][5] = {{"type", "warmup_epochs", NULL},
                                         {"type", "step_size", "gamma", "warmup_epochs", NULL},
                                         {"type", "min_lr", "warmup_epochs", NULL}};
  kn_sp_node ty = type_of(v);
  if (!ty.n) {
    kn_diag_error(c->d, kn_sp_loc(v), "write schedule: {type: cosine}", "schedule needs a 'type'");
    return false;
  }
  int k = pick(c, ty, "schedule", kinds);
  if (k < 0) return false;
  t->sched = (kn_sched_kind)k;
  if (!kn_sp_is_map(v)) return true;
  char what[64];
  snprintf(what, sizeof what, "%s schedule", kinds[k]);
  if (!kn_sp_check_map(v, what, keys[k], c->d)) return false;
  for (int i = 0; i < kn_sp_map_len(v); i++) {
    const char *key = kn_sp_str(kn_sp_map_key(v, i));
    kn_sp_node x = kn_sp_map_val(v, i);
    int64_t iv;
    bool ok = true;
    if (!strcmp(key, "step_size")) ok = kn_sp_get_int(x, key, 1, 100000, &iv, c->d) && ((t->step_size = (int)iv), 1);
    else if (!strcmp(key, "warmup_epochs"))
      ok = kn_sp_get_int(x, key, 0, 100000, &iv, c->d) && ((t->warmup_epochs = (int)iv), (c->warmup_loc = kn_sp_loc(x)), 1);
    else if (!strcmp(key, "gamma")) ok = kn_sp_get_float(x, key, 1e-12, 1, &t->gamma, c->d);
    else if (!strcmp(key, "min_lr")) ok = kn_sp_get_float(x, key, 0, 100, &t->min_lr, c->d);
    if (!ok) return false;
  }
  return true;
}

/* ---- augmentation pipelines ---- */
static bool aug_step(kn_sp *c, kn_sp_node it, bool test, kn_aug_step *st) {
  /* In kn_aug_kind order; RESIZE_SHORTER is `resize: n` (a single number), not a keyword. */
  static const char *const kinds[] = {"resize", "hflip", "random_resized_crop", "to_tensor", "normalize", "center_crop", NULL};
  kn_sp_node kn = it, args = {it.file, NULL};
  if (kn_sp_is_map(it)) {
    if (!kn_sp_check_keys_unique(it, "augmentation step", c->d)) return false;
    if (kn_sp_map_len(it) != 1) {
      kn_diag_error(c->d, kn_sp_loc(it), "write each step as its own '- ' item", "an augmentation step has one kind");
      return false;
    }
    kn = kn_sp_map_key(it, 0);
    args = kn_sp_map_val(it, 0);
  }
  int k = pick(c, kn, "augmentation", kinds);
  if (k < 0) return false;
  memset(st, 0, sizeof *st);
  st->kind = (kn_aug_kind)k;
  if (test && (k == KN_AUG_HFLIP || k == KN_AUG_RANDOM_RESIZED_CROP)) {
    kn_diag_error(c->d, kn_sp_loc(kn), "evaluation must be deterministic", "'%s' cannot be used in test_augment", kinds[k]);
    return false;
  }
  bool has = args.n && !kn_sp_is_null(args);
  static const char *const keys[6][4] = {{"size", NULL}, {"p", NULL}, {"size", "scale", "ratio", NULL}, {NULL},
                                         {"mean", "std", NULL}, {"size", NULL}};
  st->p = 0.5;
  st->scale[0] = 0.08, st->scale[1] = 1.0;
  st->ratio[0] = 3.0 / 4.0, st->ratio[1] = 4.0 / 3.0;
  if (has && !kn_sp_is_map(args)) { /* shorthand: resize: 224, hflip: 0.5, center_crop: 224 */
    if (k == KN_AUG_RESIZE && !kn_sp_is_seq(args)) st->kind = KN_AUG_RESIZE_SHORTER; /* Resize(n) */
    if (k == KN_AUG_RESIZE || k == KN_AUG_CENTER_CROP) return kn_sp_get_size(args, "size", 1, 4096, st->size, c->d);
    if (k == KN_AUG_HFLIP) return kn_sp_get_float(args, "p", 0, 1, &st->p, c->d);
    kn_diag_error(c->d, kn_sp_loc(args), NULL, "options of '%s' must be a mapping, not %s", kinds[k], kn_sp_type_name(args));
    return false;
  }
  if (has && !kn_sp_check_map(args, kinds[k], keys[k], c->d)) return false;
  kn_sp_node size = kn_sp_map_get(args, "size"), scale = kn_sp_map_get(args, "scale");
  kn_sp_node ratio = kn_sp_map_get(args, "ratio"), p = kn_sp_map_get(args, "p");
  kn_sp_node mean = kn_sp_map_get(args, "mean"), std = kn_sp_map_get(args, "std");
  if (size.n && !kn_sp_get_size(size, "size", 1, 4096, st->size, c->d)) return false;
  if (size.n && k == KN_AUG_RESIZE && !kn_sp_is_seq(size)) st->kind = KN_AUG_RESIZE_SHORTER; /* {size: n} */
  if (p.n && !kn_sp_get_float(p, "p", 0, 1, &st->p, c->d)) return false;
  if (scale.n && !kn_sp_get_floats(scale, "scale", 2, false, 1e-6, 1, st->scale, c->d)) return false;
  if (ratio.n && !kn_sp_get_floats(ratio, "ratio", 2, false, 1e-6, 1e6, st->ratio, c->d)) return false;
  if (st->scale[0] > st->scale[1] || st->ratio[0] > st->ratio[1]) {
    kn_diag_error(c->d, kn_sp_loc(st->scale[0] > st->scale[1] ? scale : ratio), "write [low, high]",
                  "random_resized_crop range is reversed");
    return false;
  }
  if (k == KN_AUG_NORMALIZE) {
    if (!mean.n || !std.n) {
      kn_diag_error(c->d, kn_sp_loc(kn), "write normalize: {mean: [r, g, b], std: [r, g, b]}", "normalize needs '%s'",
                    mean.n ? "std" : "mean");
      return false;
    }
    if (!kn_sp_get_floats(mean, "mean", 3, false, -1e6, 1e6, st->mean, c->d) ||
        !kn_sp_get_floats(std, "std", 3, false, 1e-12, 1e6, st->std, c->d))
      return false;
  }
  return true;
}

static bool pipeline(kn_sp *c, kn_sp_node v, bool test, kn_train_config *t) {
  const char *key = test ? "test_augment" : "augment";
  int n = kn_sp_seq_len(v);
  if (!kn_sp_is_seq(v) || n == 0 || n > KN_MAX_AUG) {
    kn_diag_error(c->d, kn_sp_loc(v), "write a list such as [resize: 224, to_tensor]", "'%s' must be a list of 1 to %d steps",
                  key, KN_MAX_AUG);
    return false;
  }
  kn_aug_step *steps = test ? t->test_aug : t->train_aug;
  int tensor_at = -1;
  for (int i = 0; i < n; i++) {
    kn_sp_node it = kn_sp_seq_at(v, i);
    if (!aug_step(c, it, test, &steps[i])) return false;
    kn_aug_kind k = steps[i].kind;
    if (k == KN_AUG_TO_TENSOR && tensor_at >= 0) {
      kn_diag_error(c->d, kn_sp_loc(it), NULL, "to_tensor appears twice in %s", key);
      return false;
    }
    if (k == KN_AUG_TO_TENSOR) tensor_at = i;
    if (k == KN_AUG_NORMALIZE && tensor_at < 0) {
      kn_diag_error(c->d, kn_sp_loc(it), "normalize works on tensors", "normalize must come after to_tensor in %s", key);
      return false;
    }
    if (k != KN_AUG_TO_TENSOR && k != KN_AUG_NORMALIZE && tensor_at >= 0) {
      kn_diag_error(c->d, kn_sp_loc(it), "image steps work on images", "this step must come before to_tensor in %s", key);
      return false;
    }
  }
  if (tensor_at < 0) {
    kn_diag_error(c->d, kn_sp_loc(v), "add '- to_tensor'", "%s has no to_tensor step", key);
    return false;
  }
  if (test) t->n_test_aug = n;
  else t->n_train_aug = n;
  c->aug_loc[test] = kn_sp_loc(v);
  return true;
}

static bool scopes(kn_sp *c, kn_sp_node v, bool un, kn_train_config *t) {
  const char *key = un ? "unfreeze" : "freeze";
  int n = kn_sp_is_seq(v) ? kn_sp_seq_len(v) : 1;
  if (n > KN_MAX_SCOPES) {
    kn_diag_error(c->d, kn_sp_loc(v), NULL, "'%s' lists more than %d scopes", key, KN_MAX_SCOPES);
    return false;
  }
  const char **out = un ? t->unfreeze : t->freeze;
  for (int i = 0; i < n; i++) {
    kn_sp_node it = kn_sp_is_seq(v) ? kn_sp_seq_at(v, i) : v;
    const char *s;
    if (!kn_sp_get_string(it, key, &s, c->d)) return false;
    out[i] = kn_sp_keep(c, s);
    c->scope_loc[un][i] = kn_sp_loc(it);
  }
  if (un) t->n_unfreeze = n;
  else t->n_freeze = n;
  return true;
}

static bool train_key(kn_sp *c, const char *key, kn_sp_node x, kn_train_config *t) {
  int64_t iv;
  const char *s;
  if (!strcmp(key, "optimizer")) return optimizer(c, x, t);
  if (!strcmp(key, "schedule")) return schedule(c, x, t);
  if (!strcmp(key, "batch_size")) return kn_sp_get_int(x, key, 1, 65536, &iv, c->d) && ((t->batch_size = (int)iv), 1);
  if (!strcmp(key, "epochs")) return kn_sp_get_int(x, key, 1, 1000000, &iv, c->d) && ((t->epochs = (int)iv), 1);
  if (!strcmp(key, "eval_every")) return kn_sp_get_int(x, key, 1, 1000000, &iv, c->d) && ((t->eval_every = (int)iv), 1);
  if (!strcmp(key, "num_classes")) return kn_sp_get_int(x, key, 2, 1000000, &iv, c->d) && ((t->num_classes = (int)iv), 1);
  if (!strcmp(key, "input_size")) {
    c->input_size_loc = kn_sp_loc(x);
    return kn_sp_get_size(x, key, 1, 4096, t->input_size, c->d);
  }
  if (!strcmp(key, "augment")) return pipeline(c, x, false, t);
  if (!strcmp(key, "test_augment")) return pipeline(c, x, true, t);
  if (!strcmp(key, "freeze")) return scopes(c, x, false, t);
  if (!strcmp(key, "unfreeze")) return scopes(c, x, true, t);
  if (!strcmp(key, "loss")) {
    static const char *const losses[] = {"nll", NULL};
    if (pick(c, x, "loss", losses) < 0) return false;
    t->loss = "nll";
    return true;
  }
  if (!strcmp(key, "bn_frozen")) {
    static const char *const modes[] = {"batch", "eval", NULL};
    int m = pick(c, x, "bn_frozen mode", modes);
    t->bn_frozen = (kn_bn_frozen_mode)m;
    return m >= 0;
  }
  if (!strcmp(key, "weights") || !strcmp(key, "init_from")) { /* paths relative to this spec file */
    if (!kn_sp_get_string(x, key, &s, c->d)) return false;
    const char *from = x.file->path, *slash = strrchr(from, '/');
    char *p = s[0] == '/' || !slash ? kn_xstrdup(s) : kn_fmt("%.*s/%s", (int)(slash - from), from, s);
    struct stat st;
    bool found = stat(p, &st) == 0;
    if (!found || !S_ISREG(st.st_mode)) {
      kn_diag_error(c->d, kn_sp_loc(x), "it names a .safetensors file, relative to the spec",
                    "cannot read %s file '%s': %s", key, p, found ? "it is not a regular file" : strerror(errno));
      free(p);
      return false;
    }
    *(!strcmp(key, "weights") ? &t->weights : &t->init_from) = kn_sp_keep(c, p);
    free(p);
    return true;
  }
  KN_ASSERT(!"train key without a handler");
  return false;
}

bool kn_sp_parse_train(kn_sp *c, const kn_sp_node *maps, int n, kn_train_config *t) {
  for (int m = 0; m < n; m++) {
    if (!kn_sp_check_map(maps[m], "train", train_keys, c->d)) return false;
    for (int i = 0; i < kn_sp_map_len(maps[m]); i++)
      if (!train_key(c, kn_sp_str(kn_sp_map_key(maps[m], i)), kn_sp_map_val(maps[m], i), t)) return false;
  }
  if (t->warmup_epochs > t->epochs) {
    char hint[96];
    snprintf(hint, sizeof hint, "warmup_epochs may be at most epochs (%d)", t->epochs);
    kn_diag_error(c->d, c->warmup_loc, hint, "'warmup_epochs' = %d is longer than the training (%d epochs)",
                  t->warmup_epochs, t->epochs);
    return false;
  }
  return true;
}

/* Sizes left out (0) mean the input size; an override rewrites every size (a shorter-edge resize
 * becomes an exact one). The last step that sets the size must give the input size; `resize: n`
 * counts as n x n there (square images; predict puts a resize in front otherwise). */
static bool fix_sizes(kn_sp *c, kn_aug_step *steps, int n, const int in[2], bool force, kn_loc at, const char *key) {
  const int *last = NULL;
  for (int i = 0; i < n; i++) {
    kn_aug_step *s = &steps[i];
    if (s->kind != KN_AUG_RESIZE && s->kind != KN_AUG_RANDOM_RESIZED_CROP && s->kind != KN_AUG_CENTER_CROP &&
        s->kind != KN_AUG_RESIZE_SHORTER)
      continue;
    if (s->kind == KN_AUG_RESIZE_SHORTER && force) s->kind = KN_AUG_RESIZE;
    if (force || !s->size[0]) s->size[0] = in[0], s->size[1] = in[1];
    last = s->size;
  }
  if (last && (last[0] != in[0] || last[1] != in[1])) {
    char hint[128];
    snprintf(hint, sizeof hint, "make the last resize or crop %dx%d, or change input_size", in[0], in[1]);
    kn_diag_error(c->d, at, hint, "%s makes %dx%d images but the network input is %dx%d", key, last[0], last[1], in[0],
                  in[1]);
    return false;
  }
  return true;
}

bool kn_sp_finish_train(kn_sp *c, kn_train_config *t, const kn_spec_options *o) {
  bool force = false;
  if (o && o->batch_size > 0) t->batch_size = o->batch_size;
  if (o && o->input_h > 0 && o->input_w > 0) {
    t->input_size[0] = o->input_h;
    t->input_size[1] = o->input_w;
    force = true;
  }
  bool dflt[2] = {!c->aug_loc[0].file, !c->aug_loc[1].file};
  return fix_sizes(c, t->train_aug, t->n_train_aug, t->input_size, force || dflt[0], c->aug_loc[0], "augment") &&
         fix_sizes(c, t->test_aug, t->n_test_aug, t->input_size, force || dflt[1], c->aug_loc[1], "test_augment");
}

static bool names_scope(const kn_graph *g, const char *scope) {
  if (!strcmp(scope, "*")) return true;
  size_t n = strlen(scope);
  for (int i = 0; i < g->n_nodes; i++) {
    const char *nm = g->nodes[i].name;
    if (!strncmp(nm, scope, n) && (nm[n] == 0 || nm[n] == '.')) return true;
  }
  return false;
}

bool kn_sp_check_scopes(kn_sp *c, const kn_train_config *t) {
  for (int un = 0; un < 2; un++) {
    const char *const *list = un ? t->unfreeze : t->freeze;
    int n = un ? t->n_unfreeze : t->n_freeze;
    for (int i = 0; i < n; i++) {
      if (names_scope(c->g, list[i])) continue;
      /* Suggest among the top-level scopes (first name components). */
      char **cands = kn_xmalloc((size_t)(c->g->n_nodes + 1) * sizeof *cands);
      for (int j = 0; j < c->g->n_nodes; j++) {
        const char *nm = c->g->nodes[j].name, *dot = strchr(nm, '.');
        cands[j] = dot ? kn_fmt("%.*s", (int)(dot - nm), nm) : kn_xstrdup(nm);
      }
      const char *s = kn_diag_suggest(list[i], (const char *const *)cands, c->g->n_nodes);
      char hint[160];
      if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
      for (int j = 0; j < c->g->n_nodes; j++) free(cands[j]);
      kn_diag_error(c->d, c->scope_loc[un][i], s ? hint : "scopes are layer names such as 'layer1' or 'fc', or '*'",
                    "%s scope '%s' matches no layer", un ? "unfreeze" : "freeze", list[i]);
      free(cands);
      return false;
    }
  }
  return true;
}
