/* allreduce.c — data-parallel gradient averaging: the last step of autodiff puts an
 * allreduce_mean node between every parameter gradient and its optimizer update, right after the
 * node that completes the gradient, and groups the gradients into buckets of about
 * kn_allreduce_bucket_bytes in backward order (the order they complete).
 *
 *   ... conv2d_grad_weight -> grad_local:P -> allreduce_mean{BUCKET b, OFFSET o, COUNT n} -> grad:P
 *   ... sgd_update(P, grad:P, lr, ...)
 *
 * The CPU backend lowers the node to two runtime calls (runtime/exe/kn_dist.h): where it stands, the
 * gradient is copied into its bucket and the bucket's MPI_Iallreduce starts once every gradient
 * of the bucket is in; before the first reader of grad:P (its update) the backend waits for the
 * bucket and copies the mean back. With one process both calls return at once (the `inplace`
 * pass lets grad:P share grad_local:P's buffer, so nothing is copied). The interpreter, the
 * reference, is one process: the node is the identity there.
 *
 * The gradient value keeps its name "grad:P" (and grad_of) on the node's output, the averaged
 * gradient the update reads; the rank-local one is renamed "grad_local:P".
 */
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "util.h"

static int64_t bucket_bytes = KN_ALLREDUCE_BUCKET_BYTES;

void kn_allreduce_set_bucket_bytes(int64_t bytes) { bucket_bytes = bytes > 0 ? bytes : KN_ALLREDUCE_BUCKET_BYTES; }

/* Puts node ids in `order` (a permutation of 0..n_nodes) into that order, renumbering ids,
 * producers and fwd links. */
static void reorder(kn_graph *g, const int *order) {
  int n = g->n_nodes;
  int *pos = kn_xmalloc((size_t)n * sizeof *pos);
  kn_node *tmp = kn_xmalloc((size_t)n * sizeof *tmp);
  for (int j = 0; j < n; j++) {
    tmp[j] = g->nodes[order[j]];
    tmp[j].id = j;
    pos[order[j]] = j;
  }
  memcpy(g->nodes, tmp, (size_t)n * sizeof *tmp);
  for (int i = 0; i < n; i++)
    if (g->nodes[i].fwd >= 0) g->nodes[i].fwd = pos[g->nodes[i].fwd];
  for (int v = 0; v < g->n_vals; v++)
    if (g->vals[v].producer >= 0) g->vals[v].producer = pos[g->vals[v].producer];
  free(tmp);
  free(pos);
}

/* Adds the allreduce_mean node of update u's gradient; returns false on a shape error. */
static bool add_node(kn_graph *g, int u, kn_diag *d) {
  int gv = g->nodes[u].in[1];
  int p = g->vals[gv].grad_of;
  KN_ASSERT(p >= 0 && g->vals[gv].producer >= 0 && "an update reads a named parameter gradient");
  char *name = kn_fmt("allreduce.%s", g->vals[p].name);
  kn_node *a = kn_graph_add_node(g, KN_OP_ALLREDUCE_MEAN, name, &gv, 1, (kn_loc){0});
  free(name);
  int id = a->id;
  if (!kn_node_infer(g, &g->nodes[id], d)) return false;
  int out = g->nodes[id].out[0];
  char *local = kn_fmt("grad_local:%s", g->vals[p].name);
  free(g->vals[out].name);
  g->vals[out].name = g->vals[gv].name; /* "grad:P" */
  g->vals[gv].name = local;
  g->vals[out].grad_of = p;
  g->vals[gv].grad_of = -1;
  g->nodes[u].in[1] = out;
  return true;
}

bool kn_pass_allreduce(kn_graph *g, kn_diag *d) {
  int n0 = g->n_nodes;
  for (int i = 0; i < n0; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead || (n->op != KN_OP_SGD_UPDATE && n->op != KN_OP_ADAM_UPDATE)) continue;
    if (!add_node(g, i, d)) return false;
  }
  /* Each new node right after the producer of its gradient. */
  int n = g->n_nodes, k = 0;
  int *order = kn_xmalloc((size_t)(n ? n : 1) * sizeof *order);
  int *after = kn_xmalloc((size_t)(n ? n : 1) * sizeof *after); /* producer of node i's input */
  for (int i = n0; i < n; i++) after[i] = g->vals[g->nodes[i].in[0]].producer;
  for (int i = 0; i < n0; i++) {
    order[k++] = i;
    for (int j = n0; j < n; j++)
      if (after[j] == i) order[k++] = j;
  }
  KN_ASSERT(k == n);
  reorder(g, order);
  /* Buckets in node order (backward order). */
  int bucket = 0, first = -1;
  int64_t elems = 0;
  for (int i = 0; i <= n; i++) {
    const kn_node *a = i < n ? &g->nodes[i] : NULL;
    if (a && a->op != KN_OP_ALLREDUCE_MEAN) continue;
    int64_t e = a ? kn_shape_numel(g->vals[a->in[0]].shape) : 0;
    if (first >= 0 && (!a || (elems + e) * 4 > bucket_bytes)) { /* close the open bucket */
      for (int j = first; j < i; j++)
        if (g->nodes[j].op == KN_OP_ALLREDUCE_MEAN) kn_node_set_int(&g->nodes[j], KN_ATTR_COUNT, elems);
      bucket++;
      first = -1;
      elems = 0;
    }
    if (!a) break;
    if (first < 0) first = i;
    kn_node_set_int(&g->nodes[i], KN_ATTR_BUCKET, bucket);
    kn_node_set_int(&g->nodes[i], KN_ATTR_OFFSET, elems);
    elems += e;
  }
  free(after);
  free(order);
  return true;
}
