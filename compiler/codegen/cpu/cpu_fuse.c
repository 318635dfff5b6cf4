/* cpu_fuse.c — honours the kernel groups of the pass pipeline (kernel_groups.h) in the CPU
 * backend. Inside each multi-node group, maximal runs of consecutive "sweep" ops (every op of
 * compiler/ir/eltwise.def and its grad, add, mul with [N,C,1,1] / [N,1,H,W] broadcasts, batchnorm2d in both modes,
 * batchnorm2d_grad, global pools, bias_grad, sum_to per plane or channel) become ONE call of
 * kn_k_fused (kernels/fused.c) driven by a constant program; heavy members (conv, linear, their
 * grads) and anything else stay one call each, so `conv2d+batchnorm2d+relu` is the conv's call plus
 * one sweep. Values defined inside a run and read only there are internal: they live in stack
 * tiles and get no arena slot (the plan's `skip`). A run that does not meet the sweep's
 * conditions is cut to its longest prefix that does, and the rest is tried again; what is left
 * falls back to one call per node, which is always correct.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "kernels/kn_fused.h"
#include "kernels/kn_kernels.h"
#include "pass_util.h"
#include "util.h"

/* Default smallest H*W of a plane for a structured sweep (see build_run). */
#define KN_FMINPLANE 256

typedef struct {
  const kn_graph *g;
  const bool *pinned;
  const int *nodes; /* the run */
  int len;
  double prog[KN_FP_OPS + KN_FMAXOPS * KN_FOPSZ];
  int vals[KN_CG_MAXPTR], n_vals;
  int def[KN_FMAXOPS];   /* op i's output-0 value */
  int term[3 * KN_FMAXOPS], n_term; /* outputs written at the end of a channel/plane */
  kn_shape space;
  bool structured, channel, pool;
  int64_t min_plane;
} kn_fbuild;

static bool in_run(const kn_fbuild *f, int node) {
  for (int i = 0; i < f->len; i++)
    if (f->nodes[i] == node) return true;
  return false;
}

static int ptr_of(kn_fbuild *f, int v) {
  for (int i = 0; i < f->n_vals; i++)
    if (f->vals[i] == v) return i;
  if (f->n_vals == KN_CG_MAXPTR) return -1;
  f->vals[f->n_vals] = v;
  return f->n_vals++;
}

static bool is_nc(kn_shape s, kn_shape sp) {
  return sp.rank == 4 && s.rank == 4 && s.d[0] == sp.d[0] && s.d[1] == sp.d[1] && s.d[2] == 1 && s.d[3] == 1;
}
static bool is_nhw(kn_shape s, kn_shape sp) {
  return sp.rank == 4 && s.rank == 4 && s.d[0] == sp.d[0] && s.d[1] == 1 && s.d[2] == sp.d[2] && s.d[3] == sp.d[3];
}
static bool is_c(kn_shape s, kn_shape sp) {
  return sp.rank == 4 && ((s.rank == 1 && s.d[0] == sp.d[1]) ||
                          (s.rank == 4 && s.d[0] == 1 && s.d[1] == sp.d[1] && s.d[2] == 1 && s.d[3] == 1));
}

/* Operand ref for value v read by an op of the run; -1 if not allowed. */
static double ref_of(kn_fbuild *f, int n_ops, int v, bool bcast_ok) {
  for (int i = 0; i < f->n_term; i++)
    if (f->term[i] == v) return -1; /* written at the end of a plane/channel: not readable yet */
  for (int i = 0; i < n_ops; i++)
    if (f->def[i] == v) return i;
  kn_shape s = f->g->vals[v].shape;
  int b;
  if (kn_shape_eq(s, f->space)) b = KN_FB_FULL;
  else if (bcast_ok && is_nc(s, f->space)) b = KN_FB_NC;
  else if (bcast_ok && is_nhw(s, f->space)) b = KN_FB_NHW;
  else return -1;
  if (b != KN_FB_FULL) f->structured = true;
  int p = ptr_of(f, v);
  return p < 0 ? -1 : KN_FREF_EXT + 4 * p + b;
}

/* Pointer index of a per-channel (or other non-swept) value; -1 when out of pointers. */
static double param(kn_fbuild *f, int v, int *ok) {
  int p = ptr_of(f, v);
  if (p < 0) *ok = 0;
  return p;
}

/* Whether output 0 of node `id` must be written to memory. */
static bool stored(const kn_fbuild *f, int v) {
  const kn_graph *g = f->g;
  if ((f->pinned && f->pinned[v]) || kn_value_pinned(g, v) || g->vals[v].kind != KN_VAL_ACT) return true;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead || in_run(f, i)) continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] == v) return true;
  }
  return false;
}

static bool add_term(kn_fbuild *f, int v) {
  if (f->n_term == 3 * KN_FMAXOPS) return false;
  f->term[f->n_term++] = v;
  return true;
}

/* One op of the run into f->prog; false when the sweep cannot take it. */
static bool add_op(kn_fbuild *f, int i, const kn_node *n) {
  double *o = f->prog + KN_FP_OPS + i * KN_FOPSZ;
  const kn_graph *g = f->g;
  kn_shape sp = f->space;
  int ok = 1;
  for (int k = 0; k < KN_FOPSZ; k++) o[k] = -1;
  f->def[i] = -1;
  bool full_out = true;
  switch (n->op) {
#define KN_FOP_ENCODE(ID, nm, S, AT, V, F, G)                                             \
  case KN_OP_##ID:                                                                    \
    o[0] = KN_FOP_##ID;                                                               \
    o[2] = ref_of(f, i, n->in[0], false);                                             \
    o[4] = kn_ew_param(n);                                                            \
    ok = o[2] >= 0;                                                                   \
    break;                                                                            \
  case KN_OP_##ID##_GRAD:                                                             \
    o[0] = KN_FOP_##ID##_GRAD;                                                        \
    o[2] = ref_of(f, i, n->in[0], false);                                             \
    o[3] = ref_of(f, i, n->in[1], false);                                             \
    o[4] = kn_ew_param(n);                                                            \
    ok = o[2] >= 0 && o[3] >= 0;                                                      \
    break;
    KN_ELTWISE_OPS(KN_FOP_ENCODE)
#undef KN_FOP_ENCODE
  case KN_OP_ADD:
  case KN_OP_MUL:
    o[0] = n->op == KN_OP_ADD ? KN_FOP_ADD : KN_FOP_MUL;
    o[2] = ref_of(f, i, n->in[0], true);
    o[3] = ref_of(f, i, n->in[1], true);
    ok = o[2] >= 0 && o[3] >= 0;
    break;
  case KN_OP_BATCHNORM2D: {
    bool tr = kn_node_int(n, KN_ATTR_TRAINING) != 0;
    if (sp.rank != 4 || n->n_out != (tr ? 3 : 1)) return false;
    f->structured = true;
    f->channel |= tr;
    o[0] = tr ? KN_FOP_BN_TRAIN : KN_FOP_BN;
    o[2] = ref_of(f, i, n->in[0], false);
    o[3] = param(f, n->in[1], &ok);
    o[4] = param(f, n->in[2], &ok);
    o[5] = tr ? param(f, n->out[1], &ok) : param(f, n->in[3], &ok);
    o[6] = tr ? param(f, n->out[2], &ok) : param(f, n->in[4], &ok);
    o[7] = kn_node_float(n, KN_ATTR_EPS);
    ok = ok && o[2] >= 0 && (!tr || (add_term(f, n->out[1]) && add_term(f, n->out[2])));
    break;
  }
  case KN_OP_BATCHNORM2D_GRAD:
    if (sp.rank != 4 || n->n_out != 3) return false;
    f->structured = f->channel = true;
    o[0] = KN_FOP_BN_GRAD;
    o[2] = ref_of(f, i, n->in[0], false);
    o[3] = ref_of(f, i, n->in[1], false);
    o[4] = param(f, n->in[2], &ok);
    o[5] = param(f, n->in[3], &ok);
    o[6] = param(f, n->in[4], &ok);
    o[7] = param(f, n->out[1], &ok);
    o[8] = param(f, n->out[2], &ok);
    o[9] = kn_node_float(n, KN_ATTR_EPS);
    o[10] = kn_node_int(n, KN_ATTR_TRAINING) != 0;
    ok = ok && o[2] >= 0 && o[3] >= 0 && add_term(f, n->out[1]) && add_term(f, n->out[2]);
    break;
  case KN_OP_GLOBAL_AVGPOOL:
  case KN_OP_GLOBAL_MAXPOOL:
  case KN_OP_BIAS_GRAD:
  case KN_OP_SUM_TO: {
    kn_shape y = g->vals[n->out[0]].shape;
    bool plane = n->op != KN_OP_BIAS_GRAD && is_nc(y, sp);
    if (!plane && !(n->op == KN_OP_BIAS_GRAD || n->op == KN_OP_SUM_TO) ) return false;
    if (!plane && !is_c(y, sp)) return false;
    f->structured = true;
    f->pool |= plane;
    f->channel |= !plane;
    full_out = false;
    o[0] = plane ? KN_FOP_POOL : KN_FOP_CSUM;
    o[2] = ref_of(f, i, n->in[0], false);
    o[3] = n->op == KN_OP_GLOBAL_AVGPOOL ? 0 : n->op == KN_OP_GLOBAL_MAXPOOL ? 1 : 2;
    o[1] = param(f, n->out[0], &ok);
    ok = ok && o[2] >= 0 && add_term(f, n->out[0]);
    break;
  }
  default:
    return false;
  }
  if (!ok) return false;
  if (full_out) {
    if (!kn_shape_eq(g->vals[n->out[0]].shape, sp)) return false;
    f->def[i] = n->out[0];
    if (stored(f, n->out[0])) {
      int p = ptr_of(f, n->out[0]);
      if (p < 0) return false;
      o[1] = p;
    }
  }
  return true;
}

static bool sweep_op(kn_op op) {
  switch (op) {
  KN_EW_FWD_CASES
  KN_EW_GRAD_CASES
  case KN_OP_ADD: case KN_OP_MUL: case KN_OP_BATCHNORM2D: case KN_OP_BATCHNORM2D_GRAD: case KN_OP_GLOBAL_AVGPOOL:
  case KN_OP_GLOBAL_MAXPOOL: case KN_OP_BIAS_GRAD: case KN_OP_SUM_TO:
    return true;
  default:
    return false;
  }
}

/* Builds the program of a run; false when it cannot be one sweep. */
static bool build_run(kn_fbuild *f) {
  if (f->len < 2 || f->len > KN_FMAXOPS) return false;
  const kn_graph *g = f->g;
  const kn_node *n0 = &g->nodes[f->nodes[0]];
  bool reduce0 = n0->op == KN_OP_GLOBAL_AVGPOOL || n0->op == KN_OP_GLOBAL_MAXPOOL || n0->op == KN_OP_BIAS_GRAD ||
                 n0->op == KN_OP_SUM_TO;
  f->space = g->vals[reduce0 ? n0->in[0] : n0->out[0]].shape;
  for (int i = 0; i < f->len; i++) {
    const kn_node *n = &g->nodes[f->nodes[i]];
    for (int k = 0; k < n->n_in; k++)
      if (g->vals[n->in[k]].dtype != KN_DT_F32) return false;
    if (!add_op(f, i, n)) return false;
  }
  kn_shape s = f->space;
  int64_t N = 1, C = 1, HW = kn_shape_numel(s);
  if (f->structured) {
    if (s.rank != 4) return false;
    N = s.d[0], C = s.d[1], HW = s.d[2] * s.d[3];
    /* Tiles are parts of one plane: on small planes the per-tile work of the generic sweep costs
     * more than the traffic it saves, and the single-op kernels are faster. */
    if (HW < f->min_plane) return false;
  }
  double *p = f->prog;
  p[KN_FP_N] = (double)N, p[KN_FP_C] = (double)C, p[KN_FP_HW] = (double)HW;
  p[KN_FP_MODE] = f->channel ? KN_FMODE_CHANNEL : KN_FMODE_PLANE;
  p[KN_FP_NOPS] = f->len;
  p[7] = 0;
  if (f->channel) {
    p[KN_FP_CHUNK] = (double)HW;
    p[KN_FP_ITEMS] = (double)kn_items_for(C, N * HW);
  } else {
    int64_t chunk = f->pool || HW < KN_CHUNK ? HW : KN_CHUNK, units = N * C * kn_cdiv(HW, chunk);
    p[KN_FP_CHUNK] = (double)chunk;
    p[KN_FP_ITEMS] = (double)kn_items_for(units, chunk);
  }
  return true;
}

/* Plans the longest prefix (>= 2 nodes) of nodes[0, len) that is one sweep; returns its length
 * (0 when none). */
static int plan_run(kn_fuse_plan *fp, const kn_graph *g, const bool *pinned, int64_t min_plane, const int *nodes,
                    int len) {
  kn_fbuild *f = kn_xcalloc(1, sizeof *f);
  for (; len >= 2; len--) {
    memset(f, 0, sizeof *f);
    f->g = g, f->pinned = pinned, f->nodes = nodes, f->len = len, f->min_plane = min_plane;
    if (build_run(f)) break;
  }
  if (len < 2) {
    free(f);
    return 0;
  }
  int r = fp->n_runs++;
  fp->runs = kn_xrealloc(fp->runs, (size_t)fp->n_runs * sizeof *fp->runs);
  kn_fuse_run *R = &fp->runs[r];
  memset(R, 0, sizeof *R); /* every flag off: a sweep */
  R->first = nodes[0];
  R->n_nodes = len;
  R->n_prog = KN_FP_OPS + len * KN_FOPSZ;
  R->prog = kn_xmalloc((size_t)R->n_prog * sizeof *R->prog);
  memcpy(R->prog, f->prog, (size_t)R->n_prog * sizeof *R->prog);
  R->n_vals = f->n_vals;
  memcpy(R->vals, f->vals, sizeof R->vals);
  R->items = (int64_t)f->prog[KN_FP_ITEMS];
  for (int i = 0; i < len; i++) {
    fp->run_of[nodes[i]] = r;
    const double *o = f->prog + KN_FP_OPS + i * KN_FOPSZ;
    if (f->def[i] >= 0 && o[1] < 0) {
      fp->skip[f->def[i]] = true;
      fp->internal++;
    }
  }
  fp->fused_nodes += len;
  free(f);
  return len;
}

/* Value of an external, full-shape operand ref of run R; -1 otherwise. */
static int ext_full(const kn_fuse_run *R, double ref) {
  int r = (int)ref - KN_FREF_EXT;
  return r >= 0 && r % 4 == KN_FB_FULL ? R->vals[r / 4] : -1;
}

/* Node of kernel group kid that defines v with op `op`, lowered alone; -1 if none. */
static int producer(const kn_fuse_plan *fp, const kn_graph *g, int kid, int v, kn_op op) {
  for (int j = 0; j < g->n_nodes; j++) {
    const kn_node *n = &g->nodes[j];
    if (!n->dead && n->kernel == kid && n->op == op && n->n_out == 1 && n->out[0] == v && fp->run_of[j] < 0) return j;
  }
  return -1;
}

/* Whether kernel group kid already holds a conv gathering statistics (they share the scratch). */
static bool group_has_stats(const kn_fuse_plan *fp, const kn_graph *g, int kid) {
  for (int j = 0; j < g->n_nodes; j++) {
    int r = fp->run_of[j];
    if (!g->nodes[j].dead && g->nodes[j].kernel == kid && r >= 0 && fp->runs[r].stats) return true;
  }
  return false;
}

/* Leaves of the add tree under operand ref of R's program: external full-shape values; false when
 * something else is in it or there are more than `cap`. */
static bool add_leaves(const kn_fuse_run *R, double ref, int *leaf, int *n, int cap) {
  int r = (int)ref;
  if (r >= KN_FREF_EXT) {
    int v = ext_full(R, ref);
    if (v < 0 || *n == cap) return false;
    leaf[(*n)++] = v;
    return true;
  }
  const double *o = R->prog + KN_FP_OPS + r * KN_FOPSZ;
  return (int)o[0] == KN_FOP_ADD && add_leaves(R, o[2], leaf, n, cap) && add_leaves(R, o[3], leaf, n, cap);
}

/* Pointer index of the scratch region in run R (added when missing); -1 when out of pointers. */
static int scratch_ptr(kn_fuse_run *R) {
  for (int k = 0; k < R->n_vals; k++)
    if (R->vals[k] == KN_CG_SCRATCH) return k;
  if (R->n_vals == KN_CG_MAXPTR) return -1;
  R->vals[R->n_vals] = KN_CG_SCRATCH;
  return R->n_vals++;
}

/* Channel sweeps whose per-channel statistics can come from the producing conv's epilogue (BN
 * batch statistics gathered in the epilogue, as issue E asks), so the sweep's pre-pass goes away:
 *  - batchnorm2d (training) reading a conv2d's output: kn_cg_conv_stats_plan;
 *  - batchnorm2d_grad whose dy is [relu_grad](sum of external values, one a conv2d_grad_input's
 *    output): kn_cg_conv_gi_stats_plan (the epilogue recomputes the adds and the mask).
 * The conv must be lowered alone in the same kernel group; the statistics live in the entry's
 * scratch region, shared by all such convs, so a group may hold only one. */
static void link_bn_stats(kn_fuse_plan *fp, const kn_graph *g, int bn_stats) {
  int n_runs = fp->n_runs;
  for (int r = 0; r < n_runs; r++) {
    if (fp->runs[r].conv_ep || (int)fp->runs[r].prog[KN_FP_MODE] != KN_FMODE_CHANNEL) continue;
    int kid = g->nodes[fp->runs[r].first].kernel;
    for (int i = 0; i < (int)fp->runs[r].prog[KN_FP_NOPS] && kid > 0; i++) {
      kn_fuse_run *R = &fp->runs[r];
      double *o = R->prog + KN_FP_OPS + i * KN_FOPSZ;
      if (group_has_stats(fp, g, kid)) break;
      if ((int)o[0] == KN_FOP_BN_TRAIN && bn_stats >= KN_BN_STATS_CONV) {
        int v = ext_full(R, o[2]), conv = v < 0 ? -1 : producer(fp, g, kid, v, KN_OP_CONV2D);
        if (conv < 0 || R->n_vals == KN_CG_MAXPTR) continue;
        int64_t tiles = kn_cg_conv_stats_plan(fp, g, conv);
        if (!tiles) continue;
        R = &fp->runs[r]; /* runs may have moved */
        o = R->prog + KN_FP_OPS + i * KN_FOPSZ;
        o[8] = scratch_ptr(R);
        o[9] = (double)tiles;
      } else if ((int)o[0] == KN_FOP_BN_GRAD && bn_stats >= KN_BN_STATS_ALL) {
        double dref = o[2];
        int mask = -1, x = ext_full(R, o[3]), leaf[4], nl = 0, conv = -1;
        if ((int)dref < KN_FREF_EXT) {
          const double *d = R->prog + KN_FP_OPS + (int)dref * KN_FOPSZ;
          if ((int)d[0] == KN_FOP_RELU_GRAD) {
            mask = ext_full(R, d[3]);
            if (mask < 0) continue;
            dref = d[2];
          }
        }
        if (x < 0 || !add_leaves(R, dref, leaf, &nl, 4)) continue;
        int others[3], no = 0;
        for (int k = 0; k < nl; k++) {
          int c = conv < 0 ? producer(fp, g, kid, leaf[k], KN_OP_CONV2D_GRAD_INPUT) : -1;
          if (c >= 0) conv = c;
          else if (no < 3) others[no++] = leaf[k];
          else conv = -2;
        }
        if (conv < 0 || no != nl - 1 || R->n_vals == KN_CG_MAXPTR) continue;
        int64_t tiles = kn_cg_conv_gi_stats_plan(fp, g, conv, others, no, mask, x, R->vals[(int)o[5]]);
        if (!tiles) continue;
        R = &fp->runs[r];
        o = R->prog + KN_FP_OPS + i * KN_FOPSZ;
        o[11] = scratch_ptr(R);
        o[12] = (double)tiles;
      }
    }
  }
}

void kn_cg_fuse_plan(const kn_graph *g, const bool *pinned, bool enable, int min_plane, int bn_stats,
                     kn_fuse_plan *fp) {
  memset(fp, 0, sizeof *fp);
  int nn = g->n_nodes ? g->n_nodes : 1;
  fp->skip = kn_xcalloc((size_t)(g->n_vals ? g->n_vals : 1), sizeof *fp->skip);
  fp->run_of = kn_xmalloc((size_t)nn * sizeof *fp->run_of);
  fp->unit_first = kn_xmalloc((size_t)nn * sizeof *fp->unit_first);
  fp->unit_last = kn_xmalloc((size_t)nn * sizeof *fp->unit_last);
  for (int i = 0; i < g->n_nodes; i++) fp->run_of[i] = -1, fp->unit_first[i] = fp->unit_last[i] = i;
  if (!enable) return;
  kn_kernel_list kl;
  kn_kernels_build(g, &kl);
  for (int k = 0; k < kl.n; k++) {
    const kn_kernel *K = &kl.k[k];
    if (K->n_nodes < 2) continue;
    int runs0 = fp->n_runs;
    for (int j = 0; j < K->n_nodes;) {
      int ep = kn_cg_conv_ep_plan(fp, g, pinned, K->nodes + j, K->n_nodes - j);
      if (ep) {
        j += ep;
        continue;
      }
      int e = j;
      while (e < K->n_nodes && sweep_op(g->nodes[K->nodes[e]].op)) e++;
      if (e == j) { /* not a sweep op: a call of its own */
        j++;
        continue;
      }
      int got = e - j >= 2 ? plan_run(fp, g, pinned, min_plane > 0 ? min_plane : KN_FMINPLANE, K->nodes + j, e - j) : 0;
      j += got ? got : 1; /* the rest of the run may still form a sweep */
    }
    if (fp->n_runs == runs0) {
      fp->groups_fallback++;
      continue;
    }
    fp->groups_fused++;
  }
  link_bn_stats(fp, g, bn_stats);
  /* Each run is one unit for the memory planner (its members run interleaved, tile by tile). */
  for (int r = 0; r < fp->n_runs; r++) {
    int first = fp->runs[r].first, last = first;
    for (int i = first; i < g->n_nodes; i++)
      if (fp->run_of[i] == r) last = i;
    for (int i = first; i <= last; i++) fp->unit_first[i] = first, fp->unit_last[i] = last;
  }
  kn_kernels_free(&kl);
}

void kn_cg_fuse_free(kn_fuse_plan *fp) {
  for (int r = 0; r < fp->n_runs; r++) free(fp->runs[r].prog);
  free(fp->runs);
  free(fp->skip);
  free(fp->run_of);
  free(fp->unit_first);
  free(fp->unit_last);
  memset(fp, 0, sizeof *fp);
}

void kn_cg_lower_run(kn_cg *cg, const kn_fuse_run *R) {
  /* The program becomes a constant global of the wrapper, so its fields fold once inlined. */
  kn_cg_call_wrapper(cg, kn_cg_wrapper(cg, "kn_k_fused", R->prog, R->n_prog, true), R->vals, R->n_vals, R->items);
}

int kn_cg_lower_kernels(kn_cg *cg, const kn_fuse_plan *fp) {
  const kn_graph *g = cg->g;
  kn_kernel_list kl;
  kn_kernels_build(g, &kl);
  LLVMBuilderRef entry_b = cg->b;
  LLVMValueRef entry_fn = cg->fn, persist = cg->persist, work = cg->work, ptrs = cg->ptrs;
  LLVMTypeRef fty = LLVMFunctionType(cg->voidt, (LLVMTypeRef[]){cg->i8p, cg->i8p}, 2, 0);
  for (int k = 0; k < kl.n; k++) {
    const kn_kernel *K = &kl.k[k];
    char name[64];
    snprintf(name, sizeof name, "kn_kern%d_%s", k, kn_op_table[g->nodes[K->nodes[0]].op].name);
    LLVMValueRef f = LLVMAddFunction(cg->mod, name, fty);
    LLVMSetLinkage(f, LLVMInternalLinkage);
    cg->b = LLVMCreateBuilderInContext(cg->ctx);
    LLVMPositionBuilderAtEnd(cg->b, LLVMAppendBasicBlockInContext(cg->ctx, f, "entry"));
    cg->fn = f;
    cg->persist = LLVMGetParam(f, 0);
    cg->work = LLVMGetParam(f, 1);
    cg->ptrs = LLVMBuildAlloca(cg->b, LLVMArrayType(cg->i8p, KN_CG_MAXPTR), "ptrs");
    for (int j = 0; j < K->n_nodes; j++) {
      int i = K->nodes[j], r = fp->run_of[i];
      if (r < 0) kn_cg_lower_node(cg, &g->nodes[i]);
      else if (fp->runs[r].first == i && fp->runs[r].conv_ep) kn_cg_lower_conv_ep(cg, &fp->runs[r]);
      else if (fp->runs[r].first == i) kn_cg_lower_run(cg, &fp->runs[r]);
    }
    LLVMBuildRetVoid(cg->b);
    LLVMDisposeBuilder(cg->b);
    cg->b = entry_b;
    LLVMValueRef t0 = kn_cg_prof_start(cg); /* --profile only (cpu_profile.c) */
    LLVMBuildCall2(cg->b, fty, f, (LLVMValueRef[]){persist, work}, 2, "");
    kn_cg_prof_stop(cg, k, t0);
  }
  cg->fn = entry_fn, cg->persist = persist, cg->work = work, cg->ptrs = ptrs;
  int n = kl.n;
  kn_kernels_free(&kl);
  return n;
}
