/* kn_safetensors.c — bounds-checked safetensors reader with its small JSON header parser (see
 * kn_safetensors.h; the writer is kn_safetensors_write.c). */
#include "kn_safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KN_ST_MAX_HEADER (100u << 20) /* the reference implementation's limit */

static const struct {
  const char *name;
  size_t size;
} kn_st_dtypes[] = {{"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                    {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};

size_t kn_st_dtype_size(kn_st_dtype t) { return kn_st_dtypes[t].size; }
const char *kn_st_dtype_name(kn_st_dtype t) { return kn_st_dtypes[t].name; }

/* --- JSON cursor --- */
typedef struct jcur {
  const char *p, *begin, *end;
  const char *what;
  kn_error *err;
} jcur;

static bool jfail(jcur *c, const char *msg) {
  return kn_error_set(c->err, "safetensors '%s': header byte %ld: %s", c->what, (long)(c->p - c->begin), msg);
}

static void jws(jcur *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static bool jexpect(jcur *c, char ch) {
  jws(c);
  if (c->p >= c->end || *c->p != ch) {
    char m[48];
    snprintf(m, sizeof m, "expected '%c'", ch);
    return jfail(c, m);
  }
  c->p++;
  return true;
}

static bool jpeek(jcur *c, char ch) {
  jws(c);
  return c->p < c->end && *c->p == ch;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Parses a string into a malloc'd UTF-8 buffer (*out, caller frees). */
static bool jstring(jcur *c, char **out) {
  *out = NULL;
  if (!jexpect(c, '"')) return false;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  if (!s) return jfail(c, "out of memory");
  while (c->p < c->end && *c->p != '"') {
    if (n + 5 >= cap) {
      char *t = realloc(s, cap *= 2);
      if (!t) return free(s), jfail(c, "out of memory");
      s = t;
    }
    unsigned char ch = (unsigned char)*c->p++;
    if (ch < 0x20) return free(s), jfail(c, "control character in string");
    if (ch != '\\') {
      s[n++] = (char)ch;
      continue;
    }
    if (c->p >= c->end) break;
    char e = *c->p++;
    switch (e) {
    case '"': s[n++] = '"'; break;
    case '\\': s[n++] = '\\'; break;
    case '/': s[n++] = '/'; break;
    case 'b': s[n++] = '\b'; break;
    case 'f': s[n++] = '\f'; break;
    case 'n': s[n++] = '\n'; break;
    case 'r': s[n++] = '\r'; break;
    case 't': s[n++] = '\t'; break;
    case 'u': {
      unsigned cp = 0;
      for (int i = 0; i < 4; i++) {
        int h = c->p < c->end ? hexval(*c->p) : -1;
        if (h < 0) return free(s), jfail(c, "bad \\u escape");
        cp = cp * 16 + (unsigned)h;
        c->p++;
      }
      if (cp == 0) return free(s), jfail(c, "\\u0000 in a string (a name would be cut short there)");
      if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* lone surrogate halves: replacement char */
      if (cp < 0x80) s[n++] = (char)cp;
      else if (cp < 0x800) s[n++] = (char)(0xC0 | cp >> 6), s[n++] = (char)(0x80 | (cp & 0x3F));
      else
        s[n++] = (char)(0xE0 | cp >> 12), s[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        s[n++] = (char)(0x80 | (cp & 0x3F));
      break;
    }
    default: return free(s), jfail(c, "bad escape in string");
    }
  }
  if (c->p >= c->end) return free(s), jfail(c, "unterminated string");
  c->p++;
  s[n] = 0;
  *out = s;
  return true;
}

/* A non-negative integer (no sign, fraction or exponent). */
static bool juint(jcur *c, uint64_t *v) {
  jws(c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') return jfail(c, "expected a non-negative integer");
  uint64_t x = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    unsigned d = (unsigned)(*c->p - '0');
    if (x > (UINT64_MAX - d) / 10) return jfail(c, "integer too large");
    x = x * 10 + d;
    c->p++;
  }
  if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E')) return jfail(c, "expected an integer");
  *v = x;
  return true;
}

/* [u, u, ...] into v (at most max values). */
static bool juint_array(jcur *c, uint64_t *v, int max, int *n) {
  *n = 0;
  if (!jexpect(c, '[')) return false;
  if (jpeek(c, ']')) return c->p++, true;
  for (;;) {
    if (*n >= max) return jfail(c, "array too long");
    if (!juint(c, &v[(*n)++])) return false;
    if (jpeek(c, ',')) {
      c->p++;
      continue;
    }
    return jexpect(c, ']');
  }
}

static bool parse_metadata(kn_st_file *f, jcur *c) {
  if (!jexpect(c, '{')) return false;
  if (jpeek(c, '}')) return c->p++, true;
  for (;;) {
    char *k = NULL, *v = NULL;
    if (!jstring(c, &k)) return false;
    if (!jexpect(c, ':') || !jstring(c, &v)) return free(k), false;
    char **nk = realloc(f->meta_keys, sizeof(char *) * (size_t)(f->n_meta + 1));
    if (nk) f->meta_keys = nk;
    char **nv = realloc(f->meta_vals, sizeof(char *) * (size_t)(f->n_meta + 1));
    if (nv) f->meta_vals = nv;
    if (!nk || !nv) return free(k), free(v), jfail(c, "out of memory");
    f->meta_keys[f->n_meta] = k;
    f->meta_vals[f->n_meta++] = v;
    if (jpeek(c, ',')) {
      c->p++;
      continue;
    }
    return jexpect(c, '}');
  }
}

/* {"dtype": .., "shape": [..], "data_offsets": [b, e]} into t; offsets returned raw. */
static bool parse_tensor(jcur *c, kn_st_tensor *t, uint64_t off[2]) {
  bool have_dtype = false, have_shape = false, have_off = false;
  if (!jexpect(c, '{')) return false;
  for (;;) {
    char *k = NULL;
    if (!jstring(c, &k)) return false;
    if (!jexpect(c, ':')) return free(k), false;
    if (strcmp(k, "dtype") == 0) {
      char *v = NULL;
      if (!jstring(c, &v)) return free(k), false;
      int found = -1;
      for (int i = 0; i < (int)(sizeof kn_st_dtypes / sizeof *kn_st_dtypes); i++)
        if (strcmp(v, kn_st_dtypes[i].name) == 0) found = i;
      if (found < 0) {
        char m[96];
        snprintf(m, sizeof m, "tensor '%.40s': unknown dtype '%.16s'", t->name, v);
        free(v), free(k);
        return jfail(c, m);
      }
      free(v);
      t->dtype = (kn_st_dtype)found;
      have_dtype = true;
    } else if (strcmp(k, "shape") == 0) {
      uint64_t dims[KN_ST_MAX_DIMS];
      if (!juint_array(c, dims, KN_ST_MAX_DIMS, &t->ndim)) return free(k), false;
      for (int i = 0; i < t->ndim; i++) {
        if (dims[i] > (1ull << 40)) return free(k), jfail(c, "dimension too large");
        t->shape[i] = (int64_t)dims[i];
      }
      have_shape = true;
    } else if (strcmp(k, "data_offsets") == 0) {
      int n = 0;
      if (!juint_array(c, off, 2, &n)) return free(k), false;
      if (n != 2) return free(k), jfail(c, "data_offsets needs two integers");
      have_off = true;
    } else {
      char m[96];
      snprintf(m, sizeof m, "tensor '%.40s': unknown key '%.24s'", t->name, k);
      free(k);
      return jfail(c, m);
    }
    free(k);
    if (jpeek(c, ',')) {
      c->p++;
      continue;
    }
    if (!jexpect(c, '}')) return false;
    break;
  }
  if (!have_dtype || !have_shape || !have_off) {
    char m[120];
    snprintf(m, sizeof m, "tensor '%.40s' lacks %s", t->name,
             !have_dtype ? "\"dtype\"" : !have_shape ? "\"shape\"" : "\"data_offsets\"");
    return jfail(c, m);
  }
  return true;
}

static int cmp_begin(const void *a, const void *b) {
  const kn_st_tensor *x = *(const kn_st_tensor *const *)a, *y = *(const kn_st_tensor *const *)b;
  return x->data < y->data ? -1 : x->data > y->data;
}

/* Checks sizes, bounds and overlaps once all tensors are known. */
static bool check_layout(kn_st_file *f, const uint64_t (*offs)[2], size_t data_size, const uint8_t *data,
                         const char *what, kn_error *err) {
  for (int i = 0; i < f->n; i++) {
    kn_st_tensor *t = &f->tensors[i];
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
      if (t->shape[d] && numel > (UINT64_MAX >> 8) / (uint64_t)t->shape[d])
        return kn_error_set(err, "safetensors '%s': tensor '%s': shape too large", what, t->name);
      numel *= (uint64_t)t->shape[d];
    }
    uint64_t nbytes = numel * kn_st_dtype_size(t->dtype), b = offs[i][0], e = offs[i][1];
    if (b > e || e > data_size)
      return kn_error_set(err,
                          "safetensors '%s': tensor '%s': data_offsets [%llu, %llu] outside the %zu-byte data "
                          "region (truncated file?)",
                          what, t->name, (unsigned long long)b, (unsigned long long)e, data_size);
    if (e - b != nbytes)
      return kn_error_set(err, "safetensors '%s': tensor '%s': data_offsets span %llu bytes, but %s x %llu elements "
                          "need %llu",
                          what, t->name, (unsigned long long)(e - b), kn_st_dtype_name(t->dtype),
                          (unsigned long long)numel, (unsigned long long)nbytes);
    t->numel = (int64_t)numel;
    t->nbytes = (size_t)nbytes;
    t->data = data + b;
  }
  size_t count = f->n > 0 ? (size_t)f->n : 1;
  kn_st_tensor **sorted = malloc(sizeof *sorted * count);
  if (!sorted) return kn_error_set(err, "safetensors '%s': out of memory", what);
  for (int i = 0; i < f->n; i++) sorted[i] = &f->tensors[i];
  qsort(sorted, (size_t)f->n, sizeof *sorted, cmp_begin);
  for (int i = 1; i < f->n; i++) {
    const kn_st_tensor *a = sorted[i - 1], *b = sorted[i];
    if (b->data < a->data + a->nbytes) {
      kn_error_set(err, "safetensors '%s': tensors '%s' and '%s' overlap", what, a->name, b->name);
      free(sorted);
      return false;
    }
  }
  free(sorted);
  for (int i = 0; i < f->n; i++)
    for (int j = i + 1; j < f->n; j++)
      if (strcmp(f->tensors[i].name, f->tensors[j].name) == 0)
        return kn_error_set(err, "safetensors '%s': tensor '%s' appears twice", what, f->tensors[i].name);
  return true;
}

bool kn_st_parse(kn_st_file *f, const uint8_t *buf, size_t size, const char *what, kn_error *err) {
  memset(f, 0, sizeof *f);
  if (size < 8) return kn_error_set(err, "safetensors '%s': %zu bytes, too short for the header length", what, size);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; i--) hlen = hlen << 8 | buf[i];
  if (hlen > size - 8)
    return kn_error_set(err, "safetensors '%s': header length %llu exceeds the %zu bytes after it (truncated or "
                        "not a safetensors file)",
                        what, (unsigned long long)hlen, size - 8);
  if (hlen > KN_ST_MAX_HEADER)
    return kn_error_set(err, "safetensors '%s': header length %llu is over the 100 MiB limit", what,
                        (unsigned long long)hlen);
  f->buf = (uint8_t *)buf;
  f->size = size;
  jcur c = {(const char *)buf + 8, (const char *)buf + 8, (const char *)buf + 8 + hlen, what, err};
  uint64_t(*offs)[2] = NULL;
  int cap = 0;
  bool ok = jexpect(&c, '{');
  if (ok && jpeek(&c, '}')) c.p++;
  else
    while (ok) {
      char *name = NULL;
      if (!(ok = jstring(&c, &name) && jexpect(&c, ':'))) {
        free(name);
        break;
      }
      if (strcmp(name, "__metadata__") == 0) {
        free(name);
        ok = parse_metadata(f, &c);
      } else {
        if (f->n == cap) {
          cap = cap ? 2 * cap : 16;
          kn_st_tensor *nt = realloc(f->tensors, sizeof *nt * (size_t)cap);
          if (nt) f->tensors = nt;
          uint64_t(*no)[2] = realloc(offs, sizeof *no * (size_t)cap);
          if (no) offs = no;
          if (!nt || !no) {
            free(name);
            ok = jfail(&c, "out of memory");
            break;
          }
        }
        kn_st_tensor *t = &f->tensors[f->n++];
        memset(t, 0, sizeof *t);
        t->name = name;
        ok = parse_tensor(&c, t, offs[f->n - 1]);
      }
      if (!ok) break;
      if (jpeek(&c, ',')) {
        c.p++;
        continue;
      }
      ok = jexpect(&c, '}');
      break;
    }
  if (ok) {
    jws(&c);
    if (c.p != c.end) ok = jfail(&c, "unexpected text after the header object");
  }
  if (ok) ok = check_layout(f, (const uint64_t(*)[2])offs, size - 8 - (size_t)hlen, buf + 8 + hlen, what, err);
  free(offs);
  if (!ok) {
    f->buf = NULL; /* borrowed: kn_st_free must not free it */
    kn_st_free(f);
  }
  return ok;
}

bool kn_st_read(kn_st_file *f, const char *path, kn_error *err) {
  memset(f, 0, sizeof *f);
  FILE *fp = fopen(path, "rb");
  if (!fp) return kn_error_set(err, "safetensors: cannot open '%s': %s", path, strerror(errno));
  struct stat st; /* a directory "opens" and sizes as LONG_MAX */
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(fp);
    return kn_error_set(err, "safetensors: '%s' is not a regular file", path);
  }
  long size = -1;
  if (fseek(fp, 0, SEEK_END) == 0) size = ftell(fp);
  if (size < 0 || fseek(fp, 0, SEEK_SET) != 0) {
    fclose(fp);
    return kn_error_set(err, "safetensors: cannot size '%s'", path);
  }
  uint8_t *buf = malloc((size_t)size + 1);
  if (!buf) {
    fclose(fp);
    return kn_error_set(err, "safetensors: out of memory reading '%s' (%ld bytes)", path, size);
  }
  size_t got = fread(buf, 1, (size_t)size, fp);
  fclose(fp);
  if (got != (size_t)size) {
    free(buf);
    return kn_error_set(err, "safetensors: short read of '%s'", path);
  }
  if (!kn_st_parse(f, buf, (size_t)size, path, err)) {
    free(buf);
    return false;
  }
  f->owned = true;
  return true;
}

void kn_st_free(kn_st_file *f) {
  for (int i = 0; i < f->n; i++) free(f->tensors[i].name);
  free(f->tensors);
  for (int i = 0; i < f->n_meta; i++) free(f->meta_keys[i]), free(f->meta_vals[i]);
  free(f->meta_keys);
  free(f->meta_vals);
  if (f->owned) free(f->buf);
  memset(f, 0, sizeof *f);
}

const kn_st_tensor *kn_st_find(const kn_st_file *f, const char *name) {
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
  return NULL;
}

const char *kn_st_meta(const kn_st_file *f, const char *key) {
  for (int i = f->n_meta - 1; i >= 0; i--)
    if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
  return NULL;
}

static void shape_str(char *out, size_t n, int ndim, const int64_t *shape) {
  size_t k = (size_t)snprintf(out, n, "[");
  for (int i = 0; i < ndim && k < n; i++) k += (size_t)snprintf(out + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (k < n) snprintf(out + k, n - k, "]");
}

static float half_to_float(uint16_t h) {
  int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  float v;
  if (e == 0) v = ldexpf((float)m, -24); /* zero and subnormals */
  else if (e == 31) v = m ? NAN : INFINITY;
  else v = ldexpf((float)(m | 1024), e - 25);
  return sign ? -v : v;
}

bool kn_st_copy_f32(const kn_st_file *f, const char *name, int ndim, const int64_t *shape, float *dst, kn_error *err) {
  const kn_st_tensor *t = kn_st_find(f, name);
  if (t && (t->dtype == KN_ST_F16 || t->dtype == KN_ST_BF16 || t->dtype == KN_ST_F64)) {
    kn_st_dtype real = t->dtype;
    /* shape and presence checks are kn_st_copy's; it copies nothing for a zero-element probe */
    kn_st_tensor probe = *t;
    probe.dtype = KN_ST_F32;
    probe.nbytes = 0;
    kn_st_file one = {.tensors = &probe, .n = 1};
    if (!kn_st_copy(&one, name, KN_ST_F32, ndim, shape, dst, err)) return false;
    for (int64_t i = 0; i < t->numel; i++) {
      const uint8_t *p = t->data + (size_t)i * kn_st_dtype_size(real);
      if (real == KN_ST_F64) {
        double d;
        memcpy(&d, p, 8);
        dst[i] = (float)d;
      } else {
        uint16_t h = (uint16_t)(p[0] | p[1] << 8);
        if (real == KN_ST_F16) dst[i] = half_to_float(h);
        else {
          uint32_t bits = (uint32_t)h << 16;
          memcpy(&dst[i], &bits, 4);
        }
      }
    }
    return true;
  }
  return kn_st_copy(f, name, KN_ST_F32, ndim, shape, dst, err);
}

bool kn_st_copy(const kn_st_file *f, const char *name, kn_st_dtype dtype, int ndim, const int64_t *shape, void *dst,
                kn_error *err) {
  const kn_st_tensor *t = kn_st_find(f, name);
  if (!t) return kn_error_set(err, "missing tensor '%s'", name);
  if (t->dtype != dtype)
    return kn_error_set(err, "tensor '%s' has dtype %s, expected %s", name, kn_st_dtype_name(t->dtype),
                        kn_st_dtype_name(dtype));
  if (shape) {
    bool same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
      char a[128], b[128];
      shape_str(a, sizeof a, t->ndim, t->shape);
      shape_str(b, sizeof b, ndim, shape);
      return kn_error_set(err, "tensor '%s' has shape %s, expected %s", name, a, b);
    }
  }
  memcpy(dst, t->data, t->nbytes);
  return true;
}
