/* bundle_write.c — see bundle_write.h. */
#include <stdlib.h>
#include <string.h>

#include "bundle_write.h"
#include "kn_gpu_bundle.h"
#include "util.h"

typedef struct {
  char *p;
  size_t n, cap;
} kn_buf;

static void put(kn_buf *b, const void *v, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2;
    b->p = kn_xrealloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, v, n);
  b->n += n;
}
static void put32(kn_buf *b, uint32_t v) { put(b, &v, 4); }

bool kn_test_bundle_write(const char *path, const kn_ptx_program *prog, const kn_graph *g, void *const *init,
                          void *const *expect, float tol, unsigned steps, int step_value) {
  kn_buf b = {0};
  put(&b, KN_BUNDLE_MAGIC, 8);
  put32(&b, KN_BUNDLE_VERSION);
  put32(&b, (uint32_t)g->n_vals);
  put32(&b, (uint32_t)prog->n_calls);
  put32(&b, steps);
  put32(&b, (uint32_t)step_value);
  put32(&b, (uint32_t)prog->ptx_len);
  put(&b, prog->ptx, prog->ptx_len);
  for (int k = 0; k < g->n_vals; k++) {
    const kn_value *v = &g->vals[k];
    uint64_t bytes = (uint64_t)kn_shape_numel(v->shape) * 4;
    uint32_t flags = (init[k] ? KN_BUNDLE_INIT : 0) | (expect[k] ? KN_BUNDLE_EXPECT : 0) |
                     (v->dtype == KN_DT_I32 ? KN_BUNDLE_I32 : 0);
    char name[64] = {0};
    snprintf(name, sizeof name, "%s", v->name);
    put(&b, &bytes, 8);
    put32(&b, flags);
    put(&b, &tol, 4);
    put(&b, name, 64);
    if (init[k]) put(&b, init[k], bytes);
    if (expect[k]) put(&b, expect[k], bytes);
  }
  for (int k = 0; k < prog->n_calls; k++) {
    const kn_ptx_call *c = &prog->calls[k];
    char entry[32] = {0};
    int32_t args[KN_GPU_MAX_ARGS] = {0};
    uint32_t n = 0;
    snprintf(entry, sizeof entry, "%s", c->entry);
    for (int a = 0; a < c->n_p; a++)
      if (c->p[a] >= 0) args[n++] = c->p[a];
    put(&b, entry, 32);
    put32(&b, c->grid);
    put32(&b, c->block);
    put32(&b, n);
    put(&b, args, sizeof args);
  }
  bool ok = kn_write_file_atomic(path, b.p, b.n);
  free(b.p);
  return ok;
}
