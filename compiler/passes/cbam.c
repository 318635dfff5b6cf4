/* cbam.c — CBAM fusion (Woo et al. 2018), on the forward pass:
 *   1. channel attention's global_avgpool and global_maxpool of the same tensor: one kernel, one
 *      pass over the tensor (the group is hoisted to the first pool); likewise spatial attention's
 *      channel_mean and channel_max;
 *   2. the shared MLP: the two branches conv1x1 -> relu -> conv1x1 (same weights, one on the
 *      average, one on the max), their add and the sigmoid: one kernel, which runs the MLP once on
 *      both pooled vectors stacked as a batch of 2N;
 *   3. the channel gate: mul(x, sigmoid gate) joins the kernel of the channel_mean/channel_max
 *      pair reading its result, with the concat of the two maps: one pass scales x (writing the
 *      gated tensor, which the spatial gate reads again) and reduces it over channels;
 *   4. the spatial conv (7x7 on the two maps) with its sigmoid; the spatial scale mul is then an
 *      ordinary elementwise chain with its consumers (add, relu), left to eltwise.c. */
#include <stdlib.h>

#include "kernel_groups.h"
#include "pass_util.h"
#include "pipeline.h"
#include "util.h"

static bool fwd(const kn_node *n) { return !n->dead && !kn_node_is_backward(n); }

/* Joins the kernels of the producers of values a and b when legal. */
static bool join_values(kn_graph *g, int a, int b) {
  int pa = g->vals[a].producer, pb = g->vals[b].producer;
  if (pa < 0 || pb < 0 || !kn_kernels_can_join(g, pa, pb)) return false;
  kn_kernels_join(g, pa, pb);
  return true;
}

/* Step 1: pairs of reductions of the same input. */
static void pair_pools(kn_graph *g, kn_op first, kn_op second) {
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *a = &g->nodes[i];
    if (!fwd(a) || a->op != first || a->kernel) continue;
    for (int j = 0; j < g->n_nodes; j++) {
      const kn_node *b = &g->nodes[j];
      if (!fwd(b) || b->op != second || b->kernel || b->in[0] != a->in[0]) continue;
      join_values(g, a->out[0], b->out[0]);
      break;
    }
  }
}

/* A branch of the shared MLP ending in value v: the output values of conv/relu nodes walking back
 * from v, each read (forward) only by the next. Returns the count (at most cap). */
static int branch(const kn_graph *g, const kn_uses *u, int v, int *vals, int cap) {
  int n = 0;
  for (;;) {
    int p = g->vals[v].producer;
    if (p < 0 || n == cap) break;
    const kn_node *pn = &g->nodes[p];
    if (!fwd(pn) || (pn->op != KN_OP_CONV2D && pn->op != KN_OP_RELU)) break;
    if (n > 0 && kn_next_user(g, u, v) < 0) break;
    vals[n++] = v;
    v = pn->in[0];
  }
  return n;
}

/* Step 2. */
static void shared_mlp(kn_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *s = &g->nodes[i];
    if (!fwd(s) || s->op != KN_OP_ADD || s->kernel) continue;
    kn_uses u;
    kn_uses_build(g, &u);
    int a[8], b[8], na = branch(g, &u, s->in[0], a, 8), nb = branch(g, &u, s->in[1], b, 8);
    bool ok = na > 0 && na == nb;
    for (int k = 0; ok && k < na; k++) {
      const kn_node *x = &g->nodes[g->vals[a[k]].producer], *y = &g->nodes[g->vals[b[k]].producer];
      ok = x->op == y->op && x->kernel == 0 && y->kernel == 0 &&
           (x->op != KN_OP_CONV2D || (x->in[1] == y->in[1] && g->vals[x->in[0]].shape.d[2] == 1 &&
                                       g->vals[x->in[0]].shape.d[3] == 1));
    }
    int sum = s->out[0];
    int sig = kn_next_user(g, &u, sum);
    kn_uses_free(&u);
    if (!ok) continue;
    for (int k = na - 1; k >= 0; k--) join_values(g, a[na - 1], a[k]);
    for (int k = nb - 1; k >= 0; k--) join_values(g, a[na - 1], b[k]);
    join_values(g, a[na - 1], sum);
    if (sig >= 0 && g->nodes[sig].op == KN_OP_SIGMOID) join_values(g, sum, g->nodes[sig].out[0]);
    if (g->nodes[g->vals[sum].producer].kernel) i = -1; /* ids moved; rescan */
  }
}

/* Step 3: the channel gate into the channel pooling, and the concat of the two maps. */
static void gate_into_pool(kn_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *m = &g->nodes[i];
    if (!fwd(m) || m->op != KN_OP_MUL || m->kernel) continue;
    int gate = -1;
    for (int j = 0; j < 2; j++) {
      int p = g->vals[m->in[j]].producer;
      if (p >= 0 && g->nodes[p].op == KN_OP_SIGMOID && g->nodes[p].kernel &&
          kn_shape_eq(g->vals[m->in[1 - j]].shape, g->vals[m->out[0]].shape))
        gate = j;
    }
    if (gate < 0) continue;
    int out = m->out[0], mean = -1;
    for (int j = 0; j < g->n_nodes; j++)
      if (fwd(&g->nodes[j]) && g->nodes[j].op == KN_OP_CHANNEL_MEAN && g->nodes[j].in[0] == out) mean = j;
    if (mean < 0 || !g->nodes[mean].kernel) continue;
    int map = g->nodes[mean].out[0];
    if (!join_values(g, out, map)) continue;
    kn_uses u;
    kn_uses_build(g, &u);
    int cat = kn_next_user(g, &u, map);
    kn_uses_free(&u);
    if (cat >= 0 && g->nodes[cat].op == KN_OP_CONCAT && !g->nodes[cat].kernel) join_values(g, map, g->nodes[cat].out[0]);
    i = -1;
  }
}

/* Step 4: the spatial conv reading the pooled maps, with its sigmoid. */
static void spatial_conv(kn_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *c = &g->nodes[i];
    if (!fwd(c) || c->op != KN_OP_CONV2D || c->kernel) continue;
    int p = g->vals[c->in[0]].producer;
    if (p < 0 || g->nodes[p].op != KN_OP_CONCAT || !g->nodes[p].kernel) continue;
    kn_uses u;
    kn_uses_build(g, &u);
    int s = kn_next_user(g, &u, c->out[0]);
    kn_uses_free(&u);
    if (s >= 0 && g->nodes[s].op == KN_OP_SIGMOID && !g->nodes[s].kernel &&
        join_values(g, c->out[0], g->nodes[s].out[0]))
      i = -1;
  }
}

bool kn_pass_cbam(kn_graph *g, kn_diag *d) {
  (void)d;
  pair_pools(g, KN_OP_GLOBAL_AVGPOOL, KN_OP_GLOBAL_MAXPOOL);
  pair_pools(g, KN_OP_CHANNEL_MEAN, KN_OP_CHANNEL_MAX);
  shared_mlp(g);
  gate_into_pool(g);
  spatial_conv(g);
  return true;
}
