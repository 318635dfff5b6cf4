/* cpu_conv_ep.c — conv epilogues: inside a kernel group, a forward conv2d followed by
 *     [batchnorm2d eval] -> [relu] -> [add residual] -> [relu]
 * (each optional, in this order, each link reading the previous value) becomes ONE call of
 * kn_k_conv2d_ep (kernels/conv.c), which applies the chain to each output tile as it stores it.
 * The intermediate values must be read only inside the chain (not saved for backward, not pinned):
 * they get no arena slot. The chain ends early at the first value read elsewhere. Planned as a
 * kn_fuse_run with conv_ep set; its prog holds kn_k_conv2d_ep's constant arguments.
 * Training: a conv whose output feeds a training-mode batchnorm2d of the same group that a sweep
 * computes becomes a one-node conv epilogue that gathers the batch statistics per pixel tile
 * (kn_cg_conv_stats_plan, into the entry's scratch region); the sweep merges them instead of
 * reading the conv output once more. */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "kernels/kn_kernels.h"
#include "pass_util.h"
#include "util.h"

enum { ST_HEAD, ST_BN, ST_RELU, ST_ADD, ST_RELU2 };

/* Whether v is read by a live node outside nodes[0, len), pinned, or not an activation. */
static bool read_outside(const kn_graph *g, const bool *pinned, int v, const int *nodes, int len) {
  if ((pinned && pinned[v]) || kn_value_pinned(g, v) || g->vals[v].kind != KN_VAL_ACT) return true;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    bool inside = false;
    for (int j = 0; j < len; j++) inside |= nodes[j] == i;
    if (n->dead || inside) continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] == v) return true;
  }
  return false;
}

/* Stage of node c continuing the chain from value cur at stage st; -1 if it does not fit. The
 * other operand of an add is returned in *res. */
static int stage_of(const kn_graph *g, const kn_node *c, int cur, int st, int *res) {
  if (c->n_out < 1 || !kn_shape_eq(g->vals[c->out[0]].shape, g->vals[cur].shape)) return -1;
  if (c->op == KN_OP_BATCHNORM2D)
    return st == ST_HEAD && c->n_out == 1 && c->in[0] == cur && !kn_node_int(c, KN_ATTR_TRAINING) ? ST_BN : -1;
  if (c->op == KN_OP_RELU) return c->in[0] != cur ? -1 : st < ST_RELU ? ST_RELU : st == ST_ADD ? ST_RELU2 : -1;
  if (c->op == KN_OP_ADD && st < ST_ADD && (c->in[0] == cur) != (c->in[1] == cur)) {
    *res = c->in[0] == cur ? c->in[1] : c->in[0];
    return kn_shape_eq(g->vals[*res].shape, g->vals[cur].shape) && g->vals[*res].dtype == KN_DT_F32 ? ST_ADD : -1;
  }
  return -1;
}

/* A new run of fp starting at node `first` (fp->runs may move). */
static kn_fuse_run *new_run(kn_fuse_plan *fp, int first, int n_nodes) {
  fp->runs = kn_xrealloc(fp->runs, (size_t)(fp->n_runs + 1) * sizeof *fp->runs);
  kn_fuse_run *R = &fp->runs[fp->n_runs++];
  memset(R, 0, sizeof *R);
  R->first = first;
  R->n_nodes = n_nodes;
  return R;
}

/* Accounts the one-node statistics run just made for `node`, whose partials take `bytes`. */
static void stats_run_done(kn_fuse_plan *fp, int node, int64_t bytes) {
  fp->runs[fp->n_runs - 1].stats = true;
  fp->run_of[node] = fp->n_runs - 1;
  fp->fused_nodes++;
  fp->conv_eps++;
  fp->conv_stats++;
  if (bytes > fp->scratch_bytes) fp->scratch_bytes = bytes;
}

/* R's prog: kn_k_conv2d_ep's constant arguments for conv node h; R's items. */
static void set_prog(kn_fuse_run *R, const kn_graph *g, const kn_node *h, int has_bn, double eps, int relu1,
                     int has_res, int relu2, int has_stats) {
  kn_shape x = g->vals[h->in[0]].shape, y = g->vals[h->out[0]].shape;
  double c[23];
  kn_cg_conv_geom(h, x, y, c);
  double ep[7] = {h->n_in == 3, has_bn, eps, relu1, has_res, relu2, has_stats};
  memcpy(c + 16, ep, sizeof ep);
  int64_t G = (int64_t)c[15];
  R->n_prog = 23;
  R->prog = kn_xmalloc(sizeof c);
  memcpy(R->prog, c, sizeof c);
  R->items = kn_conv_fwd_items(x.d[0], G, y.d[1] / G, y.d[2] * y.d[3]);
}

int64_t kn_cg_conv_stats_plan(kn_fuse_plan *fp, const kn_graph *g, int node) {
  const kn_node *h = &g->nodes[node];
  if (h->dead || h->op != KN_OP_CONV2D || h->n_out != 1 || fp->run_of[node] >= 0) return 0;
  kn_shape x = g->vals[h->in[0]].shape, y = g->vals[h->out[0]].shape;
  if (x.rank != 4 || y.rank != 4 || g->vals[h->in[0]].dtype != KN_DT_F32 || h->n_in + 2 > KN_CG_MAXPTR) return 0;
  kn_fuse_run *R = new_run(fp, node, 1);
  R->conv_ep = true;
  for (int k = 0; k < h->n_in; k++) R->vals[R->n_vals++] = h->in[k];
  R->vals[R->n_vals++] = h->out[0];
  R->vals[R->n_vals++] = KN_CG_SCRATCH;
  set_prog(R, g, h, 0, 0.0, 0, 0, 0, 1);
  int64_t tiles = y.d[0] * kn_cdiv(y.d[2] * y.d[3], KN_NC);
  stats_run_done(fp, node, tiles * y.d[1] * 4 * (int64_t)sizeof(double));
  return tiles;
}

int64_t kn_cg_conv_gi_stats_plan(kn_fuse_plan *fp, const kn_graph *g, int node, const int *others, int n_other,
                                 int mask, int x, int mean) {
  const kn_node *h = &g->nodes[node];
  if (h->dead || h->op != KN_OP_CONV2D_GRAD_INPUT || h->n_in != 2 || h->n_out != 1 || fp->run_of[node] >= 0 ||
      n_other > 3)
    return 0;
  kn_shape xs = g->vals[h->out[0]].shape, ys = g->vals[h->in[0]].shape;
  if (xs.rank != 4 || ys.rank != 4 || g->vals[h->out[0]].dtype != KN_DT_F32) return 0;
  kn_fuse_run *R = new_run(fp, node, 1);
  R->conv_ep = R->conv_gi = true;
  R->vals[R->n_vals++] = h->in[0];
  R->vals[R->n_vals++] = h->in[1];
  R->vals[R->n_vals++] = h->out[0];
  for (int k = 0; k < n_other; k++) R->vals[R->n_vals++] = others[k];
  if (mask >= 0) R->vals[R->n_vals++] = mask;
  R->vals[R->n_vals++] = x;
  R->vals[R->n_vals++] = mean;
  R->vals[R->n_vals++] = KN_CG_SCRATCH;
  double c[19];
  bool direct = kn_cg_conv_geom(h, xs, ys, c);
  c[16] = direct, c[17] = n_other, c[18] = mask >= 0;
  R->n_prog = 19;
  R->prog = kn_xmalloc(sizeof c);
  memcpy(R->prog, c, sizeof c);
  R->items = kn_cg_conv_gi_items(c, direct);
  int64_t N = xs.d[0], tiles = direct ? N * kn_cdiv(ys.d[2] * ys.d[3], KN_NC) : N;
  stats_run_done(fp, node, tiles * xs.d[1] * 2 * (int64_t)sizeof(double));
  return tiles;
}

int kn_cg_conv_ep_plan(kn_fuse_plan *fp, const kn_graph *g, const bool *pinned, const int *nodes, int len) {
  const kn_node *h = &g->nodes[nodes[0]];
  if (h->op != KN_OP_CONV2D || h->n_out != 1 || len < 2) return 0;
  kn_shape x = g->vals[h->in[0]].shape, y = g->vals[h->out[0]].shape;
  if (x.rank != 4 || y.rank != 4 || g->vals[h->in[0]].dtype != KN_DT_F32) return 0;
  int cur = h->out[0], st = ST_HEAD, n = 1, bn = -1, res = -1, relu1 = 0, relu2 = 0;
  while (n < len) {
    const kn_node *c = &g->nodes[nodes[n]];
    int r = -1, ns = stage_of(g, c, cur, st, &r);
    if (ns < 0) break;
    /* cur must be read only by the chain: by c and nothing after it in the group */
    if (read_outside(g, pinned, cur, nodes, n + 1)) break;
    if (ns == ST_BN) bn = nodes[n];
    if (ns == ST_RELU) relu1 = 1;
    if (ns == ST_ADD) res = r;
    if (ns == ST_RELU2) relu2 = 1;
    cur = c->out[0], st = ns, n++;
  }
  if (n < 2) return 0;
  int r = fp->n_runs;
  kn_fuse_run *R = new_run(fp, nodes[0], n);
  R->conv_ep = true;
  for (int k = 0; k < h->n_in; k++) R->vals[R->n_vals++] = h->in[k];
  if (bn >= 0)
    for (int k = 1; k < 5; k++) R->vals[R->n_vals++] = g->nodes[bn].in[k];
  if (res >= 0) R->vals[R->n_vals++] = res;
  R->vals[R->n_vals++] = cur;
  set_prog(R, g, h, bn >= 0, bn >= 0 ? kn_node_float(&g->nodes[bn], KN_ATTR_EPS) : 0.0, relu1, res >= 0, relu2, 0);
  for (int i = 0; i < n; i++) {
    fp->run_of[nodes[i]] = r;
    if (i < n - 1) {
      fp->skip[g->nodes[nodes[i]].out[0]] = true;
      fp->internal++;
    }
  }
  fp->fused_nodes += n;
  fp->conv_eps++;
  return n;
}

void kn_cg_lower_conv_ep(kn_cg *cg, const kn_fuse_run *R) {
  kn_cg_call(cg, R->conv_gi ? "kn_k_conv2d_grad_input_st" : "kn_k_conv2d_ep", R->vals, R->n_vals, R->prog, R->n_prog,
             R->items);
}
