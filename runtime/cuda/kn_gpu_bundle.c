/* kn_gpu_bundle.c — reading GPU test bundles (format in kn_gpu_bundle.h). */
#include <stdlib.h>
#include <string.h>

#include "kn_gpu_bundle.h"

typedef struct {
  FILE *f;
  bool ok;
} kn_reader;

static void rd(kn_reader *r, void *p, size_t n) {
  if (r->ok && n && fread(p, 1, n, r->f) != n) r->ok = false;
}
static uint32_t rd32(kn_reader *r) {
  uint32_t v = 0;
  rd(r, &v, 4);
  return v;
}
/* Reads n bytes into fresh memory, refusing sizes larger than what is left of the file. */
static void *rdblob(kn_reader *r, uint64_t n, long file_size) {
  if (!r->ok || (long)n > file_size - ftell(r->f)) {
    r->ok = false;
    return NULL;
  }
  void *p = malloc(n ? n : 1);
  if (!p) r->ok = false;
  else rd(r, p, n);
  return p;
}

bool kn_gpu_bundle_read(const char *path, kn_gpu_bundle *b, char *err, size_t err_len) {
  memset(b, 0, sizeof *b);
  kn_reader r = {fopen(path, "rb"), true};
  if (!r.f) {
    snprintf(err, err_len, "%s: cannot open", path);
    return false;
  }
  fseek(r.f, 0, SEEK_END);
  long size = ftell(r.f);
  fseek(r.f, 0, SEEK_SET);
  char magic[8] = {0};
  rd(&r, magic, 8);
  uint32_t version = rd32(&r), nb = rd32(&r), nl = rd32(&r);
  b->steps = rd32(&r);
  b->step_buffer = (int)rd32(&r);
  uint32_t ptx_len = rd32(&r);
  if (!r.ok || memcmp(magic, KN_BUNDLE_MAGIC, 8) || version != KN_BUNDLE_VERSION || nb > 1u << 20 ||
      nl > 1u << 20 || b->step_buffer < -1 || b->step_buffer >= (int)nb) {
    snprintf(err, err_len, "%s: not a kiln GPU bundle (version %u)", path, KN_BUNDLE_VERSION);
    fclose(r.f);
    return false;
  }
  if ((long)ptx_len <= size - ftell(r.f) && (b->ptx = malloc((size_t)ptx_len + 1))) {
    rd(&r, b->ptx, ptx_len);
    b->ptx[ptx_len] = 0;
  } else {
    r.ok = false;
  }
  b->bytes = calloc(nb + 1, sizeof *b->bytes);
  b->flags = calloc(nb + 1, sizeof *b->flags);
  b->tol = calloc(nb + 1, sizeof *b->tol);
  b->name = calloc(nb + 1, sizeof *b->name);
  b->init = calloc(nb + 1, sizeof *b->init);
  b->expect = calloc(nb + 1, sizeof *b->expect);
  b->launches = calloc(nl + 1, sizeof *b->launches);
  b->prog.n_buffers = (int)nb;
  b->prog.n_launches = (int)nl;
  r.ok = r.ok && b->bytes && b->flags && b->tol && b->name && b->init && b->expect && b->launches;
  for (uint32_t k = 0; r.ok && k < nb; k++) {
    rd(&r, &b->bytes[k], 8);
    b->flags[k] = rd32(&r);
    rd(&r, &b->tol[k], 4);
    rd(&r, b->name[k], 64);
    b->name[k][63] = 0;
    if (b->flags[k] & KN_BUNDLE_INIT) b->init[k] = rdblob(&r, b->bytes[k], size);
    if (b->flags[k] & KN_BUNDLE_EXPECT) b->expect[k] = rdblob(&r, b->bytes[k], size);
  }
  for (uint32_t k = 0; r.ok && k < nl; k++) {
    kn_gpu_launch *l = &b->launches[k];
    rd(&r, l->entry, 32);
    l->entry[31] = 0;
    l->grid = rd32(&r);
    l->block = rd32(&r);
    l->n_args = (int)rd32(&r);
    int32_t args[KN_GPU_MAX_ARGS];
    rd(&r, args, sizeof args);
    if (l->n_args < 0 || l->n_args > KN_GPU_MAX_ARGS) r.ok = false;
    for (int a = 0; r.ok && a < l->n_args; a++) {
      l->args[a] = args[a];
      if (args[a] < 0 || args[a] >= (int)nb) r.ok = false;
    }
  }
  fclose(r.f);
  b->prog.ptx = b->ptx;
  b->prog.bytes = b->bytes;
  b->prog.launches = b->launches;
  if (!r.ok) {
    snprintf(err, err_len, "%s: truncated or corrupt bundle", path);
    kn_gpu_bundle_free(b);
    return false;
  }
  return true;
}

void kn_gpu_bundle_free(kn_gpu_bundle *b) {
  for (int k = 0; b->init && k < b->prog.n_buffers; k++) free(b->init[k]);
  for (int k = 0; b->expect && k < b->prog.n_buffers; k++) free(b->expect[k]);
  free(b->init);
  free(b->expect);
  free(b->ptx);
  free(b->bytes);
  free(b->flags);
  free(b->tol);
  free(b->name);
  free(b->launches);
  memset(b, 0, sizeof *b);
}
