/* autodiff_rules.c — the gradient rule of every forward op: given dy (the gradients of a node's
 * outputs), emit backward nodes and accumulate the gradients of the inputs that need one.
 * Input orders are those documented in ops.def. Rules only build what is needed: an input with
 * nothing trainable upstream (the image, labels, frozen parameters) gets no gradient.
 */
#include "autodiff_internal.h"

/* Emits a node with a SHAPE attribute. */
static int emit_shaped(kn_ad *a, kn_op op, int fwd, const char *what, const int *in, int n_in,
                       const kn_node *attrs_from, kn_shape s) {
  kn_node *b = kn_ad_begin(a, op, fwd, what, in, n_in, attrs_from);
  kn_node_set_shape(b, KN_ATTR_SHAPE, s);
  return kn_ad_end(a);
}

static kn_shape shape_of(kn_ad *a, int v) { return a->g->vals[v].shape; }

/* dy summed down to the shape of input v when v was broadcast (else dy itself). */
static int unbroadcast(kn_ad *a, int id, const char *what, int dy, int v) {
  if (dy < 0 || kn_shape_eq(shape_of(a, dy), shape_of(a, v))) return dy;
  return emit_shaped(a, KN_OP_SUM_TO, id, what, &dy, 1, NULL, shape_of(a, v));
}

/* conv2d and linear: x, weight, (bias). */
static void rule_affine(kn_ad *a, int id, const kn_node *n, int dy, bool conv) {
  int x = n->in[0], w = n->in[1];
  if (a->needs[x])
    kn_ad_accumulate(a, id, x,
                     emit_shaped(a, conv ? KN_OP_CONV2D_GRAD_INPUT : KN_OP_LINEAR_GRAD_INPUT, id, "dx",
                                 (int[]){dy, w}, 2, n, shape_of(a, x)));
  if (a->needs[w])
    kn_ad_accumulate(a, id, w, kn_ad_emit(a, conv ? KN_OP_CONV2D_GRAD_WEIGHT : KN_OP_LINEAR_GRAD_WEIGHT, id,
                                          "dw", (int[]){dy, x}, 2, n));
  if (n->n_in == 3 && a->needs[n->in[2]])
    kn_ad_accumulate(a, id, n->in[2], kn_ad_emit(a, KN_OP_BIAS_GRAD, id, "db", &dy, 1, NULL));
}

/* batchnorm2d: x, gamma, beta, running_mean, running_var; training mode differentiates through
 * the batch statistics (outputs 1 and 2), eval mode uses the running statistics. */
static void rule_batchnorm(kn_ad *a, int id, const kn_node *n, int dy) {
  bool training = kn_node_int(n, KN_ATTR_TRAINING) != 0;
  int mean = training ? n->out[1] : n->in[3], var = training ? n->out[2] : n->in[4];
  kn_ad_emit(a, KN_OP_BATCHNORM2D_GRAD, id, "dx", (int[]){dy, n->in[0], n->in[1], mean, var}, 5, n);
  if (!a->ok) return;
  const kn_node *b = &a->g->nodes[a->g->n_nodes - 1];
  int outs[3] = {b->out[0], b->out[1], b->out[2]};
  for (int k = 0; k < 3; k++)
    if (a->needs[n->in[k]]) kn_ad_accumulate(a, id, n->in[k], outs[k]);
}

/* Ops whose gradient is one node reading dy and, optionally, one saved value. */
static void rule_unary(kn_ad *a, int id, const kn_node *n, kn_op op, int dy, int saved, bool shaped) {
  int x = n->in[0];
  if (!a->needs[x]) return;
  int in[2] = {dy, saved};
  int n_in = saved >= 0 ? 2 : 1;
  int dx = shaped ? emit_shaped(a, op, id, "dx", in, n_in, n, shape_of(a, x)) : kn_ad_emit(a, op, id, "dx", in, n_in, n);
  kn_ad_accumulate(a, id, x, dx);
}

static void rule_concat(kn_ad *a, int id, const kn_node *n, int dy) {
  int64_t off = 0;
  for (int i = 0; i < n->n_in; i++) {
    int v = n->in[i];
    int64_t c = shape_of(a, v).d[1];
    if (a->needs[v]) {
      kn_node *b = kn_ad_begin(a, KN_OP_SLICE_CHANNELS, id, "dx", &dy, 1, NULL);
      kn_node_set_int(b, KN_ATTR_OFFSET, off);
      kn_node_set_int(b, KN_ATTR_COUNT, c);
      kn_ad_accumulate(a, id, v, kn_ad_end(a));
    }
    off += c;
  }
}

/* add: dy to both sides; mul: dy times the other side; each summed back over broadcast dims. */
static void rule_binary(kn_ad *a, int id, const kn_node *n, int dy, bool mul) {
  static const char *const what[2] = {"da", "db"};
  for (int i = 0; i < 2; i++) {
    int v = n->in[i];
    if (!a->needs[v]) continue;
    int t = dy;
    if (mul) t = kn_ad_emit(a, KN_OP_MUL, id, what[i], (int[]){dy, n->in[1 - i]}, 2, NULL);
    kn_ad_accumulate(a, id, v, unbroadcast(a, id, what[i], t, v));
  }
}

bool kn_ad_rule(kn_ad *a, int id, const int *dy) {
  const kn_node node = a->g->nodes[id]; /* a copy: adding nodes moves the array */
  const kn_node *n = &node;
  int d0 = dy[0], x = n->in[0];
  switch (n->op) {
  case KN_OP_CONV2D: rule_affine(a, id, n, d0, true); break;
  case KN_OP_LINEAR: rule_affine(a, id, n, d0, false); break;
  case KN_OP_BATCHNORM2D: rule_batchnorm(a, id, n, d0); break;
  KN_EW_FWD_CASES { /* eltwise.def: the _grad op reads dy and the saved input or output */
    const kn_ew_info *e = kn_ew_find(n->op);
    rule_unary(a, id, n, e->grad, d0, e->saves_y ? n->out[0] : x, false);
    break;
  }
  case KN_OP_MAXPOOL2D: rule_unary(a, id, n, KN_OP_MAXPOOL2D_GRAD, d0, x, false); break;
  case KN_OP_AVGPOOL2D: rule_unary(a, id, n, KN_OP_AVGPOOL2D_GRAD, d0, -1, true); break;
  case KN_OP_GLOBAL_AVGPOOL: rule_unary(a, id, n, KN_OP_GLOBAL_AVGPOOL_GRAD, d0, -1, true); break;
  case KN_OP_GLOBAL_MAXPOOL: rule_unary(a, id, n, KN_OP_GLOBAL_MAXPOOL_GRAD, d0, x, false); break;
  case KN_OP_CHANNEL_MEAN: rule_unary(a, id, n, KN_OP_CHANNEL_MEAN_GRAD, d0, -1, true); break;
  case KN_OP_CHANNEL_MAX: rule_unary(a, id, n, KN_OP_CHANNEL_MAX_GRAD, d0, x, false); break;
  case KN_OP_FLATTEN: rule_unary(a, id, n, KN_OP_RESHAPE, d0, -1, true); break;
  case KN_OP_UPSAMPLE: rule_unary(a, id, n, KN_OP_UPSAMPLE_GRAD, d0, -1, false); break;
  case KN_OP_LOG_SOFTMAX: rule_unary(a, id, n, KN_OP_LOG_SOFTMAX_GRAD, d0, n->out[0], false); break;
  case KN_OP_SOFTMAX: rule_unary(a, id, n, KN_OP_SOFTMAX_GRAD, d0, n->out[0], false); break;
  case KN_OP_NLL_LOSS: rule_unary(a, id, n, KN_OP_NLL_LOSS_GRAD, d0, n->in[1], true); break;
  case KN_OP_CONCAT: rule_concat(a, id, n, d0); break;
  case KN_OP_ADD: rule_binary(a, id, n, d0, false); break;
  case KN_OP_MUL: rule_binary(a, id, n, d0, true); break;
  /* Built by autodiff; never differentiated (prepare_forward rejects them first). */
  case KN_OP_CONV2D_GRAD_INPUT:
  case KN_OP_CONV2D_GRAD_WEIGHT:
  case KN_OP_BIAS_GRAD:
  case KN_OP_BATCHNORM2D_GRAD:
  KN_EW_GRAD_CASES
  case KN_OP_MAXPOOL2D_GRAD:
  case KN_OP_AVGPOOL2D_GRAD:
  case KN_OP_GLOBAL_AVGPOOL_GRAD:
  case KN_OP_GLOBAL_MAXPOOL_GRAD:
  case KN_OP_CHANNEL_MEAN_GRAD:
  case KN_OP_CHANNEL_MAX_GRAD:
  case KN_OP_SLICE_CHANNELS:
  case KN_OP_SUM_TO:
  case KN_OP_LINEAR_GRAD_INPUT:
  case KN_OP_LINEAR_GRAD_WEIGHT:
  case KN_OP_RESHAPE:
  case KN_OP_UPSAMPLE_GRAD:
  case KN_OP_LOG_SOFTMAX_GRAD:
  case KN_OP_SOFTMAX_GRAD:
  case KN_OP_NLL_LOSS_GRAD:
  case KN_OP_ALLREDUCE_MEAN:
  case KN_OP_SGD_UPDATE:
  case KN_OP_ADAM_UPDATE:
  case KN_OP_BN_RUNNING_UPDATE:
    kn_diag_error(a->d, n->loc, "autodiff builds backward and update ops itself",
                  "op '%s' (node '%s') has no gradient rule", kn_op_table[n->op].name, n->name);
    return false;
  case KN_OP_COUNT: KN_ASSERT(!"KN_OP_COUNT is not an op"); break;
  }
  return a->ok;
}
