/* util.c — checked allocation, formatting, and file helpers shared by the compiler. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Noreturn void oom(void) {
  fputs("kiln: out of memory\n", stderr);
  abort();
}

void *kn_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) oom();
  return p;
}

void *kn_xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) oom();
  return p;
}

void *kn_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) oom();
  return q;
}

char *kn_xstrdup(const char *s) {
  char *p = strdup(s);
  if (!p) oom();
  return p;
}

char *kn_vfmt(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) oom();
  return s;
}

char *kn_fmt(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = kn_vfmt(fmt, ap);
  va_end(ap);
  return s;
}

char *kn_read_file(const char *path, size_t *len, const char **err) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    *err = strerror(errno);
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = kn_xmalloc(cap + 1);
  for (;;) {
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (n < cap) break;
    cap *= 2;
    buf = kn_xrealloc(buf, cap + 1);
  }
  if (ferror(f)) {
    *err = "read error";
    fclose(f);
    free(buf);
    return NULL;
  }
  fclose(f);
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

bool kn_write_file_atomic(const char *path, const void *data, size_t len) {
  char *tmp = kn_fmt("%s.tmp.%d", path, (int)getpid());
  FILE *f = fopen(tmp, "wb");
  bool ok = f && fwrite(data, 1, len, f) == len;
  if (f && fclose(f) != 0) ok = false;
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) remove(tmp);
  free(tmp);
  return ok;
}
