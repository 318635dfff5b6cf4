/* kernel_groups.c — kernel groups (see kernel_groups.h): listing, legality, joining (which keeps every group
 * contiguous by moving nodes inside the span), traffic estimate and printing. */
#include "kernel_groups.h"

#include <stdlib.h>
#include <string.h>

#include "pass_util.h"
#include "util.h"

/* ---- listing ---- */
static int cmp_int2(const void *a, const void *b) {
  const int *x = a, *y = b;
  if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int cmp_last(const void *a, const void *b) {
  const kn_kernel *x = a, *y = b;
  return x->last < y->last ? -1 : x->last > y->last;
}

void kn_kernels_build(const kn_graph *g, kn_kernel_list *kl) {
  int nn = g->n_nodes;
  /* (key, node): key = group id for grouped nodes, else -(node + 1), so singles never merge. */
  int *pairs = kn_xmalloc((size_t)(2 * nn + 2) * sizeof *pairs), np = 0;
  for (int i = 0; i < nn; i++) {
    if (g->nodes[i].dead) continue;
    pairs[2 * np] = g->nodes[i].kernel > 0 ? g->nodes[i].kernel : -(i + 1);
    pairs[2 * np + 1] = i;
    np++;
  }
  qsort(pairs, (size_t)np, 2 * sizeof *pairs, cmp_int2);
  kl->buf = kn_xmalloc((size_t)(np ? np : 1) * sizeof *kl->buf);
  kl->k = kn_xmalloc((size_t)(np ? np : 1) * sizeof *kl->k);
  kl->n = 0;
  for (int i = 0; i < np;) {
    int j = i;
    kn_kernel *k = &kl->k[kl->n++];
    k->group = pairs[2 * i] > 0 ? pairs[2 * i] : 0;
    k->nodes = &kl->buf[i];
    while (j < np && pairs[2 * j] == pairs[2 * i]) {
      kl->buf[j] = pairs[2 * j + 1];
      j++;
    }
    k->n_nodes = j - i;
    k->first = k->nodes[0];
    k->last = k->nodes[k->n_nodes - 1];
    i = j;
  }
  free(pairs);
  qsort(kl->k, (size_t)kl->n, sizeof *kl->k, cmp_last);
}

void kn_kernels_free(kn_kernel_list *kl) {
  free(kl->k);
  free(kl->buf);
  kl->k = NULL;
  kl->buf = NULL;
  kl->n = 0;
}

int kn_kernels_count(const kn_graph *g) {
  kn_kernel_list kl;
  kn_kernels_build(g, &kl);
  int n = kl.n;
  kn_kernels_free(&kl);
  return n;
}

int kn_kernels_members(const kn_graph *g, int id, int *out) {
  int k = g->nodes[id].kernel, n = 0;
  if (k <= 0) {
    out[0] = id;
    return 1;
  }
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i].dead && g->nodes[i].kernel == k) out[n++] = i;
  return n;
}

int kn_kernels_new_group(const kn_graph *g) {
  int m = 0;
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].kernel > m) m = g->nodes[i].kernel;
  return m + 1;
}

void kn_kernels_clear(kn_graph *g) {
  for (int i = 0; i < g->n_nodes; i++) g->nodes[i].kernel = 0;
}

/* ---- legality and joining ---- */
/* Members of the union of the groups of a and b (or the nodes alone) in mark[], span [*first, *last]. */
static void mark_union(const kn_graph *g, int a, int b, char *mark, int *first, int *last) {
  int ka = g->nodes[a].kernel, kb = g->nodes[b].kernel;
  *first = g->n_nodes;
  *last = -1;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    mark[i] = !n->dead && (i == a || i == b || (ka > 0 && n->kernel == ka) || (kb > 0 && n->kernel == kb));
    if (!mark[i]) continue;
    if (i < *first) *first = i;
    *last = i;
  }
}

/* Whether the members can move together to the end (sink) or the start (hoist) of their span. */
static bool placeable(const kn_graph *g, const char *in, int first, int last, bool sink) {
  for (int i = first; i <= last; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    if (in[i]) {
      if (kn_op_table[n->op].flags & KN_OPF_UPDATE) return false; /* never grouped */
      continue;
    }
    /* n stays outside: sinking runs it before the group, hoisting after. */
    for (int j = 0; j < n->n_in; j++) {
      int p = g->vals[n->in[j]].producer;
      if (sink && p >= 0 && in[p]) return false; /* n reads what the group defines */
    }
    if (!sink)
      for (int m = i + 1; m <= last; m++) {
        if (!in[m] || g->nodes[m].dead) continue;
        for (int q = 0; q < g->nodes[m].n_in; q++)
          if (g->vals[g->nodes[m].in[q]].producer == i) return false; /* the group reads what n defines */
      }
    unsigned mut = kn_op_table[n->op].mutates;
    for (int j = 0; j < n->n_in; j++) {
      if (!(mut & (1u << j))) continue;
      for (int m = first; m <= last; m++) {
        if (!in[m] || g->nodes[m].dead) continue;
        for (int q = 0; q < g->nodes[m].n_in; q++)
          if (g->nodes[m].in[q] == n->in[j]) return false; /* an update writes a group input */
      }
    }
  }
  return true;
}

bool kn_kernels_can_join(const kn_graph *g, int a, int b) {
  if (a == b) return true;
  char *in = kn_xmalloc((size_t)g->n_nodes + 1);
  int first, last;
  mark_union(g, a, b, in, &first, &last);
  bool ok = placeable(g, in, first, last, true) || placeable(g, in, first, last, false);
  free(in);
  return ok;
}

/* Moves the members of `in` in [first, last] to the end (sink) or the start of the span, keeping
 * relative orders; renumbers ids, producers and fwd links. Returns the new id of node `track`. */
static int move_members(kn_graph *g, const char *in, int first, int last, bool sink, int track) {
  int len = last - first + 1, k = 0;
  int *order = kn_xmalloc((size_t)len * sizeof *order), *pos = kn_xmalloc((size_t)g->n_nodes * sizeof *pos);
  for (int pass = 0; pass < 2; pass++) {
    bool members = sink ? pass == 1 : pass == 0;
    for (int i = first; i <= last; i++)
      if ((in[i] != 0) == members) order[k++] = i;
  }
  for (int i = 0; i < g->n_nodes; i++) pos[i] = i;
  kn_node *tmp = kn_xmalloc((size_t)len * sizeof *tmp);
  for (int j = 0; j < len; j++) {
    tmp[j] = g->nodes[order[j]];
    pos[order[j]] = first + j;
  }
  for (int j = 0; j < len; j++) {
    g->nodes[first + j] = tmp[j];
    g->nodes[first + j].id = first + j;
  }
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].fwd >= 0) g->nodes[i].fwd = pos[g->nodes[i].fwd];
  for (int v = 0; v < g->n_vals; v++)
    if (g->vals[v].producer >= 0) g->vals[v].producer = pos[g->vals[v].producer];
  int r = pos[track];
  free(tmp);
  free(pos);
  free(order);
  return r;
}

int kn_kernels_join(kn_graph *g, int a, int b) {
  if (a == b) return a;
  int ka = g->nodes[a].kernel, kb = g->nodes[b].kernel;
  int k = ka > 0 ? ka : kb > 0 ? kb : kn_kernels_new_group(g);
  char *in = kn_xmalloc((size_t)g->n_nodes + 1);
  int first, last;
  mark_union(g, a, b, in, &first, &last);
  bool sink = placeable(g, in, first, last, true);
  KN_ASSERT(sink || placeable(g, in, first, last, false));
  for (int i = first; i <= last; i++)
    if (in[i]) g->nodes[i].kernel = k;
  int r = move_members(g, in, first, last, sink, a);
  free(in);
  return r;
}

bool kn_kernels_verify(const kn_graph *g, kn_diag *d) {
  kn_kernel_list kl;
  kn_kernels_build(g, &kl);
  bool ok = true;
  for (int k = 0; k < kl.n && ok; k++) {
    const kn_kernel *K = &kl.k[k];
    for (int i = K->first; i <= K->last && ok; i++) {
      const kn_node *n = &g->nodes[i];
      if (n->dead) continue;
      if (n->kernel != K->group || (K->group == 0 && K->n_nodes != 1)) {
        kn_diag_error(d, (kn_loc){0}, NULL, "internal: graph '%s' kernel group %d (nodes %d..%d) is not contiguous",
                      g->name, K->group, K->first, K->last);
        ok = false;
      } else if (kn_op_table[n->op].flags & KN_OPF_UPDATE && K->n_nodes > 1) {
        kn_diag_error(d, (kn_loc){0}, NULL, "internal: graph '%s' kernel group %d holds update op '%s'", g->name,
                      K->group, n->name);
        ok = false;
      }
    }
  }
  kn_kernels_free(&kl);
  return ok;
}

/* ---- materialisation and traffic ---- */
static bool same_kernel(const kn_graph *g, int a, int b) {
  return a == b || (g->nodes[a].kernel > 0 && g->nodes[a].kernel == g->nodes[b].kernel);
}

static bool materialised(const kn_graph *g, const kn_uses *u, int v) {
  int p = g->vals[v].producer;
  if (p < 0 || kn_value_pinned(g, v)) return true;
  for (int k = u->start[v]; k < u->start[v + 1]; k++)
    if (!same_kernel(g, p, u->node[k])) return true;
  return false;
}

bool kn_kernels_materialised(const kn_graph *g, int v) {
  kn_uses u;
  kn_uses_build(g, &u);
  bool r = materialised(g, &u, v);
  kn_uses_free(&u);
  return r;
}

int64_t kn_kernels_traffic_bytes(const kn_graph *g) {
  kn_uses u;
  kn_uses_build(g, &u);
  kn_kernel_list kl;
  kn_kernels_build(g, &kl);
  int *stamp = kn_xmalloc((size_t)(g->n_vals ? g->n_vals : 1) * sizeof *stamp);
  for (int v = 0; v < g->n_vals; v++) stamp[v] = -1;
  int64_t bytes = 0;
  for (int k = 0; k < kl.n; k++) {
    const kn_kernel *K = &kl.k[k];
    for (int j = 0; j < K->n_nodes; j++) {
      const kn_node *n = &g->nodes[K->nodes[j]];
      for (int i = 0; i < n->n_in; i++) {
        int v = n->in[i], p = g->vals[v].producer;
        if (!kn_value_transient(&g->vals[v]) || stamp[v] == k) continue;
        if (p >= 0 && same_kernel(g, p, n->id)) continue;
        stamp[v] = k;
        bytes += kn_value_bytes(&g->vals[v]);
      }
      for (int o = 0; o < n->n_out; o++)
        if (materialised(g, &u, n->out[o])) bytes += kn_value_bytes(&g->vals[n->out[o]]);
      /* Two-pass ops: the sums need one more sweep unless the producer's epilogue gathers them. */
      bool two_pass = (n->op == KN_OP_BATCHNORM2D && kn_node_int(n, KN_ATTR_TRAINING)) ||
                      n->op == KN_OP_BATCHNORM2D_GRAD;
      int p0 = g->vals[n->in[0]].producer;
      if (two_pass && !(p0 >= 0 && same_kernel(g, p0, n->id))) {
        bytes += kn_value_bytes(&g->vals[n->in[0]]);
        if (n->op == KN_OP_BATCHNORM2D_GRAD) bytes += kn_value_bytes(&g->vals[n->in[1]]);
      }
    }
  }
  free(stamp);
  kn_kernels_free(&kl);
  kn_uses_free(&u);
  return bytes;
}

/* ---- printing ---- */
void kn_kernels_print(const kn_graph *g, FILE *f) {
  kn_kernel_list kl;
  kn_kernels_build(g, &kl);
  int groups = 0, nodes = 0;
  for (int k = 0; k < kl.n; k++) {
    const kn_kernel *K = &kl.k[k];
    nodes += K->n_nodes;
    if (K->n_nodes == 1) continue;
    groups++;
    fprintf(f, "kernel %d (", K->group);
    for (int j = 0; j < K->n_nodes; j++) fprintf(f, "%s%s", j ? "+" : "", kn_op_table[g->nodes[K->nodes[j]].op].name);
    fprintf(f, "):");
    for (int j = 0; j < K->n_nodes; j++) fprintf(f, "%s %s", j ? "," : "", g->nodes[K->nodes[j]].name);
    fputc('\n', f);
  }
  fprintf(f, "; %d nodes in %d kernels (%d fused groups), activation traffic %.3f MB\n", nodes, kl.n, groups,
          (double)kn_kernels_traffic_bytes(g) / 1e6);
  kn_kernels_free(&kl);
}
