/* kn_gpu_bundle.h — a self-contained GPU test case in one file: a compiled program (PTX, buffer
 * sizes, launches), the initial contents of some buffers and the expected contents of others
 * (computed by the reference interpreter on the build machine). tests/gpu writes them on a machine
 * with LLVM and runs them with kn_gpu_check on a machine with a GPU, which needs neither.
 *
 * File layout (little-endian):
 *   "KNGPUB01", u32 version = 1, u32 n_buffers, u32 n_launches, u32 steps,
 *   i32 step_buffer (-1: none; else a [1] f32 buffer set to 1, 2, ... before each step),
 *   u32 ptx_len, ptx bytes (no NUL)
 *   per buffer: u64 bytes, u32 flags (KN_BUNDLE_INIT | KN_BUNDLE_EXPECT | KN_BUNDLE_I32), f32 tol,
 *               char name[64], then `bytes` of initial data if INIT, then `bytes` expected if EXPECT
 *   per launch: char entry[32], u32 grid, u32 block, u32 n_args, i32 args[10]
 */
#ifndef KN_GPU_BUNDLE_H
#define KN_GPU_BUNDLE_H

#include "kn_gpu_exec.h"

#define KN_BUNDLE_MAGIC "KNGPUB01"
#define KN_BUNDLE_VERSION 1u
enum { KN_BUNDLE_INIT = 1, KN_BUNDLE_EXPECT = 2, KN_BUNDLE_I32 = 4 };

typedef struct kn_gpu_bundle {
  kn_gpu_program prog;   /* points into the fields below */
  char *ptx;
  uint64_t *bytes;
  kn_gpu_launch *launches;
  uint32_t *flags;       /* per buffer */
  float *tol;            /* per buffer: |got - want| <= tol * (1 + |want|) */
  char (*name)[64];      /* per buffer */
  void **init, **expect; /* per buffer, NULL when absent */
  uint32_t steps;
  int step_buffer;
} kn_gpu_bundle;

/* Reads and validates a bundle; false with err filled (bounds-checked, never trusts sizes). */
bool kn_gpu_bundle_read(const char *path, kn_gpu_bundle *b, char *err, size_t err_len);
void kn_gpu_bundle_free(kn_gpu_bundle *b);

#endif
