/* bundle_write.h — writes a GPU test bundle (format: runtime/cuda/kn_gpu_bundle.h) from a lowered
 * program: buffer k is graph value k; init[k] / expect[k] are its initial / expected contents
 * (NULL when absent).
 *
 *   kn_test_bundle_write("conv2d.kgb", prog, g, init, expect, 1e-4f, 1, -1);
 */
#ifndef KN_TEST_BUNDLE_WRITE_H
#define KN_TEST_BUNDLE_WRITE_H

#include "ptx.h"

bool kn_test_bundle_write(const char *path, const kn_ptx_program *prog, const kn_graph *g, void *const *init,
                          void *const *expect, float tol, unsigned steps, int step_value);

#endif
