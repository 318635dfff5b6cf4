/* kernel_groups.h — kernel groups: how fusion passes say "emit these nodes as one kernel".
 *
 * Fusion in kiln does not change the math: every node keeps its op, inputs and outputs, and the
 * reference interpreter (which ignores groups) stays the oracle. A fusion pass only sets
 * kn_node.kernel: 0 means the node is a kernel of its own, k > 0 puts it in group k with every
 * other node carrying k. A backend that honours groups emits each group as one kernel (one loop
 * nest or one call with an epilogue) at the position of the group's LAST node, and keeps in
 * registers/cache the values that no node outside the group reads ("internal" values); a backend
 * that ignores groups stays correct. See docs/fusion.md.
 *
 * Invariant: every group is a run of consecutive live nodes (dead nodes may sit in between), so
 * it runs where it stands. kn_kernels_join keeps it: it moves the members of the new group next to
 * each other inside their span, either down to the last member ("sink": legal when no other node
 * in the span reads a value the group defines) or up to the first ("hoist": legal when the group
 * reads nothing defined inside the span); either way no update op in the span may write a group
 * input, and update ops are never grouped. Joining renumbers node ids inside the span.
 *
 *   kn_kernel_list kl;
 *   kn_kernels_build(g, &kl);                // kernels in emission order
 *   for (int k = 0; k < kl.n; k++)
 *     for (int j = 0; j < kl.k[k].n_nodes; j++) ... g->nodes[kl.k[k].nodes[j]] ...
 *   kn_kernels_free(&kl);
 */
#ifndef KN_KERNEL_GROUPS_H
#define KN_KERNEL_GROUPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "ir.h"

typedef struct kn_kernel {
  int group;   /* the nodes' kn_node.kernel; 0 for a node that is a kernel of its own */
  int *nodes;  /* node ids in graph order (points into the list's buffer) */
  int n_nodes;
  int first, last; /* smallest and largest node id; the kernel runs at `last` */
} kn_kernel;

typedef struct kn_kernel_list {
  kn_kernel *k; /* ordered by `last` (emission order) */
  int n;
  int *buf;     /* owned node-id storage */
} kn_kernel_list;

/* Every live node in exactly one kernel. Free with kn_kernels_free. */
void kn_kernels_build(const kn_graph *g, kn_kernel_list *kl);
void kn_kernels_free(kn_kernel_list *kl);
/* Number of kernels of the live graph (a group counts once). */
int kn_kernels_count(const kn_graph *g);
/* Nodes in the same group as node `id` (including it), written to out (capacity n_nodes);
 * returns the count. */
int kn_kernels_members(const kn_graph *g, int id, int *out);

/* A group id not used by any node. */
int kn_kernels_new_group(const kn_graph *g);
/* Whether the groups of nodes a and b (or the nodes alone) could form one legal group. */
bool kn_kernels_can_join(const kn_graph *g, int a, int b);
/* Puts a, b and their groups into one group (a's, b's or a new one) and makes it contiguous.
 * Node ids inside the span change (value ids do not): returns the new id of node a. Asserts
 * kn_kernels_can_join. */
int kn_kernels_join(kn_graph *g, int a, int b);
/* Resets every node to a kernel of its own. */
void kn_kernels_clear(kn_graph *g);
/* Every group is contiguous and holds no update op; internal errors as diagnostics otherwise. */
bool kn_kernels_verify(const kn_graph *g, kn_diag *d);

/* True when value v, defined inside node `id`'s group, must be written to memory: a node outside
 * the group reads it, or it is a well-known value (output, loss) or a parameter gradient. */
bool kn_kernels_materialised(const kn_graph *g, int v);

/* Estimated activation traffic of one run of the graph in bytes (see docs/fusion.md): for every
 * kernel, the non-persistent values it reads from outside plus the ones it writes that are
 * materialised; two-pass ops (training-mode batchnorm2d and batchnorm2d_grad) read their input
 * once more unless its producer is in the same kernel (the producer's epilogue gathers the sums).
 * Parameters, state and constants are not activations and are not counted. */
int64_t kn_kernels_traffic_bytes(const kn_graph *g);

/* FLOPs of one node (2 per multiply-add for conv2d/linear and their gradients, one per element
 * of the largest operand otherwise) and, per kernel of kl, FLOPs and bytes moved (distinct values
 * read from outside, parameters included, plus materialised outputs and update writes); flops and
 * bytes have kl->n entries. The model is in kernel_cost.c. */
int64_t kn_node_flops(const kn_graph *g, const kn_node *n);
void kn_kernels_cost(const kn_graph *g, const kn_kernel_list *kl, int64_t *flops, int64_t *bytes);

/* "kernel 12 (conv2d+batchnorm2d+relu): layer1.0.conv1, layer1.0.bn1, layer1.0.relu" per
 * multi-node kernel, then a summary line with the counts. */
void kn_kernels_print(const kn_graph *g, FILE *f);

#endif
