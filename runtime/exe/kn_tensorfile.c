/* kn_tensorfile.c — reading and writing KNTF named-tensor files (see kn_tensorfile.h). */
#include "kn_tensorfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int64_t kn_tfile_numel(const kn_tfile_tensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

static void *xalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    abort();
  }
  return p;
}

void kn_tfile_add(kn_tfile *f, const char *name, int dtype, int rank, const int64_t *dims, const void *data) {
  if (f->n == f->cap) {
    f->cap = f->cap ? 2 * f->cap : 16;
    kn_tfile_tensor *t = realloc(f->t, (size_t)f->cap * sizeof *f->t);
    if (!t) abort();
    f->t = t;
  }
  kn_tfile_tensor *t = &f->t[f->n++];
  memset(t, 0, sizeof *t);
  t->name = xalloc(strlen(name) + 1);
  strcpy(t->name, name);
  t->dtype = dtype;
  t->rank = rank;
  for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
  size_t bytes = (size_t)kn_tfile_numel(t) * 4;
  t->data = xalloc(bytes);
  if (data) memcpy(t->data, data, bytes);
  else memset(t->data, 0, bytes);
}

const kn_tfile_tensor *kn_tfile_find(const kn_tfile *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (!strcmp(f->t[i].name, name)) return &f->t[i];
  return NULL;
}

bool kn_tfile_write(const kn_tfile *f, const char *path) {
  size_t plen = strlen(path) + 32;
  char *tmp = xalloc(plen);
  snprintf(tmp, plen, "%s.tmp%d", path, (int)getpid());
  FILE *o = fopen(tmp, "wb");
  bool ok = o != NULL;
  uint32_t hdr[2] = {1, (uint32_t)f->n};
  ok = ok && fwrite("KNTF", 1, 4, o) == 4 && fwrite(hdr, 4, 2, o) == 2;
  for (int i = 0; ok && i < f->n; i++) {
    const kn_tfile_tensor *t = &f->t[i];
    uint32_t len = (uint32_t)strlen(t->name), dt = (uint32_t)t->dtype, rk = (uint32_t)t->rank;
    size_t bytes = (size_t)kn_tfile_numel(t) * 4;
    ok = fwrite(&len, 4, 1, o) == 1 && fwrite(t->name, 1, len, o) == len && fwrite(&dt, 4, 1, o) == 1 &&
         fwrite(&rk, 4, 1, o) == 1 && fwrite(t->dims, 8, rk, o) == rk && fwrite(t->data, 1, bytes, o) == bytes;
  }
  if (o && fclose(o) != 0) ok = false;
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) unlink(tmp);
  free(tmp);
  return ok;
}

bool kn_tfile_read(kn_tfile *f, const char *path, char *err, size_t errlen) {
  memset(f, 0, sizeof *f);
  FILE *in = fopen(path, "rb");
  if (!in) {
    snprintf(err, errlen, "cannot open '%s'", path);
    return false;
  }
  char magic[4];
  uint32_t hdr[2];
  bool ok = fread(magic, 1, 4, in) == 4 && !memcmp(magic, "KNTF", 4) && fread(hdr, 4, 2, in) == 2 && hdr[0] == 1;
  if (!ok) snprintf(err, errlen, "'%s' is not a KNTF version 1 file", path);
  for (uint32_t i = 0; ok && i < hdr[1]; i++) {
    uint32_t len, dt, rk;
    int64_t dims[4];
    char name[1024];
    ok = fread(&len, 4, 1, in) == 1 && len < sizeof name && fread(name, 1, len, in) == len &&
         fread(&dt, 4, 1, in) == 1 && dt <= 1 && fread(&rk, 4, 1, in) == 1 && rk <= 4 &&
         fread(dims, 8, rk, in) == rk;
    int64_t numel = 1;
    for (uint32_t k = 0; ok && k < rk; k++) {
      ok = dims[k] >= 0 && dims[k] < (1LL << 31);
      numel *= ok ? dims[k] : 1;
    }
    ok = ok && numel < (1LL << 32);
    if (!ok) {
      snprintf(err, errlen, "'%s': tensor %u has a bad header", path, i);
      break;
    }
    name[len] = 0;
    kn_tfile_add(f, name, (int)dt, (int)rk, dims, NULL);
    size_t bytes = (size_t)numel * 4;
    if (fread(f->t[f->n - 1].data, 1, bytes, in) != bytes) {
      snprintf(err, errlen, "'%s': tensor '%s' is truncated", path, name);
      ok = false;
    }
  }
  fclose(in);
  if (!ok) kn_tfile_free(f);
  return ok;
}

void kn_tfile_free(kn_tfile *f) {
  for (int i = 0; i < f->n; i++) {
    free(f->t[i].name);
    free(f->t[i].data);
  }
  free(f->t);
  memset(f, 0, sizeof *f);
}
