/* kn_gpu_exec.c — module loading, arena layout and the launch loop (see kn_gpu_exec.h). */
#include <stdlib.h>
#include <string.h>

#include "kn_gpu_exec.h"

static bool check(kn_cuda *cu, const char *what, kn_cu_result r) {
  if (r == 0) return true;
  snprintf(cu->error, sizeof cu->error, "%s: %s (%d)", what, kn_cuda_error_name(r), r);
  return false;
}

bool kn_gpu_exec_init(kn_gpu_exec *x, kn_cuda *cu, const kn_gpu_program *prog) {
  memset(x, 0, sizeof *x);
  x->cu = cu;
  x->prog = prog;
  x->fn = calloc((size_t)prog->n_launches + 1, sizeof *x->fn);
  x->buf = calloc((size_t)prog->n_buffers + 1, sizeof *x->buf);
  if (!x->fn || !x->buf) {
    snprintf(cu->error, sizeof cu->error, "out of host memory");
    return false;
  }
  if (!check(cu, "cuModuleLoadData", cu->api.cuModuleLoadData(&x->module, prog->ptx))) return false;
  for (int k = 0; k < prog->n_launches; k++) {
    char what[64];
    snprintf(what, sizeof what, "cuModuleGetFunction(%s)", prog->launches[k].entry);
    if (!check(cu, what, cu->api.cuModuleGetFunction(&x->fn[k], x->module, prog->launches[k].entry))) return false;
  }
  for (int b = 0; b < prog->n_buffers; b++) x->arena_bytes += (prog->bytes[b] + 255) & ~(uint64_t)255;
  if (!kn_cuda_alloc(cu, &x->arena, x->arena_bytes)) return false;
  if (!check(cu, "cuMemsetD8_v2", cu->api.cuMemsetD8_v2(x->arena, 0, x->arena_bytes))) return false;
  uint64_t off = 0;
  for (int b = 0; b < prog->n_buffers; b++) {
    x->buf[b] = x->arena + off;
    off += (prog->bytes[b] + 255) & ~(uint64_t)255;
  }
  return true;
}

bool kn_gpu_exec_run(kn_gpu_exec *x) {
  kn_cuda *cu = x->cu;
  for (int k = 0; k < x->prog->n_launches; k++) {
    const kn_gpu_launch *l = &x->prog->launches[k];
    void *params[KN_GPU_MAX_ARGS];
    for (int a = 0; a < l->n_args; a++) params[a] = &x->buf[l->args[a]];
    char what[64];
    snprintf(what, sizeof what, "cuLaunchKernel(%s)", l->entry);
    if (!check(cu, what, cu->api.cuLaunchKernel(x->fn[k], l->grid, 1, 1, l->block, 1, 1, 0, cu->stream, params, NULL)))
      return false;
  }
  return true;
}

void kn_gpu_exec_free(kn_gpu_exec *x) {
  if (x->arena) kn_cuda_release(x->cu, x->arena);
  if (x->module) x->cu->api.cuModuleUnload(x->module);
  free(x->fn);
  free(x->buf);
  memset(x, 0, sizeof *x);
}
