/* pass_util.h — small helpers shared by the graph passes (not a public API): user lists, use
 * replacement, and the questions every fusion pass asks about a node or value.
 *
 *   kn_uses u; kn_uses_build(g, &u);
 *   for (int k = u.start[v]; k < u.start[v + 1]; k++) ... g->nodes[u.node[k]] reads v ...
 *   kn_uses_free(&u);
 */
#ifndef KN_PASS_UTIL_H
#define KN_PASS_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"

/* Readers of every value (live nodes only): node[start[v] .. start[v+1]), ascending node id; a
 * node reading v twice appears twice. Stale after the graph changes: rebuild. */
typedef struct kn_uses {
  int *start; /* [n_vals + 1] */
  int *node;
  int n_vals;
} kn_uses;

void kn_uses_build(const kn_graph *g, kn_uses *u);
void kn_uses_free(kn_uses *u);
/* Number of distinct live readers of v. */
int kn_uses_count(const kn_uses *u, int v);

/* Backward or update node (built by autodiff): runs after the forward pass of a training step. */
bool kn_node_is_backward(const kn_node *n);
/* A value the caller reads after the run: g->output, g->loss, or a parameter gradient. */
bool kn_value_pinned(const kn_graph *g, int v);
/* Not a parameter, state or constant: data inputs, activations and gradients. */
bool kn_value_transient(const kn_value *v);
/* Bytes of a value (4 per element). */
int64_t kn_value_bytes(const kn_value *v);

/* Every live node after `from` reading old_v reads new_v instead; well-known ids follow. */
void kn_replace_uses(kn_graph *g, int old_v, int new_v, int from);

/* The reader a fusion chain may continue into from value v, or -1:
 *   v defined by a forward node: its single forward reader (backward readers are ignored: they
 *     read the copy the kernel writes through); a forward branch point stays a kernel boundary;
 *   v defined by a backward node: its first reader (later readers read the written-through copy;
 *     kn_kernels_can_join rejects the join when one runs inside the group's span). */
int kn_next_user(const kn_graph *g, const kn_uses *u, int v);

#endif
