/* kernels.h — private to the interpreter: the reference kernel of every op, one function each,
 * grouped by family (conv.c, norm.c, pool.c, reduce.c, activations.c, elementwise.c, linear.c, loss.c,
 * shape_ops.c, optim.c). kn_interp_exec (interp.c) dispatches to them.
 *
 * Every kernel reads the shapes of its inputs and outputs from the graph values of the node and
 * writes every element of its outputs (output buffers may hold garbage on entry). Sums are taken
 * in double and stored as float.
 */
#ifndef KN_INTERP_KERNELS_H
#define KN_INTERP_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"

typedef struct kn_kargs {
  const kn_graph *g;
  const kn_node *n;
  void *const *in;  /* data of n->in[i] */
  void *const *out; /* data of n->out[j] */
} kn_kargs;

static inline kn_shape kn_k_ishape(const kn_kargs *a, int i) { return a->g->vals[a->n->in[i]].shape; }
static inline kn_shape kn_k_oshape(const kn_kargs *a, int j) { return a->g->vals[a->n->out[j]].shape; }
static inline float *kn_k_in(const kn_kargs *a, int i) { return (float *)a->in[i]; }
static inline float *kn_k_out(const kn_kargs *a, int j) { return (float *)a->out[j]; }
/* Dimension i, or 1 past the rank. */
static inline int64_t kn_k_dim(kn_shape s, int i) { return i < s.rank ? s.d[i] : 1; }

/* Sliding-window geometry of conv/pool nodes; dilation is 1 for pools. */
typedef struct kn_win {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
} kn_win;
kn_win kn_k_window(const kn_node *n, bool dilated);

/* interp.c, for init.c: the storage of any value and the interpreter's graph. */
typedef struct kn_interp kn_interp;
void *kn_interp_data(kn_interp *it, int value);
const kn_graph *kn_interp_graph(const kn_interp *it);

/* taps.c: a linear map given by a visitor that calls tap(ctx, out_at, in_at, weight) for every
 * tap, where out_at indexes the op's forward output and in_at its forward input. Runs it on
 * input 0 into output 0 (transpose: the gradient, dy in, dx out). */
typedef void (*kn_tap_fn)(void *ctx, int64_t out_at, int64_t in_at, double wgt);
typedef void (*kn_tap_visitor)(const kn_kargs *a, kn_tap_fn tap, void *ctx);
void kn_k_run_taps(const kn_kargs *a, kn_tap_visitor visit, bool transpose);

/* conv.c */
void kn_k_conv2d(const kn_kargs *a);
void kn_k_conv2d_grad_input(const kn_kargs *a);
void kn_k_conv2d_grad_weight(const kn_kargs *a);
/* norm.c */
void kn_k_batchnorm2d(const kn_kargs *a);
void kn_k_batchnorm2d_grad(const kn_kargs *a);
/* pool.c */
void kn_k_maxpool2d(const kn_kargs *a);
void kn_k_maxpool2d_grad(const kn_kargs *a);
void kn_k_avgpool2d(const kn_kargs *a);
void kn_k_avgpool2d_grad(const kn_kargs *a);
/* reduce.c */
void kn_k_global_avgpool(const kn_kargs *a);
void kn_k_global_avgpool_grad(const kn_kargs *a);
void kn_k_global_maxpool(const kn_kargs *a);
void kn_k_global_maxpool_grad(const kn_kargs *a);
void kn_k_channel_mean(const kn_kargs *a);
void kn_k_channel_mean_grad(const kn_kargs *a);
void kn_k_channel_max(const kn_kargs *a);
void kn_k_channel_max_grad(const kn_kargs *a);
void kn_k_bias_grad(const kn_kargs *a);
void kn_k_sum_to(const kn_kargs *a);
/* activations.c: the ops of eltwise.def, kn_ref_<op>(x, a) and kn_ref_<op>_grad(dy, s, a) */
#define KN_EW_REF_DECL(ID, nm, S, AT, V, F, G) \
  double kn_ref_##nm(double x, double a);   \
  double kn_ref_##nm##_grad(double dy, double s, double a);
KN_ELTWISE_OPS(KN_EW_REF_DECL)
#undef KN_EW_REF_DECL
void kn_k_unary(const kn_kargs *a, double (*f)(double x, double p));
void kn_k_unary_grad(const kn_kargs *a, double (*f)(double dy, double s, double p));
/* elementwise.c */
void kn_k_add(const kn_kargs *a);
void kn_k_mul(const kn_kargs *a);
/* linear.c */
void kn_k_linear(const kn_kargs *a);
void kn_k_linear_grad_input(const kn_kargs *a);
void kn_k_linear_grad_weight(const kn_kargs *a);
/* loss.c */
void kn_k_log_softmax(const kn_kargs *a);
void kn_k_log_softmax_grad(const kn_kargs *a);
void kn_k_softmax(const kn_kargs *a);      /* over dim 1 of [N,K] or [N,C,H,W] */
void kn_k_softmax_grad(const kn_kargs *a); /* dy, y */
void kn_k_nll_loss(const kn_kargs *a);
void kn_k_nll_loss_grad(const kn_kargs *a);
/* shape_ops.c */
void kn_k_concat(const kn_kargs *a);
void kn_k_slice_channels(const kn_kargs *a);
void kn_k_copy(const kn_kargs *a); /* flatten, reshape */
void kn_k_upsample(const kn_kargs *a);
void kn_k_upsample_grad(const kn_kargs *a);
/* optim.c */
void kn_k_sgd_update(const kn_kargs *a);
void kn_k_adam_update(const kn_kargs *a);
void kn_k_bn_running_update(const kn_kargs *a);

#endif
