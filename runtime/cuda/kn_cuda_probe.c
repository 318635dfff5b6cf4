/* kn_cuda_probe.c — `kn_cuda_probe`: says which CUDA device a GPU executable would use, or why
 * there is none. Exit 0 with a device, 69 (KN_CUDA_EXIT_NO_DEVICE) without one, 1 on other errors.
 * Needs only the C library: the driver is opened with dlopen. */
#include "kn_cuda.h"

int main(void) {
  char why[256];
  kn_cuda *cu;
  int st = kn_cuda_init(&cu, 0, why, sizeof why);
  if (st == KN_CUDA_NO_DEVICE) {
    kn_cuda_print_no_device(stderr, why);
    return KN_CUDA_EXIT_NO_DEVICE;
  }
  if (st != KN_CUDA_OK) {
    fprintf(stderr, "error: CUDA initialisation failed (%s)\n", why);
    return 1;
  }
  printf("CUDA device 0: %s (sm_%d%d)\n", cu->name, cu->sm_major, cu->sm_minor);
  kn_cuda_free(cu);
  return 0;
}
