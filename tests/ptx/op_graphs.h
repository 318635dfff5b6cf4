/* op_graphs.h — one small graph per op of ops.def (forward, backward, update), built with the IR
 * API, for the GPU backend's tests: PTX + ptxas for every op, and the kernels run on CPU threads
 * against the reference interpreter.
 *
 *   kn_graph *g = kn_test_op_graph(KN_OP_CONV2D, &node);   // shapes inferred; NULL on error
 *   ... the node of interest is g->nodes[node]; inputs are values with no producer ...
 *   kn_graph_dispose(g);
 */
#ifndef KN_TEST_OP_GRAPHS_H
#define KN_TEST_OP_GRAPHS_H

#include "ir.h"

/* Variants: most ops have 1; some have more (conv: groups/stride/dilation; upsample: modes). */
int kn_test_op_variants(kn_op op);
kn_graph *kn_test_op_graph(kn_op op, int variant, int *node);

#endif
