/* golden_file.c — parser of the KNGOLD golden files (see golden_file.h). */
#include "golden_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct {
  const unsigned char *p, *end;
} reader;

static bool u32(reader *r, uint32_t *v) {
  if (r->end - r->p < 4) return false;
  *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
  r->p += 4;
  return true;
}

static bool bytes(reader *r, void *dst, size_t n) {
  if ((size_t)(r->end - r->p) < n) return false;
  memcpy(dst, r->p, n);
  r->p += n;
  return true;
}

static bool read_tensor(reader *r, kn_golden_tensor *t) {
  uint32_t len, dt, rank;
  if (!u32(r, &len) || len > 256) return false;
  t->name = kn_xmalloc(len + 1);
  if (!bytes(r, t->name, len)) return false;
  t->name[len] = 0;
  if (!u32(r, &dt) || dt > 1 || !u32(r, &rank) || rank > KN_MAX_RANK) return false;
  t->dtype = (int)dt;
  t->shape.rank = (int)rank;
  for (uint32_t i = 0; i < rank; i++) {
    uint32_t d;
    if (!u32(r, &d) || d == 0 || d > (1u << 24)) return false;
    t->shape.d[i] = d;
  }
  size_t n = (size_t)kn_shape_numel(t->shape) * 4;
  if (n > (size_t)(r->end - r->p)) return false;
  t->data = kn_xmalloc(n);
  return bytes(r, t->data, n); /* the test machines are little endian, as the file */
}

kn_golden *kn_golden_load(const char *path) {
  size_t len;
  const char *err;
  char *buf = kn_read_file(path, &len, &err);
  if (!buf) {
    fprintf(stderr, "%s: %s\n", path, err);
    return NULL;
  }
  reader r = {(const unsigned char *)buf, (const unsigned char *)buf + len};
  kn_golden *gf = kn_xcalloc(1, sizeof *gf);
  char magic[8];
  uint32_t version = 0, count = 0;
  bool ok = bytes(&r, magic, 8) && memcmp(magic, "KNGOLD\0\0", 8) == 0 && u32(&r, &version) && version == 1 &&
            u32(&r, &count) && count < 4096;
  if (ok) {
    gf->t = kn_xcalloc(count ? count : 1, sizeof *gf->t);
    for (uint32_t i = 0; ok && i < count; i++, gf->n++) ok = read_tensor(&r, &gf->t[i]);
    ok = ok && r.p == r.end;
  }
  free(buf);
  if (!ok) {
    fprintf(stderr, "%s: not a KNGOLD version 1 file, or truncated\n", path);
    kn_golden_dispose(gf);
    return NULL;
  }
  return gf;
}

const kn_golden_tensor *kn_golden_find(const kn_golden *gf, const char *name) {
  for (int i = 0; i < gf->n; i++)
    if (strcmp(gf->t[i].name, name) == 0) return &gf->t[i];
  return NULL;
}

void kn_golden_dispose(kn_golden *gf) {
  if (!gf) return;
  for (int i = 0; i < gf->n; i++) {
    free(gf->t[i].name);
    free(gf->t[i].data);
  }
  free(gf->t);
  free(gf);
}
