/* yaml_util.c — YAML documents for the spec loader: parsing with located syntax errors, node
 * access, typed scalars (libyaml resolves no types) and mappings checked for unknown and
 * duplicate keys. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "util.h"

/* ---- interned file names: diagnostics may outlive the spec that produced them ---- */
typedef struct kn_sp_interned {
  struct kn_sp_interned *next;
  char s[];
} kn_sp_interned;
static kn_sp_interned *interned;

const char *kn_sp_intern(const char *s) {
  for (kn_sp_interned *p = interned; p; p = p->next)
    if (strcmp(p->s, s) == 0) return p->s;
  size_t n = strlen(s);
  kn_sp_interned *p = kn_xmalloc(sizeof *p + n + 1);
  memcpy(p->s, s, n + 1);
  p->next = interned;
  interned = p;
  return p->s;
}

bool kn_sp_parse(kn_sp_file *f, const char *text, size_t len, kn_diag *d) {
  if (!kn_sp_yaml_prescan(f, text, len, d)) return false;
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) KN_ASSERT(!"yaml_parser_initialize");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  bool ok = yaml_parser_load(&p, &f->doc);
  if (!ok) {
    kn_loc at = {f->path, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1};
    /* Encoding errors (bad UTF-8, NUL and other control bytes) carry a byte offset, no mark. */
    if (p.error == YAML_READER_ERROR) at = kn_sp_offset_loc(f->path, text, len, p.problem_offset);
    char hint[256] = "";
    if (p.context)
      snprintf(hint, sizeof hint, "%s at line %d, column %d", p.context, (int)p.context_mark.line + 1,
               (int)p.context_mark.column + 1);
    kn_diag_error(d, at, hint[0] ? hint : NULL, "YAML syntax: %s", p.problem ? p.problem : "invalid YAML");
  } else {
    f->has_doc = true;
    if (!yaml_document_get_root_node(&f->doc)) {
      kn_diag_error(d, (kn_loc){f->path, 1, 1}, "a model spec is a mapping with at least 'layers:'",
                    "the file is empty");
      ok = false;
    } else {
      /* A second document ('---') would be silently ignored: reject it. */
      yaml_document_t next;
      if (yaml_parser_load(&p, &next)) {
        yaml_node_t *r = yaml_document_get_root_node(&next);
        if (r) {
          kn_loc at = {f->path, (int)next.start_mark.line + 1, (int)next.start_mark.column + 1};
          kn_diag_error(d, at, "a spec is one document; remove the '---' separator", "more than one YAML document");
          ok = false;
        }
        yaml_document_delete(&next);
      } else {
        kn_loc at = {f->path, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1};
        kn_diag_error(d, at, NULL, "YAML syntax: %s", p.problem ? p.problem : "invalid YAML");
        ok = false;
      }
    }
  }
  yaml_parser_delete(&p);
  return ok && kn_sp_yaml_check_expansion(f, d);
}

kn_loc kn_sp_loc(kn_sp_node n) {
  if (!n.n) return (kn_loc){n.file ? n.file->path : NULL, 0, 0};
  return (kn_loc){n.file->path, (int)n.n->start_mark.line + 1, (int)n.n->start_mark.column + 1};
}

kn_sp_node kn_sp_root(kn_sp_file *f) { return (kn_sp_node){f, yaml_document_get_root_node(&f->doc)}; }

kn_sp_node kn_sp_child(kn_sp_node parent, int id) {
  return (kn_sp_node){parent.file, yaml_document_get_node(&parent.file->doc, id)};
}

bool kn_sp_is_null(kn_sp_node n) {
  if (!n.n) return true;
  if (n.n->type != YAML_SCALAR_NODE || n.n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const char *s = (const char *)n.n->data.scalar.value;
  return !*s || !strcmp(s, "~") || !strcmp(s, "null");
}
bool kn_sp_is_scalar(kn_sp_node n) { return n.n && n.n->type == YAML_SCALAR_NODE; }
bool kn_sp_is_seq(kn_sp_node n) { return n.n && n.n->type == YAML_SEQUENCE_NODE; }
bool kn_sp_is_map(kn_sp_node n) { return n.n && n.n->type == YAML_MAPPING_NODE; }
const char *kn_sp_str(kn_sp_node n) { return kn_sp_is_scalar(n) ? (const char *)n.n->data.scalar.value : ""; }

const char *kn_sp_type_name(kn_sp_node n) {
  if (kn_sp_is_null(n)) return "nothing";
  if (kn_sp_is_seq(n)) return "a list";
  if (kn_sp_is_map(n)) return "a mapping";
  return "a scalar";
}

int kn_sp_seq_len(kn_sp_node n) {
  return kn_sp_is_seq(n) ? (int)(n.n->data.sequence.items.top - n.n->data.sequence.items.start) : 0;
}
kn_sp_node kn_sp_seq_at(kn_sp_node n, int i) { return kn_sp_child(n, n.n->data.sequence.items.start[i]); }
int kn_sp_map_len(kn_sp_node n) {
  return kn_sp_is_map(n) ? (int)(n.n->data.mapping.pairs.top - n.n->data.mapping.pairs.start) : 0;
}
kn_sp_node kn_sp_map_key(kn_sp_node n, int i) { return kn_sp_child(n, n.n->data.mapping.pairs.start[i].key); }
kn_sp_node kn_sp_map_val(kn_sp_node n, int i) { return kn_sp_child(n, n.n->data.mapping.pairs.start[i].value); }

kn_sp_node kn_sp_map_get(kn_sp_node n, const char *key) {
  for (int i = 0; i < kn_sp_map_len(n); i++) {
    kn_sp_node k = kn_sp_map_key(n, i);
    if (kn_sp_is_scalar(k) && !strcmp(kn_sp_str(k), key)) return kn_sp_map_val(n, i);
  }
  return (kn_sp_node){n.file, NULL};
}

static void duplicate_key(kn_sp_node n, int first, int again, const char *what, kn_diag *d) {
  kn_sp_node k = kn_sp_map_key(n, again);
  kn_loc at = kn_sp_loc(kn_sp_map_key(n, first));
  char hint[96];
  snprintf(hint, sizeof hint, "first given at line %d, column %d", at.line, at.col);
  kn_diag_error(d, kn_sp_loc(k), hint, "duplicate key '%s' in %s", kn_sp_str(k), what);
}

typedef struct {
  const char *s;
  int i;
} key_ref;

static int key_ref_cmp(const void *a, const void *b) {
  const key_ref *x = a, *y = b;
  int c = strcmp(x->s, y->s);
  return c ? c : (x->i > y->i) - (x->i < y->i);
}

bool kn_sp_check_keys_unique(kn_sp_node n, const char *what, kn_diag *d) {
  int len = kn_sp_map_len(n);
  for (int i = 0; i < len; i++) {
    kn_sp_node k = kn_sp_map_key(n, i);
    if (!kn_sp_is_scalar(k)) {
      kn_diag_error(d, kn_sp_loc(k), "keys are plain words", "%s key must be a scalar, not %s", what,
                    kn_sp_type_name(k));
      return false;
    }
  }
  if (len <= 16) { /* small mappings: pairwise, reporting the first repeated key */
    for (int i = 0; i < len; i++)
      for (int j = 0; j < i; j++)
        if (!strcmp(kn_sp_str(kn_sp_map_key(n, j)), kn_sp_str(kn_sp_map_key(n, i)))) {
          duplicate_key(n, j, i, what, d);
          return false;
        }
    return true;
  }
  /* Large mappings: sorted, so a hostile spec cannot make this quadratic. */
  key_ref *r = kn_xmalloc((size_t)len * sizeof *r);
  for (int i = 0; i < len; i++) r[i] = (key_ref){kn_sp_str(kn_sp_map_key(n, i)), i};
  qsort(r, (size_t)len, sizeof *r, key_ref_cmp);
  int first = -1, again = -1;
  for (int i = 1; i < len; i++)
    if (!strcmp(r[i - 1].s, r[i].s) && (again < 0 || r[i].i < again)) {
      int j = i - 1;
      while (j > 0 && !strcmp(r[j - 1].s, r[i].s)) j--;
      first = r[j].i;
      again = r[i].i;
    }
  free(r);
  if (again < 0) return true;
  duplicate_key(n, first, again, what, d);
  return false;
}

void kn_sp_unknown_key(kn_sp_node key, const char *what, const char *const *allowed, kn_diag *d) {
  int n = 0;
  while (allowed[n]) n++;
  const char *s = kn_diag_suggest(kn_sp_str(key), allowed, n);
  char hint[512];
  if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
  else {
    size_t off = (size_t)snprintf(hint, sizeof hint, "expected one of:");
    for (int i = 0; i < n && off < sizeof hint - 40; i++)
      off += (size_t)snprintf(hint + off, sizeof hint - off, "%s %s", i ? "," : "", allowed[i]);
  }
  kn_diag_error(d, kn_sp_loc(key), hint, "unknown key '%s' in %s", kn_sp_str(key), what);
}

bool kn_sp_check_map(kn_sp_node n, const char *what, const char *const *allowed, kn_diag *d) {
  if (!kn_sp_is_map(n)) {
    kn_diag_error(d, kn_sp_loc(n), NULL, "%s must be a mapping, not %s", what, kn_sp_type_name(n));
    return false;
  }
  if (!kn_sp_check_keys_unique(n, what, d)) return false;
  for (int i = 0; i < kn_sp_map_len(n); i++) {
    kn_sp_node k = kn_sp_map_key(n, i);
    bool ok = false;
    for (int j = 0; allowed[j] && !ok; j++) ok = !strcmp(allowed[j], kn_sp_str(k));
    if (!ok) {
      kn_sp_unknown_key(k, what, allowed, d);
      return false;
    }
  }
  return true;
}

/* ---- typed scalars ---- */
bool kn_sp_parse_int_text(const char *s, int64_t *out) {
  if (!*s) return false;
  errno = 0;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*end || errno) return false;
  *out = v;
  return true;
}

bool kn_sp_parse_float_text(const char *s, double *out) {
  if (!*s) return false;
  errno = 0;
  char *end;
  double v = strtod(s, &end);
  if (*end || errno || !isfinite(v)) return false;
  /* Reject hex floats and words strtod accepts ("inf", "nan" are already non-finite). */
  for (const char *p = s; *p; p++)
    if (*p == 'x' || *p == 'X') return false;
  *out = v;
  return true;
}

static bool want_scalar(kn_sp_node n, const char *key, const char *what, kn_diag *d) {
  if (kn_sp_is_scalar(n) && !kn_sp_is_null(n)) return true;
  kn_diag_error(d, kn_sp_loc(n), NULL, "'%s' must be %s, not %s", key, what, kn_sp_type_name(n));
  return false;
}

bool kn_sp_get_int(kn_sp_node n, const char *key, int64_t lo, int64_t hi, int64_t *out, kn_diag *d) {
  if (!want_scalar(n, key, "an integer", d)) return false;
  int64_t v;
  if (!kn_sp_parse_int_text(kn_sp_str(n), &v)) {
    kn_diag_error(d, kn_sp_loc(n), NULL, "'%s' must be an integer, not '%s'", key, kn_sp_str(n));
    return false;
  }
  if (v < lo || v > hi) {
    char hint[96];
    snprintf(hint, sizeof hint, "allowed range is %lld to %lld", (long long)lo, (long long)hi);
    kn_diag_error(d, kn_sp_loc(n), hint, "'%s' = %lld is out of range", key, (long long)v);
    return false;
  }
  *out = v;
  return true;
}

bool kn_sp_get_float(kn_sp_node n, const char *key, double lo, double hi, double *out, kn_diag *d) {
  if (!want_scalar(n, key, "a number", d)) return false;
  double v;
  if (!kn_sp_parse_float_text(kn_sp_str(n), &v)) {
    kn_diag_error(d, kn_sp_loc(n), NULL, "'%s' must be a number, not '%s'", key, kn_sp_str(n));
    return false;
  }
  if (v < lo || v > hi) {
    char hint[96];
    snprintf(hint, sizeof hint, "allowed range is %g to %g", lo, hi);
    kn_diag_error(d, kn_sp_loc(n), hint, "'%s' = %g is out of range", key, v);
    return false;
  }
  *out = v;
  return true;
}

bool kn_sp_get_bool(kn_sp_node n, const char *key, bool *out, kn_diag *d) {
  if (!want_scalar(n, key, "true or false", d)) return false;
  const char *s = kn_sp_str(n);
  if (!strcmp(s, "true") || !strcmp(s, "True")) *out = true;
  else if (!strcmp(s, "false") || !strcmp(s, "False")) *out = false;
  else {
    kn_diag_error(d, kn_sp_loc(n), "write true or false", "'%s' must be true or false, not '%s'", key, s);
    return false;
  }
  return true;
}

bool kn_sp_get_string(kn_sp_node n, const char *key, const char **out, kn_diag *d) {
  if (!want_scalar(n, key, "a string", d)) return false;
  *out = kn_sp_str(n);
  return true;
}

bool kn_sp_get_floats(kn_sp_node n, const char *key, int count, bool allow_scalar, double lo, double hi,
                      double *out, kn_diag *d) {
  if (allow_scalar && kn_sp_is_scalar(n)) {
    if (!kn_sp_get_float(n, key, lo, hi, out, d)) return false;
    for (int i = 1; i < count; i++) out[i] = out[0];
    return true;
  }
  if (!kn_sp_is_seq(n) || kn_sp_seq_len(n) != count) {
    kn_diag_error(d, kn_sp_loc(n), NULL, "'%s' must be a list of %d numbers", key, count);
    return false;
  }
  for (int i = 0; i < count; i++)
    if (!kn_sp_get_float(kn_sp_seq_at(n, i), key, lo, hi, &out[i], d)) return false;
  return true;
}

bool kn_sp_get_size(kn_sp_node n, const char *key, int lo, int hi, int out[2], kn_diag *d) {
  int64_t v[2];
  if (kn_sp_is_scalar(n)) {
    if (!kn_sp_get_int(n, key, lo, hi, &v[0], d)) return false;
    v[1] = v[0];
  } else if (kn_sp_is_seq(n) && kn_sp_seq_len(n) == 2) {
    for (int i = 0; i < 2; i++)
      if (!kn_sp_get_int(kn_sp_seq_at(n, i), key, lo, hi, &v[i], d)) return false;
  } else {
    kn_diag_error(d, kn_sp_loc(n), "write n or [height, width]", "'%s' must be a size, not %s", key,
                  kn_sp_type_name(n));
    return false;
  }
  out[0] = (int)v[0];
  out[1] = (int)v[1];
  return true;
}
