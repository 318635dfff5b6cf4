/* test_autodiff_frozen.c — frozen scopes: frozen parameters get no gradient and no optimizer
 * state, backward stops where nothing trainable lies upstream, and the trainable parameters'
 * gradients equal those of the unfrozen graph. BatchNorm in a frozen scope in eval mode
 * (running statistics) is checked by finite differences, through a trainable conv upstream.
 */
#include <math.h>
#include <string.h>

#include "ad_build.h"
#include "kn_check.h"
#include "fd.h"

/* input [2,3,8,8] -> conv1 -> bn1 -> act -> conv2 -> bn2 -> add(act out) -> act -> pool -> head;
 * act is relu, or sigmoid where finite differences must not meet kinks. */
static kn_graph *net(kn_op act) {
  kn_graph *g = kn_graph_create("frozen");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 8, 8));
  int r = adb_unary(g, act, "act1", adb_bn(g, "bn1", adb_conv(g, "conv1", g->input, 4, 3, 1, 1, false)));
  int y = adb_bn(g, "bn2", adb_conv(g, "conv2", r, 4, 3, 1, 1, true));
  y = adb_unary(g, act, "act2", adb_binary(g, KN_OP_ADD, "add", y, r));
  adb_head(g, adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "pool", y), 5);
  return g;
}

static int count_op(const kn_graph *g, kn_op op) {
  int c = 0;
  for (int i = 0; i < g->n_nodes; i++) c += g->nodes[i].op == op;
  return c;
}

static kn_train_config config(const char *const *freeze, int n, kn_bn_frozen_mode bn) {
  kn_train_config c;
  kn_train_config_defaults(&c);
  for (int i = 0; i < n; i++) c.freeze[i] = freeze[i];
  c.n_freeze = n;
  c.bn_frozen = bn;
  return c;
}

/* Frozen conv1 + bn1 (batch statistics, PyTorch's default): the rest matches the full graph. */
static void test_equal_to_unfrozen(void) {
  kn_train_config full = config(NULL, 0, KN_BN_FROZEN_BATCH);
  static const char *const fr[] = {"conv1", "bn1"};
  kn_train_config part = config(fr, 2, KN_BN_FROZEN_BATCH);
  fd_case a, b;
  if (!fd_case_init(&a, net(KN_OP_RELU), &full, 7) || !fd_case_init(&b, net(KN_OP_RELU), &part, 7)) {
    CHECK(!"autodiff failed");
    return;
  }
  float la = fd_run(&a, true), lb = fd_run(&b, true);
  CHECK(la == lb);
  static const char *const frozen[] = {"conv1.weight", "bn1.weight", "bn1.bias"};
  for (int i = 0; i < 3; i++) {
    char buf[96];
    snprintf(buf, sizeof buf, "grad:%s", frozen[i]);
    CHECK(kn_graph_find_value(b.g, buf) < 0 && kn_graph_find_value(a.g, buf) >= 0);
    snprintf(buf, sizeof buf, "%s.momentum_buffer", frozen[i]);
    CHECK(kn_graph_find_value(b.g, buf) < 0);
  }
  int compared = 0;
  for (int v = 0; v < b.g->n_vals; v++) {
    int p = b.g->vals[v].grad_of;
    if (p < 0 || b.g->vals[p].kind != KN_VAL_PARAM) continue;
    int va = kn_graph_find_value(a.g, b.g->vals[v].name);
    CHECK(va >= 0);
    if (va < 0) continue;
    const float *ga = kn_interp_f32(a.it, va), *gb = kn_interp_f32(b.it, v);
    double worst = 0;
    for (int64_t i = 0; i < kn_shape_numel(b.g->vals[v].shape); i++)
      worst = fmax(worst, fabs(ga[i] - gb[i]) / (1e-6 * fabs(ga[i]) + 1e-9));
    if (worst > 1) fprintf(stderr, "FAIL %s differs from the unfrozen graph (%.3g of tolerance)\n", b.g->vals[v].name, worst);
    CHECK(worst <= 1);
    compared++;
  }
  CHECK(compared == 6); /* conv2.weight, conv2.bias, bn2.weight, bn2.bias, fc.weight, fc.bias */
  /* Backward stops at act1's output: bn1, conv1 and act1 get no backward. */
  CHECK(count_op(b.g, KN_OP_BATCHNORM2D_GRAD) == 1 && count_op(b.g, KN_OP_CONV2D_GRAD_INPUT) == 0);
  CHECK(count_op(a.g, KN_OP_BATCHNORM2D_GRAD) == 2 && count_op(a.g, KN_OP_CONV2D_GRAD_INPUT) == 1);
  /* Frozen BN with batch statistics still updates its running statistics (PyTorch train mode). */
  CHECK(count_op(b.g, KN_OP_BN_RUNNING_UPDATE) == 2);
  fd_case_free(&a);
  fd_case_free(&b);
}

/* Running statistics far from the batch's, so eval mode differs visibly from batch mode. */
static void randomise_running_stats(fd_case *c) {
  kn_rng r;
  kn_rng_seed(&r, 99);
  for (int v = 0; v < c->g->n_vals; v++) {
    const char *n = c->g->vals[v].name;
    bool mean = strstr(n, ".running_mean") != NULL, var = strstr(n, ".running_var") != NULL;
    if (!mean && !var) continue;
    float *x = kn_interp_f32(c->it, v);
    for (int64_t i = 0; i < kn_shape_numel(c->g->vals[v].shape); i++)
      x[i] = (float)(mean ? kn_rng_uniform(&r, -0.3, 0.3) : kn_rng_uniform(&r, 0.5, 2.0));
  }
}

/* Frozen bn1 and bn2 in eval mode, every conv trainable: gradients flow through eval-mode BN
 * (batchnorm2d_grad with TRAINING = 0) into conv1 and conv2. Sigmoid activations: no kinks. */
static void test_eval_mode(void) {
  static const char *const fr[] = {"bn1", "bn2"};
  kn_train_config c = config(fr, 2, KN_BN_FROZEN_EVAL);
  fd_case f;
  if (!fd_case_init(&f, net(KN_OP_SIGMOID), &c, 11)) {
    CHECK(!"autodiff failed");
    return;
  }
  randomise_running_stats(&f);
  CHECK(count_op(f.g, KN_OP_BN_RUNNING_UPDATE) == 0);
  for (int i = 0; i < f.g->n_nodes; i++) {
    const kn_node *n = &f.g->nodes[i];
    if (n->op == KN_OP_BATCHNORM2D || n->op == KN_OP_BATCHNORM2D_GRAD) CHECK(kn_node_int(n, KN_ATTR_TRAINING) == 0);
  }
  CHECK(kn_graph_find_value(f.g, "grad:bn1.weight") < 0 && kn_graph_find_value(f.g, "grad:conv1.weight") >= 0);
  fd_stats s = {0};
  fd_check_params(&f, "frozen bn eval", NULL, 3, &s);
  printf("eval-mode frozen BN: %d checks, worst %.3f of tolerance\n", s.checks, s.worst);
  CHECK(s.checks >= 20 && s.failures == 0);
  fd_case_free(&f);
}

/* Everything but the head frozen (the fine-tune case): only fc learns, little is saved. */
static void test_head_only(void) {
  static const char *const fr[] = {"*"}, *const unfr[] = {"fc"};
  kn_train_config c = config(fr, 1, KN_BN_FROZEN_BATCH);
  c.unfreeze[0] = unfr[0];
  c.n_unfreeze = 1;
  fd_case f;
  if (!fd_case_init(&f, net(KN_OP_RELU), &c, 5)) {
    CHECK(!"autodiff failed");
    return;
  }
  int grads = 0;
  for (int v = 0; v < f.g->n_vals; v++) grads += f.g->vals[v].grad_of >= 0 && f.g->vals[v].kind == KN_VAL_ACT;
  CHECK(grads == 2 && kn_graph_find_value(f.g, "grad:fc.weight") >= 0 && kn_graph_find_value(f.g, "grad:fc.bias") >= 0);
  CHECK(count_op(f.g, KN_OP_LINEAR_GRAD_INPUT) == 0 && count_op(f.g, KN_OP_SGD_UPDATE) == 2);
  fd_stats s = {0};
  fd_check_params(&f, "head only", NULL, 3, &s);
  CHECK(s.checks == 8 && s.failures == 0);
  fd_case_free(&f);
}

int main(void) {
  test_equal_to_unfrozen();
  test_eval_mode();
  test_head_only();
  return kn_check_summary();
}
