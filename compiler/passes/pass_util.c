/* pass_util.c — helpers shared by the graph passes (see pass_util.h). */
#include "pass_util.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void kn_uses_build(const kn_graph *g, kn_uses *u) {
  u->n_vals = g->n_vals;
  u->start = kn_xcalloc((size_t)g->n_vals + 1, sizeof *u->start);
  int total = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->n_in; j++) u->start[n->in[j] + 1]++;
    total += n->n_in;
  }
  for (int v = 0; v < g->n_vals; v++) u->start[v + 1] += u->start[v];
  u->node = kn_xmalloc((size_t)(total ? total : 1) * sizeof *u->node);
  int *fill = kn_xmalloc((size_t)(g->n_vals ? g->n_vals : 1) * sizeof *fill);
  memcpy(fill, u->start, (size_t)g->n_vals * sizeof *fill);
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->n_in; j++) u->node[fill[n->in[j]]++] = i;
  }
  free(fill);
}

void kn_uses_free(kn_uses *u) {
  free(u->start);
  free(u->node);
  u->start = u->node = NULL;
}

int kn_uses_count(const kn_uses *u, int v) {
  int c = 0;
  for (int k = u->start[v]; k < u->start[v + 1]; k++)
    if (k == u->start[v] || u->node[k] != u->node[k - 1]) c++;
  return c;
}

bool kn_node_is_backward(const kn_node *n) {
  return n->fwd >= 0 || (kn_op_table[n->op].flags & (KN_OPF_GRAD | KN_OPF_UPDATE)) != 0;
}

bool kn_value_pinned(const kn_graph *g, int v) {
  return v == g->output || v == g->loss || g->vals[v].grad_of >= 0;
}

bool kn_value_transient(const kn_value *v) {
  return v->kind == KN_VAL_INPUT || v->kind == KN_VAL_ACT;
}

int64_t kn_value_bytes(const kn_value *v) { return kn_shape_numel(v->shape) * 4; }

void kn_replace_uses(kn_graph *g, int old_v, int new_v, int from) {
  for (int i = from + 1; i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->n_in; j++)
      if (n->in[j] == old_v) n->in[j] = new_v;
  }
  int *wk[] = {&g->input, &g->labels, &g->output, &g->loss, &g->lr, &g->step};
  for (int k = 0; k < 6; k++)
    if (*wk[k] == old_v) *wk[k] = new_v;
}

int kn_next_user(const kn_graph *g, const kn_uses *u, int v) {
  int p = g->vals[v].producer;
  bool bwd = p >= 0 && kn_node_is_backward(&g->nodes[p]);
  int user = -1;
  for (int k = u->start[v]; k < u->start[v + 1]; k++) {
    int i = u->node[k];
    if (bwd) return i;
    if (kn_node_is_backward(&g->nodes[i])) continue;
    if (user >= 0 && user != i) return -1;
    user = i;
  }
  return user;
}
