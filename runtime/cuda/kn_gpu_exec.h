/* kn_gpu_exec.h — runs a compiled GPU program: the PTX module, one device arena holding every
 * buffer (offsets planned when the program is built), and the launch list in order on one stream.
 *
 *   kn_gpu_exec x;
 *   if (!kn_gpu_exec_init(&x, cu, &prog)) { fprintf(stderr, "%s\n", cu->error); ... }
 *   kn_cuda_upload_async(cu, x.buf[input], images, bytes);   // next batch while nothing runs
 *   kn_gpu_exec_run(&x);                                     // every launch, asynchronously
 *   kn_cuda_sync(cu);
 *   kn_gpu_exec_free(&x);
 */
#ifndef KN_GPU_EXEC_H
#define KN_GPU_EXEC_H

#include "kn_cuda.h"

#define KN_GPU_MAX_ARGS 10

typedef struct kn_gpu_launch {
  char entry[32];              /* PTX .entry name */
  unsigned grid, block;        /* 1-d */
  int n_args;
  int args[KN_GPU_MAX_ARGS];   /* buffer indices, passed as device pointers in order */
} kn_gpu_launch;

typedef struct kn_gpu_program {
  const char *ptx;             /* NUL-terminated PTX text */
  int n_buffers;
  const uint64_t *bytes;       /* size of each buffer */
  int n_launches;
  const kn_gpu_launch *launches;
} kn_gpu_program;

typedef struct kn_gpu_exec {
  kn_cuda *cu;
  const kn_gpu_program *prog;
  kn_cu_handle module;
  kn_cu_handle *fn;            /* per launch */
  kn_cu_deviceptr arena;       /* one allocation */
  kn_cu_deviceptr *buf;        /* per buffer: arena + offset (256-byte aligned) */
  uint64_t arena_bytes;
} kn_gpu_exec;

/* Loads the module (cuModuleLoadData JIT-compiles the PTX for this GPU), resolves every entry
 * and allocates the arena (zeroed). False with cu->error set. */
bool kn_gpu_exec_init(kn_gpu_exec *x, kn_cuda *cu, const kn_gpu_program *prog);
/* Queues every launch on cu->stream; false with cu->error naming the entry that failed. */
bool kn_gpu_exec_run(kn_gpu_exec *x);
void kn_gpu_exec_free(kn_gpu_exec *x);

#endif
