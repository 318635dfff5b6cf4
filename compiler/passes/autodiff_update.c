/* autodiff_update.c — the in-place updates at the end of a training step: BatchNorm running
 * statistics (from the batch statistics of training-mode BN) and the optimizer step of every
 * trainable parameter, with PyTorch's state names and hyper-parameters from the train config.
 *
 *   sgd_update(param, grad, lr, momentum_buffer)   momentum_buffer only when momentum > 0
 *   adam_update(param, grad, lr, step, exp_avg, exp_avg_sq)   DECOUPLED = 1 for AdamW
 *
 * The learning rate and the step count are run-time inputs "lr" and "step" ([1], f32), so a
 * schedule needs no recompilation; the runtime feeds step = 1, 2, ... (PyTorch's count).
 */
#include <stdlib.h>

#include "autodiff_internal.h"
#include "util.h"

static int add_state(kn_graph *g, int p, const char *suffix) {
  char *name = kn_fmt("%s.%s", g->vals[p].name, suffix);
  int v = kn_graph_add_state(g, name, g->vals[p].shape, KN_INIT_ZERO);
  free(name);
  return v;
}

static void add_running_updates(kn_ad *a) {
  kn_graph *g = a->g;
  for (int id = 0; id < a->n_fwd_nodes && a->ok; id++) {
    const kn_node *n = &g->nodes[id];
    if (n->dead || n->op != KN_OP_BATCHNORM2D || !kn_node_int(n, KN_ATTR_TRAINING)) continue;
    kn_shape x = g->vals[n->in[0]].shape;
    int in[4] = {n->in[3], n->in[4], n->out[1], n->out[2]};
    kn_node *u = kn_ad_begin(a, KN_OP_BN_RUNNING_UPDATE, id, "running_update", in, 4, NULL);
    kn_node_set_float(u, KN_ATTR_MOMENTUM, kn_node_float(&g->nodes[id], KN_ATTR_MOMENTUM));
    kn_node_set_int(u, KN_ATTR_COUNT, x.d[0] * x.d[2] * x.d[3]);
    kn_node_set_int(u, KN_ATTR_SYNC, kn_node_int(&g->nodes[id], KN_ATTR_SYNC)); /* count x ranks (--sync-bn) */
    kn_ad_end(a);
  }
}

static void add_optimizer_update(kn_ad *a, int p) {
  kn_graph *g = a->g;
  const kn_train_config *c = a->cfg;
  char *name = kn_fmt("update.%s", g->vals[p].name);
  kn_node *u;
  if (c->optim == KN_OPTIM_SGD) {
    int in[4] = {p, a->grad[p], g->lr, -1};
    int n_in = 3;
    if (c->momentum > 0) in[n_in++] = add_state(g, p, "momentum_buffer");
    u = kn_ad_begin(a, KN_OP_SGD_UPDATE, -1, name, in, n_in, NULL);
    kn_node_set_float(u, KN_ATTR_MOMENTUM, c->momentum);
    kn_node_set_float(u, KN_ATTR_DAMPENING, c->dampening);
    kn_node_set_float(u, KN_ATTR_WEIGHT_DECAY, c->weight_decay);
    kn_node_set_int(u, KN_ATTR_NESTEROV, c->nesterov);
  } else {
    int m = add_state(g, p, "exp_avg");
    int v = add_state(g, p, "exp_avg_sq");
    u = kn_ad_begin(a, KN_OP_ADAM_UPDATE, -1, name, (int[]){p, a->grad[p], g->lr, g->step, m, v}, 6, NULL);
    kn_node_set_float(u, KN_ATTR_BETA1, c->beta1);
    kn_node_set_float(u, KN_ATTR_BETA2, c->beta2);
    kn_node_set_float(u, KN_ATTR_EPS, c->eps);
    kn_node_set_float(u, KN_ATTR_WEIGHT_DECAY, c->weight_decay);
    kn_node_set_int(u, KN_ATTR_DECOUPLED, c->optim == KN_OPTIM_ADAMW);
  }
  free(name);
  kn_ad_end(a);
}

void kn_ad_add_updates(kn_ad *a, kn_autodiff_report *rep) {
  kn_graph *g = a->g;
  g->lr = kn_graph_add_input(g, "lr", KN_DT_F32, kn_shape1(1));
  g->step = kn_graph_add_input(g, "step", KN_DT_F32, kn_shape1(1));
  add_running_updates(a);
  rep->trainable_params = 0;
  for (int p = 0; p < a->n_fwd_vals && a->ok; p++) {
    const kn_value *v = &g->vals[p];
    if (v->kind != KN_VAL_PARAM || !v->trainable || a->grad[p] < 0) continue;
    add_optimizer_update(a, p);
    rep->trainable_params++;
  }
}
