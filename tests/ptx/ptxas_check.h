/* ptxas_check.h — runs NVIDIA's ptxas over PTX text for the GPU backend's tests.
 *
 *   if (!kn_test_ptxas_found(path)) return 77;            // skipped (ctest SKIP_RETURN_CODE 77)
 *   bool ok = kn_test_ptxas(path, ptx, "sm_90", "conv2d"); // prints ptxas' errors on failure
 */
#ifndef KN_TEST_PTXAS_CHECK_H
#define KN_TEST_PTXAS_CHECK_H

#include <stdbool.h>

/* True when `path` names an executable ptxas (CMake passes KN_PTXAS, maybe "...-NOTFOUND"). */
bool kn_test_ptxas_found(const char *path);
/* Assembles ptx for `arch` into a scratch file; true when ptxas exits 0. */
bool kn_test_ptxas(const char *ptxas, const char *ptx, const char *arch, const char *what);

#endif
