/* kn_safetensors_write.c — the safetensors writer: JSON header with __metadata__, 8-byte aligned
 * data region, written to a temporary file, fsync'ed and renamed (see kn_safetensors.h). */
#include "kn_safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kn_st_writer_init(kn_st_writer *w) { memset(w, 0, sizeof *w); }

void kn_st_writer_free(kn_st_writer *w) {
  for (int i = 0; i < w->n; i++) free(w->entries[i].name);
  free(w->entries);
  for (int i = 0; i < w->n_meta; i++) free(w->meta_keys[i]), free(w->meta_vals[i]);
  free(w->meta_keys);
  free(w->meta_vals);
  memset(w, 0, sizeof *w);
}

bool kn_st_writer_add(kn_st_writer *w, const char *name, kn_st_dtype dtype, int ndim, const int64_t *shape,
                      const void *data, kn_error *err) {
  if (ndim < 0 || ndim > KN_ST_MAX_DIMS) return kn_error_set(err, "safetensors: tensor '%s': %d dimensions", name, ndim);
  if (strncmp(name, "__", 2) == 0) return kn_error_set(err, "safetensors: tensor name '%s' is reserved", name);
  for (int i = 0; i < w->n; i++)
    if (strcmp(w->entries[i].name, name) == 0) return kn_error_set(err, "safetensors: tensor '%s' added twice", name);
  for (int i = 0; i < ndim; i++)
    if (shape[i] < 0) return kn_error_set(err, "safetensors: tensor '%s': negative dimension", name);
  if (w->n == w->cap) {
    int cap = w->cap ? 2 * w->cap : 32;
    kn_st_entry *e = realloc(w->entries, sizeof *e * (size_t)cap);
    if (!e) return kn_error_set(err, "safetensors: out of memory");
    w->entries = e;
    w->cap = cap;
  }
  kn_st_entry *e = &w->entries[w->n];
  memset(e, 0, sizeof *e);
  e->name = strdup(name);
  if (!e->name) return kn_error_set(err, "safetensors: out of memory");
  e->dtype = dtype;
  e->ndim = ndim;
  for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
  e->data = data;
  w->n++;
  return true;
}

void kn_st_writer_set_meta(kn_st_writer *w, const char *key, const char *value) {
  for (int i = 0; i < w->n_meta; i++)
    if (strcmp(w->meta_keys[i], key) == 0) {
      free(w->meta_vals[i]);
      w->meta_vals[i] = strdup(value);
      return;
    }
  if (w->n_meta == w->cap_meta) {
    int cap = w->cap_meta ? 2 * w->cap_meta : 8;
    char **k = realloc(w->meta_keys, sizeof *k * (size_t)cap);
    if (k) w->meta_keys = k;
    char **v = realloc(w->meta_vals, sizeof *v * (size_t)cap);
    if (v) w->meta_vals = v;
    if (!k || !v) return;
    w->cap_meta = cap;
  }
  w->meta_keys[w->n_meta] = strdup(key);
  w->meta_vals[w->n_meta++] = strdup(value);
}

/* A growable text buffer for the header. */
typedef struct sbuf {
  char *s;
  size_t n, cap;
  bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *t, size_t len) {
  if (b->oom) return;
  if (b->n + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + len + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
      b->oom = true;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->n, t, len);
  b->n += len;
  b->s[b->n] = 0;
}

static void sb_str(sbuf *b, const char *t) { sb_put(b, t, strlen(t)); }

static void sb_json(sbuf *b, const char *t) {
  sb_put(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\', esc[1] = (char)*p;
      sb_put(b, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      sb_put(b, esc, 6);
    } else {
      sb_put(b, (const char *)p, 1);
    }
  }
  sb_put(b, "\"", 1);
}

static size_t entry_bytes(const kn_st_entry *e) {
  size_t n = kn_st_dtype_size(e->dtype);
  for (int i = 0; i < e->ndim; i++) n *= (size_t)e->shape[i];
  return n;
}

bool kn_st_writer_write(const kn_st_writer *w, const char *path, kn_error *err) {
  sbuf h = {0};
  char num[64];
  sb_str(&h, "{");
  if (w->n_meta) {
    sb_str(&h, "\"__metadata__\":{");
    for (int i = 0; i < w->n_meta; i++) {
      if (i) sb_str(&h, ",");
      sb_json(&h, w->meta_keys[i]);
      sb_str(&h, ":");
      sb_json(&h, w->meta_vals[i] ? w->meta_vals[i] : "");
    }
    sb_str(&h, "}");
  }
  size_t off = 0;
  for (int i = 0; i < w->n; i++) {
    const kn_st_entry *e = &w->entries[i];
    if (i || w->n_meta) sb_str(&h, ",");
    sb_json(&h, e->name);
    sb_str(&h, ":{\"dtype\":\"");
    sb_str(&h, kn_st_dtype_name(e->dtype));
    sb_str(&h, "\",\"shape\":[");
    for (int d = 0; d < e->ndim; d++) {
      snprintf(num, sizeof num, d ? ",%lld" : "%lld", (long long)e->shape[d]);
      sb_str(&h, num);
    }
    size_t nb = entry_bytes(e);
    snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + nb);
    sb_str(&h, num);
    off += nb;
  }
  sb_str(&h, "}");
  while (!h.oom && (h.n % 8) != 0) sb_str(&h, " "); /* keeps the data region 8-byte aligned */
  if (h.oom) {
    free(h.s);
    return kn_error_set(err, "safetensors: out of memory writing '%s'", path);
  }
  size_t tlen = strlen(path) + 32;
  char *tmp = malloc(tlen);
  if (!tmp) {
    free(h.s);
    return kn_error_set(err, "safetensors: out of memory");
  }
  snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());
  FILE *fp = fopen(tmp, "wb");
  bool ok = fp != NULL;
  if (ok) {
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)h.n >> (8 * i));
    ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(h.s, 1, h.n, fp) == h.n;
    for (int i = 0; ok && i < w->n; i++) {
      size_t nb = entry_bytes(&w->entries[i]);
      ok = nb == 0 || fwrite(w->entries[i].data, 1, nb, fp) == nb;
    }
    ok = fflush(fp) == 0 && ok;
    ok = ok && fsync(fileno(fp)) == 0;
    ok = fclose(fp) == 0 && ok;
  }
  int saved = errno;
  if (ok && rename(tmp, path) != 0) {
    ok = false;
    saved = errno;
  }
  if (ok) { /* the rename itself reaches the disk only with the directory */
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY) : -1;
    if (fd >= 0) fsync(fd), close(fd);
    free(dir);
  }
  if (!ok) {
    unlink(tmp);
    kn_error_set(err, "safetensors: cannot write '%s': %s", path, strerror(saved));
  }
  free(tmp);
  free(h.s);
  return ok;
}
