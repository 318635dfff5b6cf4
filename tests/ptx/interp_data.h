/* interp_data.h — test data through the reference interpreter, shared by the GPU tests:
 * random inputs, and access to any value's storage whatever its dtype.
 *
 *   kn_interp_init_params(it, 7); kn_test_fill_inputs(g, it, 100);
 */
#ifndef KN_TEST_INTERP_DATA_H
#define KN_TEST_INTERP_DATA_H

#include "interp.h"

/* Uniform [-1, 1) for f32 inputs, [0, 10) for i32 (labels); lr = 0.05, step = 1. */
void kn_test_fill_inputs(const kn_graph *g, kn_interp *it, uint64_t seed);
/* The interpreter's storage of value v (f32 or i32). */
void *kn_test_value_data(const kn_graph *g, kn_interp *it, int v);

#endif
