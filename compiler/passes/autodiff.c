/* autodiff.c — the autodiff pass: rewrites a forward graph ending in g->loss into the whole
 * training step (forward in training mode, backward, running-statistics and optimizer updates).
 *
 * Steps, in order:
 *   1. parameters inside frozen scopes become non-trainable; BatchNorm switches to batch
 *      statistics (3 outputs) except frozen BN when cfg->bn_frozen == KN_BN_FROZEN_EVAL;
 *   2. needs-grad analysis: a value needs a gradient when a trainable parameter lies upstream;
 *   3. reverse sweep over the forward nodes, seeded with d(loss)/d(loss) = 1, one rule per op
 *      (autodiff_rules.c); gradients of values with several users are summed with `add`;
 *   4. the gradient of each trainable parameter is named "grad:<param>";
 *   5. running-statistics and optimizer updates at the end of the graph (autodiff_update.c);
 *   6. gradient all-reduce for data-parallel training between each gradient and its update
 *      (allreduce.c; the identity with one process).
 */
#include <stdlib.h>
#include <string.h>

#include "autodiff_internal.h"
#include "util.h"

kn_node *kn_ad_begin(kn_ad *a, kn_op op, int fwd, const char *what, const int *in, int n_in,
                     const kn_node *attrs_from) {
  kn_graph *g = a->g;
  kn_node src;
  if (attrs_from) src = *attrs_from; /* the nodes array may move on add */
  kn_loc loc = fwd >= 0 ? g->nodes[fwd].loc : (kn_loc){0};
  char *name = fwd >= 0 ? kn_fmt("bwd.%s.%s", g->nodes[fwd].name, what) : kn_xstrdup(what);
  kn_node *n = kn_graph_add_node(g, op, name, in, n_in, loc);
  free(name);
  n->fwd = fwd;
  if (attrs_from) {
    kn_node_copy_attrs(n, &src);
    n->attr_set &= kn_op_table[op].attrs;
  }
  a->added++;
  return n;
}

int kn_ad_end(kn_ad *a) {
  kn_node *n = &a->g->nodes[a->g->n_nodes - 1];
  if (!kn_node_infer(a->g, n, a->d)) {
    a->ok = false;
    return -1;
  }
  n = &a->g->nodes[a->g->n_nodes - 1];
  return n->n_out ? n->out[0] : -1;
}

int kn_ad_emit(kn_ad *a, kn_op op, int fwd, const char *what, const int *in, int n_in,
               const kn_node *attrs_from) {
  kn_ad_begin(a, op, fwd, what, in, n_in, attrs_from);
  return kn_ad_end(a);
}

void kn_ad_accumulate(kn_ad *a, int fwd, int v, int contrib) {
  if (contrib < 0) return;
  KN_ASSERT(v >= 0 && v < a->n_fwd_vals);
  KN_ASSERT(kn_shape_eq(a->g->vals[v].shape, a->g->vals[contrib].shape));
  if (a->grad[v] < 0) a->grad[v] = contrib;
  else a->grad[v] = kn_ad_emit(a, KN_OP_ADD, fwd, "acc", (int[]){a->grad[v], contrib}, 2, NULL);
}

/* BatchNorm inside a frozen scope: the node is marked, its scope is frozen by the config, or its
 * affine parameters are not trainable. */
static bool bn_is_frozen(const kn_ad *a, const kn_node *n) {
  if (n->frozen || kn_train_is_frozen(a->cfg, n->name)) return true;
  const kn_value *gamma = &a->g->vals[n->in[1]];
  return gamma->kind == KN_VAL_PARAM && !gamma->trainable;
}

/* Step 1. */
static bool prepare_forward(kn_ad *a, kn_autodiff_report *rep) {
  kn_graph *g = a->g;
  for (int v = 0; v < g->n_vals; v++) {
    kn_value *val = &g->vals[v];
    if (val->kind != KN_VAL_PARAM) continue;
    if (val->trainable && kn_train_is_frozen(a->cfg, val->name)) val->trainable = false;
    if (val->trainable) rep->trainable_params++;
    else rep->frozen_params++;
  }
  for (int i = 0; i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    if (kn_op_table[n->op].flags & (KN_OPF_GRAD | KN_OPF_UPDATE)) {
      kn_diag_error(a->d, n->loc, "autodiff builds backward and update ops itself",
                    "op '%s' (node '%s') cannot appear in a forward graph", kn_op_table[n->op].name, n->name);
      return false;
    }
    if (n->op != KN_OP_BATCHNORM2D) continue;
    bool eval = a->cfg->bn_frozen == KN_BN_FROZEN_EVAL && bn_is_frozen(a, n);
    int old_out = n->n_out, old[KN_MAX_OUT];
    memcpy(old, n->out, sizeof old);
    kn_node_set_int(n, KN_ATTR_TRAINING, eval ? 0 : 1);
    if (!kn_node_infer(g, n, a->d)) return false;
    n = &g->nodes[i];
    for (int k = n->n_out; k < old_out; k++) g->vals[old[k]].producer = -1; /* batch stats dropped */
  }
  return true;
}

/* Step 2. */
static void analyse_needs(kn_ad *a) {
  kn_graph *g = a->g;
  for (int v = 0; v < a->n_fwd_vals; v++)
    a->needs[v] = g->vals[v].kind == KN_VAL_PARAM && g->vals[v].trainable;
  for (int i = 0; i < a->n_fwd_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    bool any = false;
    for (int j = 0; j < n->n_in; j++) any |= a->needs[n->in[j]];
    for (int k = 0; k < n->n_out; k++) a->needs[n->out[k]] = any;
  }
}

/* Step 3. */
static bool sweep(kn_ad *a, kn_autodiff_report *rep) {
  kn_graph *g = a->g;
  char *seed_name = kn_fmt("grad:%s", g->vals[g->loss].name);
  int seed = kn_graph_add_const(g, seed_name, kn_shape1(1), 1.0f);
  free(seed_name);
  g->vals[seed].grad_of = g->loss;
  a->grad[g->loss] = seed;
  for (int id = a->n_fwd_nodes - 1; id >= 0 && a->ok; id--) {
    const kn_node *n = &g->nodes[id];
    if (n->dead) continue;
    int dy[KN_MAX_OUT] = {-1, -1, -1};
    bool any_dy = false, any_need = false;
    for (int k = 0; k < n->n_out; k++) {
      dy[k] = a->grad[n->out[k]];
      any_dy |= dy[k] >= 0;
    }
    for (int j = 0; j < n->n_in; j++) any_need |= a->needs[n->in[j]];
    if (!any_dy || !any_need) {
      rep->skipped_nodes++;
      continue;
    }
    KN_ASSERT(dy[0] >= 0); /* only output 0 of any forward op feeds other forward ops */
    if (!kn_ad_rule(a, id, dy)) return false;
  }
  return a->ok;
}

/* Step 4: "grad:<param>" on the final gradient of each trainable parameter. */
static void name_param_grads(kn_ad *a) {
  kn_graph *g = a->g;
  for (int p = 0; p < a->n_fwd_vals; p++) {
    if (g->vals[p].kind != KN_VAL_PARAM || !g->vals[p].trainable || a->grad[p] < 0) continue;
    int gv = a->grad[p];
    if (g->vals[gv].grad_of >= 0 || g->vals[gv].producer < 0) {
      /* Shared with another parameter or the seed: give this one its own copy. */
      kn_node *b = kn_ad_begin(a, KN_OP_RESHAPE, -1, "grad_copy", &gv, 1, NULL);
      kn_node_set_shape(b, KN_ATTR_SHAPE, g->vals[p].shape);
      gv = kn_ad_end(a);
      if (gv < 0) return;
      a->grad[p] = gv;
    }
    free(g->vals[gv].name);
    g->vals[gv].name = kn_fmt("grad:%s", g->vals[p].name);
    g->vals[gv].grad_of = p;
  }
}

bool kn_autodiff(kn_graph *g, const kn_train_config *cfg, kn_autodiff_report *rep, kn_diag *d) {
  kn_autodiff_report local;
  if (!rep) rep = &local;
  memset(rep, 0, sizeof *rep);
  if (g->loss < 0) {
    kn_diag_error(d, (kn_loc){0}, "end the network with log_softmax and nll_loss",
                  "graph '%s' has no loss to differentiate", g->name);
    return false;
  }
  kn_ad a = {.g = g, .cfg = cfg, .d = d, .ok = true};
  if (!prepare_forward(&a, rep)) return false;
  a.n_fwd_vals = g->n_vals;
  a.n_fwd_nodes = g->n_nodes;
  a.grad = kn_xmalloc((size_t)a.n_fwd_vals * sizeof *a.grad);
  a.needs = kn_xcalloc((size_t)a.n_fwd_vals, sizeof *a.needs);
  for (int v = 0; v < a.n_fwd_vals; v++) a.grad[v] = -1;
  analyse_needs(&a);
  bool ok = sweep(&a, rep);
  if (ok) name_param_grads(&a);
  if (ok && a.ok) kn_ad_add_updates(&a, rep);
  ok = ok && a.ok && kn_pass_allreduce(g, d);
  free(a.grad);
  free(a.needs);
  rep->backward_nodes = a.added;
  if (!ok) return false;
  if (!kn_graph_verify(g, d)) return false;
  rep->saved_bytes = kn_autodiff_saved_bytes(g);
  return true;
}

bool kn_autodiff_measure(const kn_graph *fwd, const kn_train_config *cfg, bool ignore_freeze,
                         kn_autodiff_report *rep, kn_diag *d) {
  kn_graph *g = kn_graph_clone(fwd);
  kn_train_config c = *cfg;
  if (ignore_freeze) {
    c.n_freeze = c.n_unfreeze = 0;
    for (int v = 0; v < g->n_vals; v++)
      if (g->vals[v].kind == KN_VAL_PARAM) g->vals[v].trainable = true;
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i].frozen = false;
  }
  bool ok = kn_autodiff(g, &c, rep, d);
  kn_graph_dispose(g);
  return ok;
}
