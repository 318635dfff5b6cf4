/* test_autodiff_graph.c — structure of the training graph built by kn_autodiff (no numbers):
 * gradient names, optimizer state, BatchNorm modes, running updates, frozen scopes, errors. */
#include <string.h>

#include "ad_build.h"
#include "autodiff.h"
#include "kn_check.h"

/* input [2,3,8,8] -> conv1 -> bn1 -> relu -> conv2(bias) -> global_avgpool -> head */
static kn_graph *tiny(void) {
  kn_graph *g = kn_graph_create("tiny");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 8, 8));
  int y = adb_conv(g, "conv1", g->input, 4, 3, 1, 1, false);
  y = adb_bn(g, "bn1", y);
  y = adb_unary(g, KN_OP_RELU, "relu", y);
  y = adb_conv(g, "conv2", y, 4, 3, 1, 1, true);
  y = adb_unary(g, KN_OP_GLOBAL_AVGPOOL, "pool", y);
  adb_head(g, y, 5);
  return g;
}

static int count_op(const kn_graph *g, kn_op op) {
  int c = 0;
  for (int i = 0; i < g->n_nodes; i++) c += !g->nodes[i].dead && g->nodes[i].op == op;
  return c;
}

static const kn_node *find_node(const kn_graph *g, kn_op op) {
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == op) return &g->nodes[i];
  return NULL;
}

static bool has_grad(const kn_graph *g, const char *param) {
  char name[128];
  snprintf(name, sizeof name, "grad:%s", param);
  int v = kn_graph_find_value(g, name), p = kn_graph_find_value(g, param);
  return v >= 0 && p >= 0 && g->vals[v].grad_of == p && kn_shape_eq(g->vals[v].shape, g->vals[p].shape);
}

static bool run(kn_graph *g, const kn_train_config *c, kn_autodiff_report *r) {
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_autodiff(g, c, r, &d);
  if (!ok) kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  return ok;
}

static const char *const params[] = {"conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight",
                                     "conv2.bias", "fc.weight", "fc.bias"};

static void test_sgd(void) {
  kn_graph *g = tiny();
  kn_train_config c;
  kn_train_config_defaults(&c);
  kn_autodiff_report r;
  CHECK(run(g, &c, &r));
  for (int i = 0; i < 7; i++) {
    CHECK(has_grad(g, params[i]));
    char buf[128];
    snprintf(buf, sizeof buf, "%s.momentum_buffer", params[i]);
    int s = kn_graph_find_value(g, buf);
    CHECK(s >= 0 && g->vals[s].kind == KN_VAL_STATE);
  }
  CHECK(r.trainable_params == 7 && r.frozen_params == 0);
  CHECK(count_op(g, KN_OP_SGD_UPDATE) == 7 && count_op(g, KN_OP_ADAM_UPDATE) == 0);
  CHECK(g->lr >= 0 && g->vals[g->lr].kind == KN_VAL_INPUT && strcmp(g->vals[g->lr].name, "lr") == 0);
  CHECK(g->step >= 0 && g->vals[g->step].kind == KN_VAL_INPUT);
  const kn_node *bn = find_node(g, KN_OP_BATCHNORM2D);
  CHECK(bn && kn_node_int(bn, KN_ATTR_TRAINING) == 1 && bn->n_out == 3);
  const kn_node *ru = find_node(g, KN_OP_BN_RUNNING_UPDATE);
  CHECK(ru && kn_node_int(ru, KN_ATTR_COUNT) == 2 * 8 * 8 && ru->in[2] == bn->out[1]);
  CHECK(count_op(g, KN_OP_CONV2D_GRAD_WEIGHT) == 2 && count_op(g, KN_OP_BIAS_GRAD) == 2);
  /* Never a gradient w.r.t. the image: only conv2 gets a grad_input. */
  CHECK(count_op(g, KN_OP_CONV2D_GRAD_INPUT) == 1);
  CHECK(count_op(g, KN_OP_NLL_LOSS_GRAD) == 1 && count_op(g, KN_OP_LOG_SOFTMAX_GRAD) == 1);
  const kn_node *sgd = find_node(g, KN_OP_SGD_UPDATE);
  CHECK(sgd && sgd->n_in == 4 && sgd->in[2] == g->lr && kn_node_float(sgd, KN_ATTR_MOMENTUM) == 0.9);
  /* Saved: conv1 out (bn x), bn batch mean/var, relu out (relu_grad y, conv2 x), pool out (fc x),
   * log_softmax out. The image is an input, not counted. */
  int64_t want = 4 * (2 * 4 * 8 * 8 + 4 + 4 + 2 * 4 * 8 * 8 + 2 * 4 + 2 * 5);
  CHECK(r.saved_bytes == want);
  CHECK(kn_autodiff_saved_bytes(g) == want);
  CHECK(kn_autodiff_is_saved(g, g->output) && !kn_autodiff_is_saved(g, g->input));
  CHECK(r.skipped_nodes == 0 && r.backward_nodes > 10);
  /* The backward is well formed after compaction too. */
  kn_graph_compact(g);
  kn_diag d;
  kn_diag_init(&d);
  CHECK(kn_graph_verify(g, &d));
  kn_diag_free(&d);
  kn_graph_dispose(g);
}

static void test_adam_and_no_momentum(void) {
  kn_train_config c;
  kn_train_config_defaults(&c);
  c.optim = KN_OPTIM_ADAMW;
  c.weight_decay = 0.01;
  kn_graph *g = tiny();
  CHECK(run(g, &c, NULL));
  CHECK(count_op(g, KN_OP_ADAM_UPDATE) == 7 && count_op(g, KN_OP_SGD_UPDATE) == 0);
  CHECK(kn_graph_find_value(g, "fc.weight.exp_avg") >= 0 && kn_graph_find_value(g, "fc.weight.exp_avg_sq") >= 0);
  const kn_node *u = find_node(g, KN_OP_ADAM_UPDATE);
  CHECK(u && kn_node_int(u, KN_ATTR_DECOUPLED) == 1 && u->in[3] == g->step &&
        kn_node_float(u, KN_ATTR_WEIGHT_DECAY) == 0.01);
  kn_graph_dispose(g);

  kn_train_config_defaults(&c);
  c.momentum = 0;
  g = tiny();
  CHECK(run(g, &c, NULL));
  u = find_node(g, KN_OP_SGD_UPDATE);
  CHECK(u && u->n_in == 3 && kn_graph_find_value(g, "fc.weight.momentum_buffer") < 0);
  kn_graph_dispose(g);
}

static void test_frozen(bool bn_eval) {
  kn_train_config c;
  kn_train_config_defaults(&c);
  const char *fr[] = {"conv1", "bn1"};
  c.freeze[0] = fr[0];
  c.freeze[1] = fr[1];
  c.n_freeze = 2;
  c.bn_frozen = bn_eval ? KN_BN_FROZEN_EVAL : KN_BN_FROZEN_BATCH;
  kn_graph *g = tiny();
  kn_autodiff_report r, full;
  kn_diag d;
  kn_diag_init(&d);
  CHECK(kn_autodiff_measure(g, &c, true, &full, &d));
  kn_diag_free(&d);
  CHECK(run(g, &c, &r));
  for (int i = 0; i < 7; i++) {
    bool frozen = i < 3;
    CHECK(has_grad(g, params[i]) == !frozen);
    char buf[128];
    snprintf(buf, sizeof buf, "%s.momentum_buffer", params[i]);
    CHECK((kn_graph_find_value(g, buf) >= 0) == !frozen);
  }
  CHECK(r.trainable_params == 4 && r.frozen_params == 3 && full.trainable_params == 7);
  CHECK(count_op(g, KN_OP_BATCHNORM2D_GRAD) == 0 && count_op(g, KN_OP_RELU_GRAD) == 0);
  CHECK(count_op(g, KN_OP_CONV2D_GRAD_INPUT) == 0 && count_op(g, KN_OP_CONV2D_GRAD_WEIGHT) == 1);
  CHECK(r.skipped_nodes == 3); /* conv1, bn1, relu */
  /* Only relu out (conv2 x), pool out and log_softmax out are saved. */
  CHECK(r.saved_bytes == 4 * (2 * 4 * 8 * 8 + 2 * 4 + 2 * 5));
  CHECK(full.saved_bytes > r.saved_bytes);
  const kn_node *bn = find_node(g, KN_OP_BATCHNORM2D);
  CHECK(bn && kn_node_int(bn, KN_ATTR_TRAINING) == (bn_eval ? 0 : 1) && bn->n_out == (bn_eval ? 1 : 3));
  CHECK(count_op(g, KN_OP_BN_RUNNING_UPDATE) == (bn_eval ? 0 : 1));
  kn_graph_dispose(g);
}

static void test_errors(void) {
  kn_train_config c;
  kn_train_config_defaults(&c);
  kn_diag d;
  kn_diag_init(&d);
  kn_graph *g = kn_graph_create("noloss");
  g->input = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(1, 1, 4, 4));
  adb_unary(g, KN_OP_RELU, "relu", g->input);
  CHECK(!kn_autodiff(g, &c, NULL, &d) && d.n_errors == 1 && strstr(d.items[0].msg, "no loss"));
  kn_graph_dispose(g);
  kn_diag_free(&d);
  kn_diag_init(&d);
  g = tiny();
  int y = g->nodes[2].out[0];
  kn_node *n = kn_graph_add_node(g, KN_OP_RELU_GRAD, "bad", (int[]){y, y}, 2, (kn_loc){"t.yaml", 7, 3});
  adb_node(g, n);
  CHECK(!kn_autodiff(g, &c, NULL, &d) && d.n_errors == 1 && d.items[0].loc.line == 7 &&
        strstr(d.items[0].msg, "relu_grad"));
  kn_graph_dispose(g);
  kn_diag_free(&d);
}

int main(void) {
  test_sgd();
  test_adam_and_no_momentum();
  test_frozen(false);
  test_frozen(true);
  test_errors();
  return kn_check_summary();
}
