/* ptx_fuse.c — the pass pipeline's kernel groups in the GPU backend: inside a group, each maximal
 * run of consecutive elementwise members (relu, sigmoid, relu_grad, sigmoid_grad, add/mul with
 * equal or [N,C,1,1] / [N,1,H,W] / [1,C,1,1] operands, batchnorm2d apply, batchnorm2d_grad's input
 * part) becomes one launch of kn_gk_fused driven by a constant program (kernels/kn_gfused.h).
 * A member that needs a pass of its own first (training batchnorm2d: batch statistics;
 * batchnorm2d_grad: the dgamma/dbeta sums) opens a run, its reduction keeping its usual launch
 * placed before the fused one; or, for batchnorm2d_grad only, it ends a run and its sums come from
 * kn_gk_fused_bn_grad_sums, which recomputes the run's earlier ops (dy stays in registers).
 * Members the kernel cannot take keep their usual lowering.
 * A value defined in a run is written only when something outside the run reads it or it is
 * pinned (as cpu_fuse.c's `stored`); the others live in registers and appear in no launch. */
#include <string.h>

#include "kernels/kn_gfused.h"
#include "pass_util.h"
#include "ptx_fuse.h"
#include "util.h"

/* One run being encoded. */
typedef struct {
  const kn_graph *g;
  const int *run; /* node ids */
  int n;
  kn_shape space;
  int64_t i[KN_PTX_MAX_I];
  float f[KN_PTX_MAX_F];
  int ptr[KN_PTX_MAX_P], n_ptr;
  int internal; /* values kept in registers */
} kn_frun;

static bool in_run(const kn_frun *r, int node) {
  for (int j = 0; j < r->n; j++)
    if (r->run[j] == node) return true;
  return false;
}

/* A pass of its own before the elementwise part. */
static bool has_prepass(const kn_node *n) {
  return (n->op == KN_OP_BATCHNORM2D && n->n_out == 3) || n->op == KN_OP_BATCHNORM2D_GRAD;
}

static bool is_nc(kn_shape s, kn_shape sp) {
  return sp.rank == 4 && s.rank == 4 && s.d[0] == sp.d[0] && s.d[1] == sp.d[1] && s.d[2] == 1 && s.d[3] == 1;
}
static bool is_nhw(kn_shape s, kn_shape sp) {
  return sp.rank == 4 && s.rank == 4 && s.d[0] == sp.d[0] && s.d[1] == 1 && s.d[2] == sp.d[2] && s.d[3] == sp.d[3];
}
static bool is_ch(kn_shape s, kn_shape sp) {
  return sp.rank == 4 && ((s.rank == 1 && s.d[0] == sp.d[1]) ||
                          (s.rank == 4 && s.d[0] == 1 && s.d[1] == sp.d[1] && s.d[2] == 1 && s.d[3] == 1));
}

/* Pointer index of value v in the launch (added when new); -1 when out of pointers. */
static int ptr_of(kn_frun *r, int v) {
  for (int k = 0; k < r->n_ptr; k++)
    if (r->ptr[k] == v) return k;
  if (r->n_ptr == KN_PTX_MAX_P) return -1;
  r->ptr[r->n_ptr] = v;
  return r->n_ptr++;
}

/* Operand code of value v read by op j (kn_gfused.h); -1 when the kernel cannot read it. */
static int64_t operand(kn_frun *r, int j, int v, bool bcast_ok) {
  const kn_graph *g = r->g;
  for (int q = 0; q < j; q++)
    if (g->nodes[r->run[q]].out[0] == v) return q;
  kn_shape s = g->vals[v].shape;
  int mode;
  if (g->vals[v].dtype != KN_DT_F32) return -1;
  if (kn_shape_eq(s, r->space)) mode = KN_GF_FULL;
  else if (bcast_ok && is_nc(s, r->space)) mode = KN_GF_NC;
  else if (bcast_ok && is_nhw(s, r->space)) mode = KN_GF_NHW;
  else if (bcast_ok && is_ch(s, r->space)) mode = KN_GF_CH;
  else return -1;
  int p = ptr_of(r, v);
  return p < 0 ? -1 : KN_GF_EXT + 4 * p + mode;
}

/* A per-channel operand (BN parameters and statistics). */
static int64_t channel(kn_frun *r, int v) {
  if (!is_ch(r->g->vals[v].shape, r->space) || r->g->vals[v].dtype != KN_DT_F32) return -1;
  int p = ptr_of(r, v);
  return p < 0 ? -1 : KN_GF_EXT + 4 * p + KN_GF_CH;
}

/* Whether value v, defined by a member of the run, must be written to memory. */
static bool written(const kn_frun *r, int v) {
  const kn_graph *g = r->g;
  if (kn_value_pinned(g, v) || g->vals[v].kind != KN_VAL_ACT) return true;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead || in_run(r, i)) continue;
    for (int k = 0; k < n->n_in; k++)
      if (n->in[k] == v) return true;
  }
  return false;
}

/* The KN_GF_ code of an op of eltwise.def. */
static int64_t gf_code(kn_op op) {
  switch (op) {
#define KN_GF_CODE(ID, nm, S, AT, V, F, G) \
  case KN_OP_##ID: return KN_GF_##ID;   \
  case KN_OP_##ID##_GRAD: return KN_GF_##ID##_GRAD;
    KN_ELTWISE_OPS(KN_GF_CODE)
#undef KN_GF_CODE
  default: KN_ASSERT(!"not an op of eltwise.def"); return -1;
  }
}

/* Encodes op j (node run[j]); false when the kernel cannot take it here. */
static bool encode(kn_frun *r, int j) {
  const kn_graph *g = r->g;
  const kn_node *n = &g->nodes[r->run[j]];
  if (n->n_out < 1 || !kn_shape_eq(g->vals[n->out[0]].shape, r->space) || g->vals[n->out[0]].dtype != KN_DT_F32)
    return false;
  /* a statistic inside a run: only batchnorm2d_grad as the run's last op (its sums launch
   * recomputes the ops before it) */
  if (j > 0 && has_prepass(n) && (n->op != KN_OP_BATCHNORM2D_GRAD || j != r->n - 1)) return false;
  int64_t *o = r->i + KN_GF_HDR + j * KN_GF_OPSZ, *a = o + 2;
  for (int k = 0; k < KN_GF_OPSZ; k++) o[k] = -1;
  r->f[j] = 0.f;
  int na = 0;
  kn_op op = n->op;
  if (kn_ew_find(op)) { /* eltwise.def: the op codes come in the list's order, op then _GRAD */
    o[0] = gf_code(op);
    a[0] = operand(r, j, n->in[0], false);
    na = 1;
    if (op == kn_ew_find(op)->grad) a[na++] = operand(r, j, n->in[1], false);
    r->f[j] = kn_ew_param(n);
  } else if (op == KN_OP_ADD || op == KN_OP_MUL) {
    o[0] = op == KN_OP_ADD ? KN_GF_ADD : KN_GF_MUL;
    a[0] = operand(r, j, n->in[0], true);
    a[1] = operand(r, j, n->in[1], true);
    na = 2;
  } else if (op == KN_OP_BATCHNORM2D) {
    bool train = n->n_out == 3;
    o[0] = KN_GF_BN_APPLY;
    a[0] = operand(r, j, n->in[0], false);
    a[1] = channel(r, n->in[1]);
    a[2] = channel(r, n->in[2]);
    a[3] = channel(r, train ? n->out[1] : n->in[3]);
    a[4] = channel(r, train ? n->out[2] : n->in[4]);
    r->f[j] = (float)kn_node_float(n, KN_ATTR_EPS);
    na = 5;
  } else if (op == KN_OP_BATCHNORM2D_GRAD) { /* eval: dx = gamma * inv * dy; the sums are the same */
    o[0] = kn_node_int(n, KN_ATTR_TRAINING) ? KN_GF_BN_GRAD : KN_GF_BN_GRAD_EVAL;
    a[0] = operand(r, j, n->in[0], false);
    a[1] = operand(r, j, n->in[1], false);
    a[2] = channel(r, n->in[2]);
    a[3] = channel(r, n->in[3]);
    a[4] = channel(r, n->in[4]);
    a[5] = channel(r, n->out[1]);
    a[6] = channel(r, n->out[2]);
    r->f[j] = (float)kn_node_float(n, KN_ATTR_EPS);
    na = 7;
  } else {
    return false; /* not an elementwise op of the fused kernel */
  }
  for (int k = 0; k < na; k++)
    if (a[k] < 0) return false;
  if (written(r, n->out[0])) {
    int p = ptr_of(r, n->out[0]);
    if (p < 0) return false;
    o[1] = p;
  }
  return true;
}

/* Encodes the run [run, run + n) into r; false when it does not fit the kernel. */
static bool build(kn_frun *r, const kn_graph *g, const int *run, int n) {
  memset(r, 0, sizeof *r);
  r->g = g;
  r->run = run;
  r->n = n;
  if (n > KN_GF_MAXOPS || KN_GF_HDR + n * KN_GF_OPSZ > KN_PTX_MAX_I || n > KN_PTX_MAX_F) return false;
  const kn_node *first = &g->nodes[run[0]];
  if (first->n_out < 1) return false;
  r->space = g->vals[first->out[0]].shape;
  int64_t d[4];
  for (int k = 0; k < 4; k++) d[k] = k < r->space.rank ? r->space.d[k] : 1;
  r->i[0] = d[0] * d[1] * d[2] * d[3];
  r->i[1] = d[1];
  r->i[2] = d[2] * d[3];
  r->i[3] = n;
  for (int j = 0; j < n; j++)
    if (!encode(r, j)) return false;
  for (int j = 0; j < n; j++) r->internal += r->i[KN_GF_HDR + j * KN_GF_OPSZ + 1] < 0;
  return true;
}

static kn_ptx_call *add_call(kn_ptx_program *pr, int node, int k, const char *kernel, int64_t threads) {
  if (pr->n_calls == pr->cap_calls) {
    pr->cap_calls = pr->cap_calls ? 2 * pr->cap_calls : 64;
    pr->calls = kn_xrealloc(pr->calls, (size_t)pr->cap_calls * sizeof *pr->calls);
  }
  kn_ptx_call *c = &pr->calls[pr->n_calls++];
  memset(c, 0, sizeof *c);
  c->node = node;
  c->kernel = kernel;
  snprintf(c->entry, sizeof c->entry, "kn_%d_%d", node, k);
  c->threads = threads < 1 ? 1 : threads;
  c->block = KN_PTX_BLOCK;
  int64_t grid = (c->threads + KN_PTX_BLOCK - 1) / KN_PTX_BLOCK;
  c->grid = (unsigned)(grid > KN_PTX_MAX_GRID ? KN_PTX_MAX_GRID : grid);
  return c;
}

/* The reduction pass of a run's first member (the same launch as its unfused lowering). */
static void prepass(kn_ptx_program *prog, const kn_graph *g, const kn_node *n) {
  kn_shape x = g->vals[n->in[n->op == KN_OP_BATCHNORM2D ? 0 : 1]].shape;
  int64_t hw = x.d[2] * x.d[3];
  if (n->op == KN_OP_BATCHNORM2D) {
    kn_ptx_call *c = add_call(prog, n->id, 0, "kn_gk_bn_stats", 32 * x.d[1]);
    c->i[0] = x.d[0], c->i[1] = x.d[1], c->i[2] = hw, c->n_i = 3;
    c->p[0] = n->in[0], c->p[1] = n->out[1], c->p[2] = n->out[2], c->n_p = 3;
    return;
  }
  kn_ptx_call *c = add_call(prog, n->id, 0, "kn_gk_bn_grad_reduce", 32 * x.d[1]);
  c->i[0] = x.d[0], c->i[1] = x.d[1], c->i[2] = hw, c->n_i = 3;
  c->f[0] = (float)kn_node_float(n, KN_ATTR_EPS), c->n_f = 1;
  const int p[6] = {n->in[0], n->in[1], n->in[3], n->in[4], n->out[1], n->out[2]};
  memcpy(c->p, p, sizeof p);
  c->n_p = 6;
}

/* A launch of `kernel` with the run's program. */
static kn_ptx_call *program_call(kn_ptx_program *prog, const kn_frun *r, int k, const char *kernel, int64_t threads) {
  kn_ptx_call *c = add_call(prog, r->run[0], k, kernel, threads);
  int n_i = KN_GF_HDR + r->n * KN_GF_OPSZ;
  memcpy(c->i, r->i, (size_t)n_i * sizeof *c->i);
  c->n_i = n_i;
  memcpy(c->f, r->f, (size_t)r->n * sizeof *c->f);
  c->n_f = r->n;
  memcpy(c->p, r->ptr, (size_t)r->n_ptr * sizeof *c->p);
  c->n_p = r->n_ptr;
  return c;
}

static bool ends_in_bn_grad(const kn_frun *r) {
  return r->n > 1 && r->g->nodes[r->run[r->n - 1]].op == KN_OP_BATCHNORM2D_GRAD;
}

/* Emits the run's launches: its first member's reduction pass, or the sums of a batchnorm2d_grad
 * ending it (kn_gk_fused_bn_grad_sums, warp per channel), then kn_gk_fused. */
static void emit(kn_ptx_program *prog, const kn_frun *r) {
  const kn_node *first = &r->g->nodes[r->run[0]];
  int k = 0;
  if (has_prepass(first)) prepass(prog, r->g, first), k++;
  if (ends_in_bn_grad(r)) program_call(prog, r, k++, "kn_gk_fused_bn_grad_sums", 32 * r->i[1]);
  kn_ptx_call *c = program_call(prog, r, k, "kn_gk_fused", r->i[0]);
  c->n_fused = r->n;
  c->fused_last = r->run[r->n - 1];
  prog->fused_launches++;
  prog->fused_nodes += r->n;
  prog->internal_values += r->internal;
}

bool kn_ptx_fuse_group(const kn_graph *g, const int *nodes, int n_nodes, kn_ptx_program *prog,
                       kn_ptx_lower_node_fn lower, kn_diag *d) {
  kn_frun r;
  for (int j = 0; j < n_nodes;) {
    int e = j + 1; /* the longest run [j, e) that the kernel takes */
    while (e < n_nodes && build(&r, g, nodes + j, e + 1 - j)) {
      e++;
      if (ends_in_bn_grad(&r)) break; /* its sums launch needs the run to end there */
    }
    if (e - j < 2) { /* a single node: its usual launches */
      if (!lower(g, nodes[j], prog, d)) return false;
      j++;
      continue;
    }
    KN_ASSERT(build(&r, g, nodes + j, e - j));
    emit(prog, &r);
    j = e;
  }
  return true;
}

void kn_ptx_fused_plan(const kn_graph *g, const kn_ptx_program *prog, const bool *pinned, bool *skip,
                       int *unit_first, int *unit_last) {
  for (int v = 0; v < g->n_vals; v++)
    skip[v] = g->vals[v].kind == KN_VAL_ACT && g->vals[v].producer >= 0 && !(pinned && pinned[v]);
  for (int i = 0; i < g->n_nodes; i++) unit_first[i] = unit_last[i] = i;
  for (int k = 0; k < prog->n_calls; k++) {
    const kn_ptx_call *c = &prog->calls[k];
    for (int a = 0; a < c->n_p; a++)
      if (c->p[a] >= 0) skip[c->p[a]] = false;
    for (int i = c->node; c->n_fused && i <= c->fused_last; i++) unit_first[i] = c->node, unit_last[i] = c->fused_last;
  }
}
