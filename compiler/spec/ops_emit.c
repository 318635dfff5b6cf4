/* ops_emit.c — one op layer of a spec: its attributes (table-driven from attrs.def and the
 * attribute masks of ops.def), its parameters (named `<scope>.weight` etc. as torchvision does,
 * in_channels / in_features inferred from the input) and its graph node. */
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "util.h"

/* Attributes the compiler sets itself; never accepted in a spec. */
static bool attr_internal(int a) {
  return a == KN_ATTR_TRAINING || a == KN_ATTR_OFFSET || a == KN_ATTR_COUNT || a == KN_ATTR_SHAPE;
}

static bool attr_user(kn_op op, int a) {
  return !attr_internal(a) && (kn_op_table[op].attrs & (1u << a));
}

/* A user attribute with a default outside its own range must be given. */
static bool attr_required(int a) { return kn_attr_table[a].def < kn_attr_table[a].lo; }

void kn_sp_op_arity(kn_op op, int *lo, int *hi) {
  *lo = *hi = 1;
  switch (op) {
  KN_EW_FWD_CASES
  case KN_OP_CONV2D: case KN_OP_BATCHNORM2D:
  case KN_OP_MAXPOOL2D: case KN_OP_AVGPOOL2D: case KN_OP_GLOBAL_AVGPOOL: case KN_OP_GLOBAL_MAXPOOL:
  case KN_OP_CHANNEL_MEAN: case KN_OP_CHANNEL_MAX: case KN_OP_LINEAR: case KN_OP_FLATTEN:
  case KN_OP_UPSAMPLE: case KN_OP_LOG_SOFTMAX: case KN_OP_SOFTMAX:
    return;
  case KN_OP_CONCAT:
    *lo = kn_op_table[op].in_min;
    *hi = kn_op_table[op].in_max;
    return;
  case KN_OP_ADD: case KN_OP_MUL: case KN_OP_NLL_LOSS:
    *lo = *hi = 2;
    return;
  case KN_OP_CONV2D_GRAD_INPUT: case KN_OP_CONV2D_GRAD_WEIGHT: case KN_OP_BIAS_GRAD:
  KN_EW_GRAD_CASES
  case KN_OP_BATCHNORM2D_GRAD: case KN_OP_MAXPOOL2D_GRAD:
  case KN_OP_AVGPOOL2D_GRAD: case KN_OP_GLOBAL_AVGPOOL_GRAD: case KN_OP_GLOBAL_MAXPOOL_GRAD:
  case KN_OP_CHANNEL_MEAN_GRAD: case KN_OP_CHANNEL_MAX_GRAD: case KN_OP_SLICE_CHANNELS: case KN_OP_SUM_TO:
  case KN_OP_LINEAR_GRAD_INPUT: case KN_OP_LINEAR_GRAD_WEIGHT: case KN_OP_RESHAPE: case KN_OP_UPSAMPLE_GRAD:
  case KN_OP_LOG_SOFTMAX_GRAD: case KN_OP_SOFTMAX_GRAD: case KN_OP_NLL_LOSS_GRAD: case KN_OP_ALLREDUCE_MEAN: case KN_OP_SGD_UPDATE: case KN_OP_ADAM_UPDATE:
  case KN_OP_BN_RUNNING_UPDATE: case KN_OP_COUNT:
    break;
  }
  KN_ASSERT(!"not a spec op");
}

/* Parses one attribute value (after substitution) into v. */
static bool parse_attr(kn_sp *c, kn_op op, int a, kn_sp_node val, const kn_sp_env *env, kn_attr_val *v) {
  const kn_attr_info *ai = &kn_attr_table[a];
  int n = 1;
  kn_sp_node items[2] = {val, val};
  if (ai->type == KN_ATYPE_PAIR && kn_sp_is_seq(val)) {
    if (kn_sp_seq_len(val) != 2) {
      kn_diag_error(c->d, kn_sp_loc(val), "write n or [height, width]", "'%s' must be one integer or two, not %d",
                    ai->key, kn_sp_seq_len(val));
      return false;
    }
    n = 2;
    items[0] = kn_sp_seq_at(val, 0);
    items[1] = kn_sp_seq_at(val, 1);
  }
  for (int i = 0; i < n; i++) {
    kn_sp_node it = items[i];
    if (!kn_sp_is_scalar(it) || kn_sp_is_null(it)) {
      const char *want = ai->type == KN_ATYPE_PAIR ? "an integer or [height, width]"
                       : ai->type == KN_ATYPE_INT ? "an integer" : ai->type == KN_ATYPE_FLOAT ? "a number"
                       : ai->type == KN_ATYPE_BOOL ? "true or false" : "a name";
      kn_diag_error(c->d, kn_sp_loc(it), NULL, "%s attribute '%s' must be %s, not %s", kn_op_table[op].name,
                    ai->key, want, kn_sp_type_name(it));
      return false;
    }
    kn_loc at = kn_sp_loc(it);
    char *t = kn_sp_subst(kn_sp_str(it), env, at, c->d);
    if (!t) return false;
    bool ok = true;
    int64_t iv = 0;
    double fv = 0;
    char range[96];
    switch (ai->type) {
    case KN_ATYPE_INT:
    case KN_ATYPE_PAIR:
    case KN_ATYPE_INTS:
      if (!kn_sp_parse_int_text(t, &iv)) {
        kn_diag_error(c->d, at, NULL, "'%s' must be an integer, not '%s'", ai->key, t);
        ok = false;
      } else if (iv < ai->lo || iv > ai->hi) {
        snprintf(range, sizeof range, "allowed range is %g to %g", ai->lo, ai->hi);
        kn_diag_error(c->d, at, range, "'%s' = %lld is out of range", ai->key, (long long)iv);
        ok = false;
      }
      v->i[i] = iv;
      break;
    case KN_ATYPE_FLOAT:
      if (!kn_sp_parse_float_text(t, &fv)) {
        kn_diag_error(c->d, at, NULL, "'%s' must be a number, not '%s'", ai->key, t);
        ok = false;
      } else if (fv < ai->lo || fv > ai->hi) {
        snprintf(range, sizeof range, "allowed range is %g to %g", ai->lo, ai->hi);
        kn_diag_error(c->d, at, range, "'%s' = %g is out of range", ai->key, fv);
        ok = false;
      }
      v->f = fv;
      break;
    case KN_ATYPE_BOOL:
      if (!strcmp(t, "true") || !strcmp(t, "True") || (kn_sp_str(it)[0] == '$' && !strcmp(t, "1"))) v->i[0] = 1;
      else if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "0")) v->i[0] = 0;
      else {
        kn_diag_error(c->d, at, "write true or false", "'%s' must be true or false, not '%s'", ai->key, t);
        ok = false;
      }
      break;
    case KN_ATYPE_ENUM: {
      int m = -1;
      for (int k = 0; k < 2; k++)
        if (!strcmp(t, kn_mode_names[k])) m = k;
      if (m < 0) {
        const char *s = kn_diag_suggest(t, (const char *const *)kn_mode_names, 2);
        char hint[96];
        snprintf(hint, sizeof hint, s ? "did you mean '%s'?" : "one of: nearest, bilinear", s);
        kn_diag_error(c->d, at, hint, "'%s' must be nearest or bilinear, not '%s'", ai->key, t);
        ok = false;
      }
      v->i[0] = m;
      break;
    }
    }
    free(t);
    if (!ok) return false;
  }
  if (ai->type == KN_ATYPE_PAIR && n == 1) v->i[1] = v->i[0];
  v->n = n;
  return true;
}

static void unknown_attr(kn_sp *c, kn_op op, kn_sp_node key) {
  const char *cands[KN_NUM_ATTRS];
  int n = 0;
  char list[256] = "";
  size_t off = 0;
  for (int a = 0; a < KN_NUM_ATTRS; a++)
    if (attr_user(op, a)) {
      cands[n++] = kn_attr_table[a].key;
      off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", kn_attr_table[a].key);
    }
  const char *s = kn_diag_suggest(kn_sp_str(key), cands, n);
  char hint[320];
  if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
  else if (n) snprintf(hint, sizeof hint, "%s takes: %s", kn_op_table[op].name, list);
  else snprintf(hint, sizeof hint, "%s takes no attributes", kn_op_table[op].name);
  int a = kn_attr_lookup(kn_sp_str(key));
  if (a >= 0 && attr_internal(a) && (kn_op_table[op].attrs & (1u << a)))
    kn_diag_error(c->d, kn_sp_loc(key), "kiln sets it: batch statistics in training, running ones in eval",
                  "attribute '%s' of %s is internal", kn_sp_str(key), kn_op_table[op].name);
  else
    kn_diag_error(c->d, kn_sp_loc(key), hint, "unknown attribute '%s' for %s", kn_sp_str(key), kn_op_table[op].name);
}

/* A parameter or running statistic: created, or taken from the layer being reused. */
static int param(kn_sp *c, const char *scope, const char *suffix, kn_shape s, kn_init_kind init, bool state) {
  char *name = kn_fmt("%s.%s", scope, suffix);
  int id;
  if (c->reusing && c->reuse_pos >= c->n_reuse) {
    kn_diag_error(c->d, c->reuse_loc, "a reused layer must have the same structure", "'%s' has no parameter to reuse",
                  name);
    id = -1;
  } else if (c->reusing) {
    id = c->reuse_params[c->reuse_pos++];
    const kn_value *v = &c->g->vals[id];
    if (!kn_shape_eq(v->shape, s)) {
      char a[64], b[64];
      kn_diag_error(c->d, c->reuse_loc, "a reused layer must see inputs of the same shape",
                    "reused parameter '%s' has shape %s but '%s' needs %s", v->name, kn_shape_str(v->shape, a), name,
                    kn_shape_str(s, b));
      id = -1;
    }
  } else if (state) {
    id = kn_graph_add_state(c->g, name, s, init);
  } else {
    id = kn_graph_add_param(c->g, name, s, init);
    c->g->vals[id].trainable = !kn_train_is_frozen(&c->spec->train, name);
  }
  free(name);
  return id;
}

int kn_sp_emit_op(kn_sp *c, kn_op op, kn_sp_node args, const kn_sp_env *env, const char *name,
                  const int *inputs, int n_inputs, kn_loc loc) {
  kn_attr_val vals[KN_NUM_ATTRS];
  uint32_t set = 0;
  memset(vals, 0, sizeof vals);
  if (args.n && !kn_sp_is_null(args)) {
    if (!kn_sp_is_map(args)) {
      kn_diag_error(c->d, kn_sp_loc(args), "write e.g. conv2d: {out_channels: 64, kernel: 3}",
                    "attributes of %s must be a mapping, not %s", kn_op_table[op].name, kn_sp_type_name(args));
      return -1;
    }
    char what[96];
    snprintf(what, sizeof what, "attributes of %s", kn_op_table[op].name);
    if (!kn_sp_check_keys_unique(args, what, c->d)) return -1;
    for (int i = 0; i < kn_sp_map_len(args); i++) {
      kn_sp_node k = kn_sp_map_key(args, i);
      int a = kn_attr_lookup(kn_sp_str(k));
      if (a < 0 || !attr_user(op, a)) {
        unknown_attr(c, op, k);
        return -1;
      }
      if (!parse_attr(c, op, a, kn_sp_map_val(args, i), env, &vals[a])) return -1;
      set |= 1u << a;
    }
  }
  for (int a = 0; a < KN_NUM_ATTRS; a++)
    if (attr_user(op, a) && attr_required(a) && !(set & (1u << a))) {
      kn_diag_error(c->d, loc, NULL, "%s '%s' needs '%s' (%s)", kn_op_table[op].name, name, kn_attr_table[a].key,
                    kn_attr_table[a].doc);
      return -1;
    }
  int lo, hi;
  kn_sp_op_arity(op, &lo, &hi);
  if (n_inputs < lo || n_inputs > hi) {
    char want[32];
    if (lo == hi) snprintf(want, sizeof want, "%d input%s", lo, lo == 1 ? "" : "s");
    else snprintf(want, sizeof want, "%d to %d inputs", lo, hi);
    kn_diag_error(c->d, loc, lo > 1 ? "name them with inputs: [a, b]" : NULL, "%s '%s' takes %s, got %d",
                  kn_op_table[op].name, name, want, n_inputs);
    return -1;
  }
  int in[KN_MAX_IN], n_in = 0;
  for (int i = 0; i < n_inputs; i++) in[n_in++] = inputs[i];
  kn_shape x = c->g->vals[inputs[0]].shape;
  int64_t ch = x.rank >= 2 ? x.d[1] : 1;
  if (op == KN_OP_CONV2D) {
    int64_t co = vals[KN_ATTR_OUT_CHANNELS].i[0];
    int64_t g = (set & (1u << KN_ATTR_GROUPS)) ? vals[KN_ATTR_GROUPS].i[0] : 1;
    int64_t kh = (set & (1u << KN_ATTR_KERNEL)) ? vals[KN_ATTR_KERNEL].i[0] : 1;
    int64_t kw = (set & (1u << KN_ATTR_KERNEL)) ? vals[KN_ATTR_KERNEL].i[1] : 1;
    int64_t ci = x.rank == 4 && ch % g == 0 ? ch / g : ch;
    in[n_in++] = param(c, name, "weight", kn_shape4(co, ci, kh, kw), KN_INIT_KAIMING_UNIFORM, false);
    if ((set & (1u << KN_ATTR_BIAS)) && vals[KN_ATTR_BIAS].i[0])
      in[n_in++] = param(c, name, "bias", kn_shape1(co), KN_INIT_FAN_IN_UNIFORM, false);
  } else if (op == KN_OP_LINEAR) {
    int64_t o = vals[KN_ATTR_OUT_FEATURES].i[0];
    int64_t f = x.rank >= 2 && x.d[0] ? kn_shape_numel(x) / x.d[0] : 1;
    in[n_in++] = param(c, name, "weight", kn_shape2(o, f), KN_INIT_KAIMING_UNIFORM, false);
    if ((set & (1u << KN_ATTR_BIAS)) && vals[KN_ATTR_BIAS].i[0])
      in[n_in++] = param(c, name, "bias", kn_shape1(o), KN_INIT_FAN_IN_UNIFORM, false);
  } else if (op == KN_OP_BATCHNORM2D) {
    in[n_in++] = param(c, name, "weight", kn_shape1(ch), KN_INIT_ONE, false);
    in[n_in++] = param(c, name, "bias", kn_shape1(ch), KN_INIT_ZERO, false);
    in[n_in++] = param(c, name, "running_mean", kn_shape1(ch), KN_INIT_ZERO, true);
    in[n_in++] = param(c, name, "running_var", kn_shape1(ch), KN_INIT_ONE, true);
  }
  for (int i = 0; i < n_in; i++)
    if (in[i] < 0) return -1;
  kn_node *n = kn_graph_add_node(c->g, op, name, in, n_in, loc);
  for (int a = 0; a < KN_NUM_ATTRS; a++) {
    if (!(set & (1u << a))) continue;
    n->attr[a] = vals[a];
    n->attr_set |= 1u << a;
  }
  if (op == KN_OP_BATCHNORM2D) kn_node_set_int(n, KN_ATTR_TRAINING, 0);
  n->frozen = kn_train_is_frozen(&c->spec->train, name);
  int id = n->id;
  if (!kn_node_infer(c->g, n, c->d)) return -1;
  return c->g->nodes[id].out[0];
}
