/* ptx_fuse.h — internal to the GPU backend: the kernel groups of the pass pipeline honoured by
 * the PTX lowering (ptx_fuse.c). kn_ptx_lower_graph (ptx_lower.c) walks the kernels in
 * kn_kernels_build order and hands each multi-node group to kn_ptx_fuse_group, which turns every
 * maximal run of consecutive elementwise members into ONE launch of kn_gk_fused
 * (kernels/fused.c, program format kernels/kn_gfused.h) and lowers the other members one by one
 * with the callback. See docs/gpu.md, "Fusion".
 */
#ifndef KN_PTX_FUSE_H
#define KN_PTX_FUSE_H

#include "ptx.h"

/* Lowers node `node` alone (its usual launches). */
typedef bool (*kn_ptx_lower_node_fn)(const kn_graph *g, int node, kn_ptx_program *prog, kn_diag *d);

/* Lowers the group's nodes (ids in graph order). Values a run defines that nothing outside the
 * run reads (and that are not pinned: output, loss, parameter gradients) appear in no launch. */
bool kn_ptx_fuse_group(const kn_graph *g, const int *nodes, int n_nodes, kn_ptx_program *prog,
                       kn_ptx_lower_node_fn lower, kn_diag *d);

#endif
