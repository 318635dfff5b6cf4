/* test_graph.c — the interpreter on a whole graph built with the IR API:
 *   conv(bias) -> batchnorm (training) -> relu -> maxpool -> linear -> log_softmax -> nll_loss,
 * followed by a hand-built backward pass, SGD updates with momentum and BN running-stat updates.
 * Checks: initialisation (PyTorch bounds, determinism), a finite loss near ln(10), the backward
 * against finite differences of the loss for every parameter and the input, and that five SGD
 * steps on one batch lower the loss. Must run clean under ASan (no leaks).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "kn_test_graph.h"

static int passed, failed;

static void expect(bool ok, const char *what) {
  if (ok) passed++;
  else failed++;
  printf("%s %s\n", ok ? "ok  " : "FAIL", what);
}

enum { N = 4, CI = 3, HW = 8, CO = 4, K = 10 };

typedef struct net {
  kn_graph *g;
  int x, labels, cw, cb, gamma, beta, rm, rv, fw, fb; /* inputs and parameters */
  int conv, mean, var, relu, pool, logp, loss;          /* forward values */
  int n_fwd, n_bwd;                                     /* nodes: forward, then backward, then updates */
  int params[6], grads[6];                              /* cw, cb, gamma, beta, fw, fb and their grads */
  int dx;                                               /* gradient of the input */
} net;

static kn_node *add(net *t, kn_op op, const char *name, const int *in, int n_in) {
  return kn_graph_add_node(t->g, op, name, in, n_in, (kn_loc){0});
}

static int infer(net *t, kn_node *n) { return kn_test_infer(t->g, n); }

static void window(kn_node *n, int k, int s, int p) {
  kn_node_set_pair(n, KN_ATTR_KERNEL, k, k);
  kn_node_set_pair(n, KN_ATTR_STRIDE, s, s);
  kn_node_set_pair(n, KN_ATTR_PADDING, p, p);
}

static void build_forward(net *t) {
  kn_graph *g = t->g = kn_graph_create("tiny");
  t->x = g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(N, CI, HW, HW));
  t->labels = g->labels = kn_graph_add_input(g, "labels", KN_DT_I32, kn_shape1(N));
  t->cw = kn_graph_add_param(g, "conv1.weight", kn_shape4(CO, CI, 3, 3), KN_INIT_KAIMING_UNIFORM);
  t->cb = kn_graph_add_param(g, "conv1.bias", kn_shape1(CO), KN_INIT_FAN_IN_UNIFORM);
  t->gamma = kn_graph_add_param(g, "bn1.weight", kn_shape1(CO), KN_INIT_ONE);
  t->beta = kn_graph_add_param(g, "bn1.bias", kn_shape1(CO), KN_INIT_ZERO);
  t->rm = kn_graph_add_state(g, "bn1.running_mean", kn_shape1(CO), KN_INIT_ZERO);
  t->rv = kn_graph_add_state(g, "bn1.running_var", kn_shape1(CO), KN_INIT_ONE);
  t->fw = kn_graph_add_param(g, "fc.weight", kn_shape2(K, CO * (HW / 2) * (HW / 2)), KN_INIT_KAIMING_UNIFORM);
  t->fb = kn_graph_add_param(g, "fc.bias", kn_shape1(K), KN_INIT_FAN_IN_UNIFORM);

  kn_node *n = add(t, KN_OP_CONV2D, "conv1", (int[]){t->x, t->cw, t->cb}, 3);
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, CO);
  kn_node_set_int(n, KN_ATTR_BIAS, 1);
  window(n, 3, 1, 1);
  t->conv = infer(t, n);
  n = add(t, KN_OP_BATCHNORM2D, "bn1", (int[]){t->conv, t->gamma, t->beta, t->rm, t->rv}, 5);
  int bn = infer(t, n);
  t->mean = n->out[1];
  t->var = n->out[2];
  t->relu = infer(t, add(t, KN_OP_RELU, "relu", (int[]){bn}, 1));
  n = add(t, KN_OP_MAXPOOL2D, "pool", (int[]){t->relu}, 1);
  window(n, 2, 2, 0);
  t->pool = infer(t, n);
  n = add(t, KN_OP_LINEAR, "fc", (int[]){t->pool, t->fw, t->fb}, 3);
  kn_node_set_int(n, KN_ATTR_OUT_FEATURES, K);
  kn_node_set_int(n, KN_ATTR_BIAS, 1);
  int fc = infer(t, n);
  t->logp = g->output = infer(t, add(t, KN_OP_LOG_SOFTMAX, "log_softmax", (int[]){fc}, 1));
  t->loss = g->loss = infer(t, add(t, KN_OP_NLL_LOSS, "loss", (int[]){t->logp, t->labels}, 2));
  t->n_fwd = g->n_nodes;
}

/* The backward pass by hand, in reverse order of the forward, then the updates. */
static void build_backward(net *t) {
  kn_graph *g = t->g;
  int one = kn_graph_add_const(g, "dloss", kn_shape1(1), 1.0f);
  kn_node *n = add(t, KN_OP_NLL_LOSS_GRAD, "loss.grad", (int[]){one, t->labels}, 2);
  kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape2(N, K));
  int d = infer(t, n);
  d = infer(t, add(t, KN_OP_LOG_SOFTMAX_GRAD, "log_softmax.grad", (int[]){d, t->logp}, 2));
  n = add(t, KN_OP_LINEAR_GRAD_INPUT, "fc.grad_input", (int[]){d, t->fw}, 2);
  kn_node_set_shape(n, KN_ATTR_SHAPE, g->vals[t->pool].shape);
  int dpool = infer(t, n);
  int gfw = infer(t, add(t, KN_OP_LINEAR_GRAD_WEIGHT, "fc.grad_weight", (int[]){d, t->pool}, 2));
  int gfb = infer(t, add(t, KN_OP_BIAS_GRAD, "fc.grad_bias", (int[]){d}, 1));
  n = add(t, KN_OP_MAXPOOL2D_GRAD, "pool.grad", (int[]){dpool, t->relu}, 2);
  window(n, 2, 2, 0);
  d = infer(t, n);
  d = infer(t, add(t, KN_OP_RELU_GRAD, "relu.grad", (int[]){d, t->relu}, 2));
  n = add(t, KN_OP_BATCHNORM2D_GRAD, "bn1.grad", (int[]){d, t->conv, t->gamma, t->mean, t->var}, 5);
  int dconv = infer(t, n), ggamma = n->out[1], gbeta = n->out[2];
  n = add(t, KN_OP_CONV2D_GRAD_WEIGHT, "conv1.grad_weight", (int[]){dconv, t->x}, 2);
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, CO);
  window(n, 3, 1, 1);
  int gcw = infer(t, n);
  int gcb = infer(t, add(t, KN_OP_BIAS_GRAD, "conv1.grad_bias", (int[]){dconv}, 1));
  n = add(t, KN_OP_CONV2D_GRAD_INPUT, "conv1.grad_input", (int[]){dconv, t->cw}, 2);
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, CO);
  window(n, 3, 1, 1);
  kn_node_set_shape(n, KN_ATTR_SHAPE, g->vals[t->x].shape);
  t->dx = infer(t, n);
  t->n_bwd = g->n_nodes;

  const int params[6] = {t->cw, t->cb, t->gamma, t->beta, t->fw, t->fb};
  const int grads[6] = {gcw, gcb, ggamma, gbeta, gfw, gfb};
  memcpy(t->params, params, sizeof params);
  memcpy(t->grads, grads, sizeof grads);
  g->lr = kn_graph_add_input(g, "lr", KN_DT_F32, kn_shape1(1));
  for (int i = 0; i < 6; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s.momentum", g->vals[params[i]].name);
    int buf = kn_graph_add_state(g, name, g->vals[params[i]].shape, KN_INIT_ZERO);
    n = add(t, KN_OP_SGD_UPDATE, "sgd", (int[]){params[i], grads[i], g->lr, buf}, 4);
    kn_node_set_float(n, KN_ATTR_MOMENTUM, 0.9);
    kn_node_set_float(n, KN_ATTR_WEIGHT_DECAY, 5e-4);
    infer(t, n);
  }
  n = add(t, KN_OP_BN_RUNNING_UPDATE, "bn1.running", (int[]){t->rm, t->rv, t->mean, t->var}, 4);
  kn_node_set_int(n, KN_ATTR_COUNT, N * HW * HW);
  infer(t, n);
}

static void fill_batch(kn_interp *it, const net *t) {
  kn_rng r;
  kn_rng_seed(&r, 7);
  float *x = kn_interp_f32(it, t->x);
  for (int i = 0; i < N * CI * HW * HW; i++) x[i] = (float)kn_rng_uniform(&r, -1, 1);
  int32_t *l = kn_interp_i32(it, t->labels);
  for (int i = 0; i < N; i++) l[i] = (i * 3) % K;
}

static void run_nodes(kn_interp *it, int from, int to) {
  for (int i = from; i < to; i++) kn_interp_run_node(it, i);
}

static bool within(kn_interp *it, int v, const kn_graph *g, double bound) {
  const float *p = kn_interp_f32(it, v);
  int64_t n = kn_shape_numel(g->vals[v].shape);
  bool spread = false;
  for (int64_t i = 0; i < n; i++) {
    if (fabs(p[i]) > bound) return false;
    if (p[i] != p[0]) spread = true;
  }
  return spread;
}

static bool all_equal(kn_interp *it, int v, const kn_graph *g, float want) {
  const float *p = kn_interp_f32(it, v);
  for (int64_t i = 0; i < kn_shape_numel(g->vals[v].shape); i++)
    if (p[i] != want) return false;
  return true;
}

static void check_init(net *t) {
  kn_graph *g = t->g;
  kn_interp *a = kn_interp_create(g), *b = kn_interp_create(g), *c = kn_interp_create(g);
  kn_interp_init_params(a, 42);
  kn_interp_init_params(b, 42);
  kn_interp_init_params(c, 43);
  /* PyTorch: conv weight and bias U(+-1/sqrt(3*3*3)), fc weight and bias U(+-1/sqrt(64)) */
  expect(within(a, t->cw, g, 1 / sqrt(27.0)) && within(a, t->cb, g, 1 / sqrt(27.0)), "init: conv bounds 1/sqrt(27)");
  expect(within(a, t->fw, g, 1 / 8.0) && within(a, t->fb, g, 1 / 8.0), "init: fc bounds 1/sqrt(64)");
  expect(all_equal(a, t->gamma, g, 1) && all_equal(a, t->beta, g, 0) && all_equal(a, t->rm, g, 0) &&
             all_equal(a, t->rv, g, 1),
         "init: bn weight 1, bias 0, running mean 0, var 1");
  size_t bytes = (size_t)kn_shape_numel(g->vals[t->cw].shape) * sizeof(float);
  expect(!memcmp(kn_interp_f32(a, t->cw), kn_interp_f32(b, t->cw), bytes) &&
             memcmp(kn_interp_f32(a, t->cw), kn_interp_f32(c, t->cw), bytes),
         "init: same seed same weights, other seed other weights");
  kn_interp_dispose(a);
  kn_interp_dispose(b);
  kn_interp_dispose(c);
}

/* Gradient of the loss w.r.t. value v (a parameter or the input) against central differences of
 * the forward; per-tensor metric: max |fd - an| <= 2% of max |an|. With zero_expected (a conv
 * bias followed by training-mode batchnorm, which removes it) both must be ~0 instead. */
static bool fd_value(kn_interp *it, net *t, int v, int grad, bool zero_expected) {
  int64_t n = kn_shape_numel(t->g->vals[v].shape), step = n > 12 ? n / 12 : 1;
  float *p = kn_interp_f32(it, v);
  const float *an = kn_interp_f32(it, grad);
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < n; i += step) {
    float orig = p[i], xp = orig + 1e-3f, xm = orig - 1e-3f;
    p[i] = xp;
    run_nodes(it, 0, t->n_fwd);
    double lp = kn_interp_f32(it, t->loss)[0];
    p[i] = xm;
    run_nodes(it, 0, t->n_fwd);
    double lm = kn_interp_f32(it, t->loss)[0];
    p[i] = orig;
    double fd = (lp - lm) / ((double)xp - xm);
    worst = fmax(worst, fabs(fd - an[i]));
    scale = fmax(scale, fabs(an[i]));
  }
  bool ok = zero_expected ? scale < 1e-5 && worst < 1e-3 : scale > 1e-4 && worst <= 2e-2 * scale;
  if (!ok || getenv("KN_FD_VERBOSE"))
    printf("  %s: worst |fd - analytic| %.3g, max |analytic| %.3g\n", t->g->vals[v].name, worst, scale);
  return ok;
}

int main(void) {
  net t;
  memset(&t, 0, sizeof t);
  build_forward(&t);
  build_backward(&t);
  kn_diag d;
  kn_diag_init(&d);
  bool verified = kn_graph_verify(t.g, &d);
  if (!verified) kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  expect(verified, "graph verifies");
  check_init(&t);

  kn_interp *it = kn_interp_create(t.g);
  kn_interp_init_params(it, 42);
  fill_batch(it, &t);
  kn_interp_f32(it, t.g->lr)[0] = 0.1f;
  run_nodes(it, 0, t.n_bwd);
  float loss0 = kn_interp_f32(it, t.loss)[0];
  expect(isfinite(loss0) && fabs(loss0 - log(10.0)) < 1.0, "forward: loss finite and near ln(10)");

  bool grads_ok = fd_value(it, &t, t.x, t.dx, false);
  for (int i = 0; i < 6; i++) grads_ok &= fd_value(it, &t, t.params[i], t.grads[i], t.params[i] == t.cb);
  expect(grads_ok, "backward: every parameter gradient and the input gradient match finite differences");

  float losses[6];
  for (int s = 0; s < 6; s++) {
    kn_interp_run(it);
    losses[s] = kn_interp_f32(it, t.loss)[0];
  }
  bool decreasing = true;
  for (int s = 1; s < 6; s++) decreasing &= losses[s] < losses[s - 1];
  printf("  losses: %.4f %.4f %.4f %.4f %.4f %.4f\n", losses[0], losses[1], losses[2], losses[3], losses[4],
         losses[5]);
  expect(fabs(losses[0] - loss0) < 1e-6 && decreasing && losses[5] < 0.8 * losses[0],
         "training: six SGD steps on one batch lower the loss each step");
  expect(!all_equal(it, t.rm, t.g, 0) && !all_equal(it, t.rv, t.g, 1), "training: running statistics updated");

  kn_interp_dispose(it);
  kn_graph_dispose(t.g);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
