/* memplan.h — static memory planning of a graph's transient values (inputs, activations,
 * gradients) into one work arena with byte offsets fixed at compile time.
 *
 * Liveness runs over the node order: a value is live from the node that defines it (inputs: from
 * the start) to its last reader; values marked `pinned` (what the caller reads after the run:
 * outputs, loss, kept gradients) stay live to the end. Persistent values (params, state, consts)
 * are not planned here: they live in the persist region, laid out by the backend.
 * Placement is greedy best-fit: each value, in definition order, takes the smallest free gap of
 * the arena that holds it (else the top grows); a node's outputs never share memory with its
 * inputs, since a value is freed only after its last reader ran.
 *
 *   kn_memplan mp;
 *   kn_memplan_build(g, pinned, KN_MEMPLAN_ALIGN, &mp);
 *   ... mp.offset[v] (bytes, -1 when not placed), mp.size, mp.naive ...
 *   kn_memplan_free(&mp);
 *
 * For a backend that fuses kernel groups, kn_memplan_build_fused also takes
 *   skip[v]   values that get no slot (internal values of a fused kernel: kept in registers/tiles);
 *   unit[i]   node i runs as part of a unit of nodes [unit_first[i], unit_last[i]] (a fused kernel):
 *             the unit's outputs are placed when it starts and what it reads is freed when it ends,
 *             so a value read by one member never shares memory with a value another member writes.
 * Both planners honour kn_node.inplace (output 0 takes input k-1's block when that input is read
 * for the last time by this node, has the same shape and is not pinned). In a multi-node unit,
 * which must compute element by element at equal indices (a fused sweep), output 0 of a member
 * may take the block of any same-shape value read in the unit whose readers all come at or
 * before that member.
 */
#ifndef KN_MEMPLAN_H
#define KN_MEMPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"

#define KN_MEMPLAN_ALIGN 64

typedef struct kn_memplan {
  int n_vals;
  int64_t *offset; /* per value id: byte offset in the work arena; -1 for persistent/unused values */
  int64_t size;    /* arena bytes */
  int64_t naive;   /* bytes if every planned value had its own slot */
  int64_t peak_live; /* largest sum of live bytes at any node (a lower bound for `size`) */
} kn_memplan;

/* True for values that live in the persist region instead (params, state, consts). */
bool kn_memplan_is_persistent(const kn_value *v);
/* Bytes of a value, rounded up to `align`. */
int64_t kn_memplan_bytes(const kn_value *v, int64_t align);
/* pinned[n_vals] may be NULL. Every live node's inputs and outputs that are not persistent get an
 * offset. Returns false only on an internal inconsistency. Free with kn_memplan_free. */
bool kn_memplan_build(const kn_graph *g, const bool *pinned, int64_t align, kn_memplan *mp);
/* skip[n_vals], unit_first/unit_last[n_nodes] may each be NULL (no skip; every node its own unit). */
bool kn_memplan_build_fused(const kn_graph *g, const bool *pinned, const bool *skip, const int *unit_first,
                            const int *unit_last, int64_t align, kn_memplan *mp);
void kn_memplan_free(kn_memplan *mp);

#endif
