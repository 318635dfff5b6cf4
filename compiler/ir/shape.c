/* shape.c — shape inference: one rule per op in ops.def. Errors name both shapes involved. */
#include <stdlib.h>
#include <string.h>

#include "../support/util.h"
#include "ir.h"

typedef struct {
  kn_graph *g;
  kn_node *n;
  kn_diag *d;
} ctx;

static kn_shape S(ctx *c, int i) { return c->g->vals[c->n->in[i]].shape; }

static bool fail(ctx *c, const char *hint, const char *fmt, const char *a, const char *b) {
  char buf[512];
  snprintf(buf, sizeof buf, fmt, a, b);
  kn_diag_error(c->d, c->n->loc, hint, "%s '%s': %s", kn_op_table[c->n->op].name, c->n->name, buf);
  return false;
}

/* Checks one input's rank. */
static bool want_rank(ctx *c, int i, int rank, const char *hint) {
  kn_shape s = S(c, i);
  if (s.rank == rank) return true;
  char a[64], b[16];
  snprintf(b, sizeof b, "%d", rank);
  return fail(c, hint, "input %s must have rank %s", kn_shape_str(s, a), b);
}

static bool want_same(ctx *c, int i, int j) {
  kn_shape a = S(c, i), b = S(c, j);
  if (kn_shape_eq(a, b)) return true;
  char sa[64], sb[64];
  return fail(c, NULL, "shapes %s and %s must be equal", kn_shape_str(a, sa), kn_shape_str(b, sb));
}

static bool want_vec(ctx *c, int i, int64_t len) {
  kn_shape s = S(c, i);
  if (s.rank == 1 && s.d[0] == len) return true;
  char a[64], b[64];
  return fail(c, NULL, "parameter shape %s does not match %s", kn_shape_str(s, a),
              kn_shape_str(kn_shape1(len), b));
}

static void set_out(ctx *c, int k, kn_shape s, kn_dtype dt) {
  kn_node *n = c->n;
  if (k >= n->n_out) {
    /* New output value, named after the node. */
    char *nm = k ? kn_fmt("%s:%d", n->name, k) : kn_xstrdup(n->name);
    int v = kn_graph_add_value(c->g, nm, KN_VAL_ACT, dt, s);
    free(nm);
    n = c->n = &c->g->nodes[n->id]; /* values array may not move nodes, but keep it simple */
    n->out[k] = v;
    n->n_out = k + 1;
    c->g->vals[v].producer = n->id;
    c->g->vals[v].out_index = k;
  } else {
    kn_value *v = &c->g->vals[n->out[k]];
    v->shape = s;
    v->dtype = dt;
  }
}

static bool one(ctx *c, kn_shape s) {
  set_out(c, 0, s, KN_DT_F32);
  c->n->n_out = 1;
  return true;
}

/* Output size of a sliding window; false (with a diagnostic) when it would be empty. */
static bool window(ctx *c, kn_shape x, int64_t *oh, int64_t *ow, bool dilated) {
  kn_node *n = c->n;
  int64_t k[2], s[2], p[2], dl[2], in[2] = {x.d[2], x.d[3]}, o[2];
  for (int i = 0; i < 2; i++) {
    k[i] = kn_node_pair(n, KN_ATTR_KERNEL, i);
    s[i] = kn_node_pair(n, KN_ATTR_STRIDE, i);
    p[i] = kn_node_pair(n, KN_ATTR_PADDING, i);
    dl[i] = dilated ? kn_node_pair(n, KN_ATTR_DILATION, i) : 1;
    int64_t span = dl[i] * (k[i] - 1) + 1;
    o[i] = (in[i] + 2 * p[i] - span) / s[i] + 1;
    if (in[i] + 2 * p[i] < span || o[i] < 1) {
      char a[64], b[96];
      int64_t kk[2], sp[2]; /* k[1] is not set yet when i == 0 */
      for (int j = 0; j < 2; j++) {
        kk[j] = kn_node_pair(n, KN_ATTR_KERNEL, j);
        sp[j] = (dilated ? kn_node_pair(n, KN_ATTR_DILATION, j) : 1) * (kk[j] - 1) + 1;
      }
      int m = snprintf(b, sizeof b, "%lldx%lld", (long long)kk[0], (long long)kk[1]);
      if (sp[0] != kk[0] || sp[1] != kk[1])
        snprintf(b + m, sizeof b - (size_t)m, " (dilated to %lldx%lld)", (long long)sp[0], (long long)sp[1]);
      return fail(c, "use a smaller kernel or more padding, or a larger input",
                  "input %s is smaller than the %s window", kn_shape_str(x, a), b);
    }
  }
  if (!dilated && (p[0] * 2 > k[0] || p[1] * 2 > k[1])) {
    char a[64], b[64];
    snprintf(a, sizeof a, "%lld", (long long)(p[0] > p[1] ? p[0] : p[1]));
    snprintf(b, sizeof b, "%lld", (long long)(k[0] > k[1] ? k[0] : k[1]));
    return fail(c, "padding may be at most half the kernel", "padding %s is too large for kernel %s", a, b);
  }
  *oh = o[0];
  *ow = o[1];
  return true;
}

static bool conv_weight_shape(ctx *c, kn_shape x, kn_shape *w) {
  kn_node *n = c->n;
  int64_t co = kn_node_int(n, KN_ATTR_OUT_CHANNELS), g = kn_node_int(n, KN_ATTR_GROUPS);
  if (x.d[1] % g || co % g) {
    char a[64], b[64];
    snprintf(b, sizeof b, "%lld (out_channels %lld)", (long long)g, (long long)co);
    return fail(c, "in and out channels must both be divisible by groups",
                "channels of %s do not divide into groups %s", kn_shape_str(x, a), b);
  }
  *w = kn_shape4(co, x.d[1] / g, kn_node_pair(n, KN_ATTR_KERNEL, 0), kn_node_pair(n, KN_ATTR_KERNEL, 1));
  return true;
}

/* Broadcast of a and b: same rank, each dimension equal or 1 on one side. */
static bool broadcast(ctx *c, kn_shape a, kn_shape b, kn_shape *out) {
  bool ok = a.rank == b.rank;
  for (int i = 0; ok && i < a.rank; i++) ok = a.d[i] == b.d[i] || a.d[i] == 1 || b.d[i] == 1;
  if (!ok) {
    char sa[64], sb[64];
    return fail(c, "shapes must match, or one side must be 1 where they differ",
                "cannot broadcast %s with %s", kn_shape_str(a, sa), kn_shape_str(b, sb));
  }
  *out = a;
  for (int i = 0; i < a.rank; i++) out->d[i] = a.d[i] > b.d[i] ? a.d[i] : b.d[i];
  return true;
}

static bool check_arity(ctx *c) {
  const kn_op_info *oi = &kn_op_table[c->n->op];
  if (c->n->n_in >= oi->in_min && c->n->n_in <= oi->in_max) return true;
  char a[32], b[32];
  snprintf(a, sizeof a, "%d", c->n->n_in);
  if (oi->in_min == oi->in_max) snprintf(b, sizeof b, "%d", oi->in_min);
  else snprintf(b, sizeof b, "%d to %d", oi->in_min, oi->in_max);
  return fail(c, NULL, "takes %s inputs, got %s", b, a);
}

static bool same_shape_updates(ctx *c) {
  for (int i = 1; i < c->n->n_in; i++) {
    kn_shape s = S(c, i);
    if (kn_shape_numel(s) == 1 && s.rank == 1 && kn_shape_numel(S(c, 0)) != 1) continue; /* lr, step */
    if (!want_same(c, 0, i)) return false;
  }
  c->n->n_out = 0;
  return true;
}

static bool infer_op(ctx *cp);

/* A shape with a non-positive dimension or over the tensor-size limit (KN_MAX_TENSOR_ELEMS). */
static bool want_size(ctx *c, kn_shape s, const char *what) {
  bool ok = kn_shape_numel(s) <= KN_MAX_TENSOR_ELEMS;
  for (int i = 0; i < s.rank; i++) ok = ok && s.d[i] >= 1;
  if (ok) return true;
  char a[64], b[64];
  snprintf(b, sizeof b, "%s %s", what, kn_shape_str(s, a));
  return fail(c, "use fewer channels or features, a smaller input or a smaller batch",
              "%s is empty or over the tensor-size limit of 2^32 elements%s", b, "");
}

bool kn_node_infer(kn_graph *g, kn_node *n, kn_diag *d) {
  ctx c = {g, n, d};
  if (!check_arity(&c)) return false;
  for (int i = 0; i < n->n_in; i++) {
    KN_ASSERT(n->in[i] >= 0 && n->in[i] < g->n_vals);
    if (!want_size(&c, S(&c, i), g->vals[n->in[i]].kind == KN_VAL_PARAM ? "parameter" : "input")) return false;
  }
  if (!infer_op(&c)) return false;
  for (int k = 0; k < c.n->n_out; k++)
    if (!want_size(&c, g->vals[c.n->out[k]].shape, "output")) return false;
  return true;
}

static bool infer_op(ctx *cp) {
  ctx c = *cp;
  kn_graph *g = c.g;
  kn_node *n = c.n;
  (void)g;
  for (int i = 0; i < n->n_in; i++) KN_ASSERT(n->in[i] >= 0 && n->in[i] < g->n_vals);
  kn_shape x = n->n_in ? S(&c, 0) : (kn_shape){0, {0}};
  int64_t oh, ow;
  switch (n->op) {
  case KN_OP_CONV2D: {
    kn_shape w;
    if (!want_rank(&c, 0, 4, "convolutions take [N, C, H, W] images") || !conv_weight_shape(&c, x, &w)) return false;
    if (!kn_shape_eq(S(&c, 1), w)) {
      char a[64], b[64];
      return fail(&c, NULL, "weight %s does not match %s", kn_shape_str(S(&c, 1), a), kn_shape_str(w, b));
    }
    if (n->n_in == 3 && !want_vec(&c, 2, w.d[0])) return false;
    if (!window(&c, x, &oh, &ow, true)) return false;
    return one(&c, kn_shape4(x.d[0], w.d[0], oh, ow));
  }
  case KN_OP_BATCHNORM2D: {
    if (!want_rank(&c, 0, 4, "batchnorm2d normalises [N, C, H, W] tensors")) return false;
    for (int i = 1; i < 5; i++)
      if (!want_vec(&c, i, x.d[1])) return false;
    set_out(&c, 0, x, KN_DT_F32);
    if (kn_node_int(n, KN_ATTR_TRAINING)) {
      set_out(&c, 1, kn_shape1(x.d[1]), KN_DT_F32);
      set_out(&c, 2, kn_shape1(x.d[1]), KN_DT_F32);
    } else {
      c.n->n_out = 1;
    }
    return true;
  }
  KN_EW_FWD_CASES
  case KN_OP_ALLREDUCE_MEAN:
    return one(&c, x);
  case KN_OP_MAXPOOL2D:
  case KN_OP_AVGPOOL2D:
    if (!want_rank(&c, 0, 4, "pooling takes [N, C, H, W] tensors") || !window(&c, x, &oh, &ow, false)) return false;
    return one(&c, kn_shape4(x.d[0], x.d[1], oh, ow));
  case KN_OP_GLOBAL_AVGPOOL:
  case KN_OP_GLOBAL_MAXPOOL:
    if (!want_rank(&c, 0, 4, "global pooling takes [N, C, H, W] tensors")) return false;
    return one(&c, kn_shape4(x.d[0], x.d[1], 1, 1));
  case KN_OP_CHANNEL_MEAN:
  case KN_OP_CHANNEL_MAX:
    if (!want_rank(&c, 0, 4, "channel reductions take [N, C, H, W] tensors")) return false;
    return one(&c, kn_shape4(x.d[0], 1, x.d[2], x.d[3]));
  case KN_OP_CONCAT: {
    kn_shape o = x;
    if (!want_rank(&c, 0, 4, "concat joins [N, C, H, W] tensors along channels")) return false;
    for (int i = 1; i < n->n_in; i++) {
      kn_shape s = S(&c, i);
      if (s.rank != 4 || s.d[0] != x.d[0] || s.d[2] != x.d[2] || s.d[3] != x.d[3]) {
        char a[64], b[64];
        return fail(&c, "all inputs need the same N, H and W", "cannot concatenate %s with %s",
                    kn_shape_str(x, a), kn_shape_str(s, b));
      }
      o.d[1] += s.d[1];
    }
    return one(&c, o);
  }
  case KN_OP_ADD:
  case KN_OP_MUL: {
    kn_shape o;
    if (!broadcast(&c, x, S(&c, 1), &o)) return false;
    return one(&c, o);
  }
  case KN_OP_LINEAR: {
    if (x.rank < 2) return want_rank(&c, 0, 2, "linear takes [N, F] (or [N, C, H, W], flattened)");
    int64_t f = kn_shape_numel(x) / x.d[0], o = kn_node_int(n, KN_ATTR_OUT_FEATURES);
    kn_shape w = kn_shape2(o, f);
    if (!kn_shape_eq(S(&c, 1), w)) {
      char a[64], b[64];
      return fail(&c, NULL, "weight %s does not match %s", kn_shape_str(S(&c, 1), a), kn_shape_str(w, b));
    }
    if (n->n_in == 3 && !want_vec(&c, 2, o)) return false;
    return one(&c, kn_shape2(x.d[0], o));
  }
  case KN_OP_FLATTEN:
    if (x.rank < 2) return want_rank(&c, 0, 2, "flatten keeps dimension 0 (the batch)");
    return one(&c, kn_shape2(x.d[0], kn_shape_numel(x) / x.d[0]));
  case KN_OP_UPSAMPLE: {
    int64_t s = kn_node_int(n, KN_ATTR_SCALE);
    if (!want_rank(&c, 0, 4, "upsample takes [N, C, H, W] tensors")) return false;
    return one(&c, kn_shape4(x.d[0], x.d[1], x.d[2] * s, x.d[3] * s));
  }
  case KN_OP_SOFTMAX:
    if (x.rank != 2 && x.rank != 4) {
      char a[64];
      return fail(&c, "softmax normalises over dimension 1: [N, K] scores or [N, C, H, W] channels",
                  "input %s must have rank 2 or 4%s", kn_shape_str(x, a), "");
    }
    return one(&c, x);
  case KN_OP_LOG_SOFTMAX:
    if (!want_rank(&c, 0, 2, "log_softmax takes class scores [N, K]; add flatten or linear first")) return false;
    return one(&c, x);
  case KN_OP_NLL_LOSS: {
    kn_value *p = &g->vals[n->in[0]];
    if (x.rank != 2 || (p->producer >= 0 && g->nodes[p->producer].op != KN_OP_LOG_SOFTMAX)) {
      char a[64];
      return fail(&c, "nll_loss needs log-probabilities: end the network with linear and log_softmax",
                  "input %s is not class log-probabilities [N, K]%s", kn_shape_str(x, a), "");
    }
    kn_shape l = S(&c, 1);
    if (l.rank != 1 || l.d[0] != x.d[0] || g->vals[n->in[1]].dtype != KN_DT_I32) {
      char a[64], b[64];
      return fail(&c, NULL, "labels %s must be int32 [N] for scores %s", kn_shape_str(l, a), kn_shape_str(x, b));
    }
    return one(&c, kn_shape1(1));
  }
  /* ---- backward ---- */
  case KN_OP_CONV2D_GRAD_INPUT:
  case KN_OP_AVGPOOL2D_GRAD:
  case KN_OP_GLOBAL_AVGPOOL_GRAD:
  case KN_OP_CHANNEL_MEAN_GRAD:
  case KN_OP_LINEAR_GRAD_INPUT:
  case KN_OP_NLL_LOSS_GRAD:
    return one(&c, kn_node_shape_attr(n, KN_ATTR_SHAPE));
  case KN_OP_CONV2D_GRAD_WEIGHT: {
    kn_shape w;
    if (!conv_weight_shape(&c, S(&c, 1), &w)) return false;
    return one(&c, w);
  }
  case KN_OP_BIAS_GRAD:
    return one(&c, kn_shape1(x.d[1]));
  case KN_OP_BATCHNORM2D_GRAD: {
    kn_shape xs = S(&c, 1);
    if (!want_same(&c, 0, 1)) return false;
    set_out(&c, 0, xs, KN_DT_F32);
    set_out(&c, 1, kn_shape1(xs.d[1]), KN_DT_F32);
    set_out(&c, 2, kn_shape1(xs.d[1]), KN_DT_F32);
    return true;
  }
  KN_EW_GRAD_CASES
  case KN_OP_LOG_SOFTMAX_GRAD:
  case KN_OP_SOFTMAX_GRAD:
    if (!want_same(&c, 0, 1)) return false;
    return one(&c, x);
  case KN_OP_MAXPOOL2D_GRAD:
  case KN_OP_GLOBAL_MAXPOOL_GRAD:
  case KN_OP_CHANNEL_MAX_GRAD:
    return one(&c, S(&c, 1));
  case KN_OP_SLICE_CHANNELS: {
    int64_t off = kn_node_int(n, KN_ATTR_OFFSET), cnt = kn_node_int(n, KN_ATTR_COUNT);
    KN_ASSERT(x.rank == 4 && off + cnt <= x.d[1]);
    return one(&c, kn_shape4(x.d[0], cnt, x.d[2], x.d[3]));
  }
  case KN_OP_SUM_TO:
  case KN_OP_RESHAPE: {
    kn_shape t = kn_node_shape_attr(n, KN_ATTR_SHAPE);
    if (n->op == KN_OP_RESHAPE) KN_ASSERT(kn_shape_numel(t) == kn_shape_numel(x));
    else {
      KN_ASSERT(t.rank == x.rank);
      for (int i = 0; i < t.rank; i++) KN_ASSERT(t.d[i] == x.d[i] || t.d[i] == 1);
    }
    return one(&c, t);
  }
  case KN_OP_LINEAR_GRAD_WEIGHT: {
    kn_shape xs = S(&c, 1);
    return one(&c, kn_shape2(x.d[1], kn_shape_numel(xs) / xs.d[0]));
  }
  case KN_OP_UPSAMPLE_GRAD: {
    int64_t s = kn_node_int(n, KN_ATTR_SCALE);
    return one(&c, kn_shape4(x.d[0], x.d[1], x.d[2] / s, x.d[3] / s));
  }
  /* ---- updates ---- */
  case KN_OP_SGD_UPDATE:
  case KN_OP_ADAM_UPDATE:
  case KN_OP_BN_RUNNING_UPDATE:
    return same_shape_updates(&c);
  case KN_OP_COUNT:
    break;
  }
  KN_ASSERT(!"unknown op");
  return false;
}

bool kn_graph_infer_shapes(kn_graph *g, kn_diag *d) {
  for (int i = 0; i < g->n_nodes; i++) {
    if (g->nodes[i].dead) continue;
    if (!kn_node_infer(g, &g->nodes[i], d)) return false;
  }
  return true;
}
