/* weights_check.c — compile-time check of `--weights FILE` against the model (weights_check.h). */
#include "weights_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kn_safetensors.h"
#include "util.h"

typedef struct {
  char *text;
  size_t len;
  int n;
} diff_list;

enum { KN_WEIGHTS_LIST_MAX = 40 }; /* differences listed one per line; the rest are counted */

/* Appends "\n  <kind> <item>" for the first KN_WEIGHTS_LIST_MAX differences, counts the rest. */
static void diff_add(diff_list *l, const char *kind, const char *item) {
  if (l->n++ >= KN_WEIGHTS_LIST_MAX) return;
  char *line = kn_fmt("\n  %-12s %s", kind, item);
  size_t n = strlen(line);
  l->text = kn_xrealloc(l->text, l->len + n + 1);
  memcpy(l->text + l->len, line, n + 1);
  l->len += n;
  free(line);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n > m && !strcmp(s + n - m, suffix);
}

static bool is_weight(const kn_value *v) { return v->kind == KN_VAL_PARAM || v->kind == KN_VAL_STATE; }

/* A tensor of a torchvision state dict or a kiln checkpoint that the import ignores. */
static bool ignored_extra(const kn_graph *g, const char *name) {
  static const char *const optim[] = {".momentum_buffer", ".exp_avg", ".exp_avg_sq"};
  if (ends_with(name, ".num_batches_tracked")) return true;
  for (size_t k = 0; k < sizeof optim / sizeof optim[0]; k++) {
    if (!ends_with(name, optim[k])) continue;
    char *base = kn_fmt("%.*s", (int)(strlen(name) - strlen(optim[k])), name);
    int v = kn_graph_find_value(g, base);
    free(base);
    if (v >= 0 && g->vals[v].kind == KN_VAL_PARAM) return true;
  }
  return false;
}

static void shape_text(char *buf, size_t n, int rank, const int64_t *dims) {
  size_t len = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < rank && len < n; i++)
    len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? ", " : "", (long long)dims[i]);
  if (len < n) snprintf(buf + len, n - len, "]");
}

bool kn_weights_check(const kn_graph *g, const char *path, kn_diag *d) {
  kn_loc noloc = {0};
  kn_st_file f;
  kn_error err = {{0}};
  if (access(path, R_OK) != 0) {
    kn_diag_error(d, noloc, "give a readable safetensors file, e.g. best.safetensors written by `train`",
                  "cannot read weights file '%s'", path);
    return false;
  }
  if (!kn_st_read(&f, path, &err)) {
    kn_diag_error(d, noloc, "give a safetensors file, e.g. best.safetensors written by `train`", "%s", err.msg);
    return false;
  }
  diff_list l = {0};
  for (int v = 0; v < g->n_vals; v++) {
    const kn_value *val = &g->vals[v];
    if (!is_weight(val)) continue;
    const kn_st_tensor *t = kn_st_find(&f, val->name);
    char a[160], b[160], *item = NULL;
    if (!t) {
      diff_add(&l, "missing", val->name);
      continue;
    }
    bool same = t->ndim == val->shape.rank;
    for (int i = 0; same && i < t->ndim; i++) same = t->shape[i] == val->shape.d[i];
    if (!same) {
      shape_text(a, sizeof a, t->ndim, t->shape);
      shape_text(b, sizeof b, val->shape.rank, val->shape.d);
      item = kn_fmt("%s: file %s, model %s", val->name, a, b);
      diff_add(&l, "wrong shape", item);
    } else if (t->dtype != KN_ST_F32 && t->dtype != KN_ST_F16 && t->dtype != KN_ST_BF16 && t->dtype != KN_ST_F64) {
      item = kn_fmt("%s: file %s, model F32 (F16, BF16 and F64 are converted)", val->name, kn_st_dtype_name(t->dtype));
      diff_add(&l, "wrong dtype", item);
    }
    free(item);
  }
  for (int i = 0; i < f.n; i++) {
    const char *name = f.tensors[i].name;
    int v = kn_graph_find_value(g, name);
    if ((v >= 0 && is_weight(&g->vals[v])) || ignored_extra(g, name)) continue;
    diff_add(&l, "extra", name);
  }
  bool ok = l.n == 0;
  if (l.n > KN_WEIGHTS_LIST_MAX) {
    char *more = kn_fmt("\n  ... and %d more", l.n - KN_WEIGHTS_LIST_MAX);
    size_t n = strlen(more);
    l.text = kn_xrealloc(l.text, l.len + n + 1);
    memcpy(l.text + l.len, more, n + 1);
    free(more);
  }
  if (!ok) /* the hint on a line of its own, after the list */
    kn_diag_error(d, noloc, NULL,
                  "%s does not fit model '%s' (%d difference%s):%s\n  (weights must come from this model, e.g. "
                  "its best.safetensors, or use its torchvision names; to start training from a foreign "
                  "checkpoint use `train --init-from FILE`)",
                  path, g->name ? g->name : "model", l.n, l.n == 1 ? "" : "s", l.text);
  free(l.text);
  kn_st_free(&f);
  return ok;
}
