/* kn_init_from.c — partial weight loading from a foreign checkpoint with name mapping
 * (see kn_init_from.h). */
#include "kn_init_from.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

enum { KN_INIT_MAX_RULES = 16, KN_INIT_NAME_MAX = 512 };

typedef struct map_rule {
  regex_t re;
  char to[KN_INIT_NAME_MAX];
} map_rule;

typedef struct map_rules {
  map_rule r[KN_INIT_MAX_RULES];
  int n;
} map_rules;

static void rules_free(map_rules *m) {
  for (int i = 0; i < m->n; i++) regfree(&m->r[i].re);
  m->n = 0;
}

/* "from=to;from2=to2" -> compiled rules. */
static bool rules_parse(map_rules *m, const char *text, kn_error *err) {
  m->n = 0;
  while (text && *text) {
    const char *end = strchr(text, ';');
    size_t len = end ? (size_t)(end - text) : strlen(text);
    char rule[2 * KN_INIT_NAME_MAX];
    if (len >= sizeof rule) return kn_error_set(err, "--map rule too long: '%.40s...'", text);
    memcpy(rule, text, len);
    rule[len] = 0;
    text += len + (end ? 1 : 0);
    if (!len) continue;
    char *eq = strchr(rule, '=');
    if (!eq || eq == rule) return kn_error_set(err, "--map rule '%s' is not FROM=TO (a regular expression = its replacement)", rule);
    if (m->n == KN_INIT_MAX_RULES) return kn_error_set(err, "more than %d --map rules", KN_INIT_MAX_RULES);
    *eq = 0;
    map_rule *r = &m->r[m->n];
    int rc = regcomp(&r->re, rule, REG_EXTENDED);
    if (rc) {
      char why[160];
      regerror(rc, &r->re, why, sizeof why);
      return kn_error_set(err, "--map rule '%s=%s': bad regular expression: %s", rule, eq + 1, why);
    }
    snprintf(r->to, sizeof r->to, "%s", eq + 1);
    m->n++;
  }
  return true;
}

/* Applies every rule in order to name (each replaces its first match) into out. */
static void rules_apply(const map_rules *m, const char *name, char *out, size_t n) {
  snprintf(out, n, "%s", name);
  for (int i = 0; i < m->n; i++) {
    regmatch_t g[10];
    if (regexec(&m->r[i].re, out, 10, g, 0)) continue;
    char buf[KN_INIT_NAME_MAX * 2];
    size_t len = 0;
#define PUT(p, k) do { size_t k_ = (k); if (len + k_ < sizeof buf) memcpy(buf + len, (p), k_), len += k_; } while (0)
    PUT(out, (size_t)g[0].rm_so);
    for (const char *t = m->r[i].to; *t; t++) {
      if (t[0] == '\\' && t[1] >= '0' && t[1] <= '9') {
        int k = t[1] - '0';
        if (g[k].rm_so >= 0) PUT(out + g[k].rm_so, (size_t)(g[k].rm_eo - g[k].rm_so));
        t++;
      } else {
        PUT(t, 1);
      }
    }
    PUT(out + g[0].rm_eo, strlen(out + g[0].rm_eo));
#undef PUT
    if (len > n - 1) len = n - 1;
    memcpy(out, buf, len);
    out[len] = 0;
  }
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n > m && !strcmp(s + n - m, suffix);
}

static void shape_str(char *buf, size_t n, int rank, const int64_t *dims) {
  size_t len = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < rank && len < n; i++) len += (size_t)snprintf(buf + len, n - len, "%s%lld", i ? ", " : "", (long long)dims[i]);
  if (len < n) snprintf(buf + len, n - len, "]");
}

static bool is_float(kn_st_dtype t) { return t == KN_ST_F32 || t == KN_ST_F16 || t == KN_ST_BF16 || t == KN_ST_F64; }

/* Why file tensor x (mapped to `name`) cannot initialise model tensor t; NULL when it can. */
static const char *skip_reason(const kn_st_tensor *x, const kn_tensor_desc *t, const bool *done, char *buf, size_t n) {
  if (!t || t->role == KN_ROLE_CONST || (t->role != KN_ROLE_PARAM && t->role != KN_ROLE_STATE)) return "not in the model";
  if (kn_session_is_optimizer_state(t)) return "optimizer state (use --resume for a kiln checkpoint)";
  if (done[t - kn_model.persist]) return "a second tensor for the same model weight";
  if (!is_float(x->dtype)) {
    snprintf(buf, n, "dtype %s, not a float", kn_st_dtype_name(x->dtype));
    return buf;
  }
  bool same = x->ndim == t->rank;
  for (int i = 0; same && i < t->rank; i++) same = x->shape[i] == t->dims[i];
  if (same) return NULL;
  char a[96], b[96];
  shape_str(a, sizeof a, x->ndim, x->shape);
  shape_str(b, sizeof b, t->rank, t->dims);
  snprintf(buf, n, "shape %s in the file, %s in the model", a, b);
  return buf;
}

bool kn_init_from(kn_session *s, const char *path, const char *rules, FILE *table, kn_init_report *rep,
                  kn_error *err) {
  memset(rep, 0, sizeof *rep);
  map_rules m;
  if (!rules_parse(&m, rules, err)) {
    rules_free(&m);
    return false;
  }
  kn_st_file f;
  if (!kn_st_read(&f, path, err)) {
    rules_free(&m);
    return false;
  }
  bool *done = calloc((size_t)kn_model.n_persist + 1, sizeof *done);
  bool ok = done != NULL;
  if (!ok) kn_error_set(err, "out of memory");
  int counters = 0;
  kn_model_persist_to_host(s->persist); /* GPU builds: what is not loaded keeps the device's values */
  if (table) fprintf(table, "init from %s:\n", path);
  for (int i = 0; ok && i < f.n; i++) {
    const kn_st_tensor *x = &f.tensors[i];
    if (ends_with(x->name, ".num_batches_tracked")) { /* BatchNorm counters: no use here */
      counters++, rep->skipped++;
      continue;
    }
    char name[KN_INIT_NAME_MAX], buf[256], shown[2 * KN_INIT_NAME_MAX + 8];
    rules_apply(&m, x->name, name, sizeof name);
    if (strcmp(name, x->name)) snprintf(shown, sizeof shown, "%s -> %s", x->name, name);
    else snprintf(shown, sizeof shown, "%s", name);
    const kn_tensor_desc *t = kn_model_tensor(&kn_model, NULL, name);
    const char *why = skip_reason(x, t, done, buf, sizeof buf);
    if (why) {
      rep->skipped++;
      if (table) fprintf(table, "  skipped  %-40s %s\n", shown, why);
      continue;
    }
    if (!kn_st_copy_f32(&f, x->name, t->rank, t->dims, kn_tensor_data(t, s->persist, s->work), err)) {
      ok = false;
      break;
    }
    done[t - kn_model.persist] = true;
    rep->loaded++;
    shape_str(buf, sizeof buf, t->rank, t->dims);
    if (table) fprintf(table, "  loaded   %-40s %s\n", shown, buf);
  }
  if (ok && counters && table) fprintf(table, "  skipped  %d *.num_batches_tracked (BatchNorm counters, not used)\n", counters);
  for (int i = 0; ok && i < kn_model.n_persist; i++) {
    const kn_tensor_desc *t = &kn_model.persist[i];
    bool weight = t->role == KN_ROLE_PARAM || (t->role == KN_ROLE_STATE && !kn_session_is_optimizer_state(t));
    if (!weight || done[i]) continue;
    rep->missing++;
    if (table) fprintf(table, "  missing  %-40s keeps the spec's initialisation\n", t->name);
  }
  kn_model_persist_to_device(s->persist);
  if (ok && table)
    fprintf(table, "init from %s: %d loaded, %d skipped, %d missing\n", path, rep->loaded, rep->skipped, rep->missing);
  if (ok && rep->loaded == 0)
    ok = kn_error_set(err, "nothing in %s matches model '%s' by name and shape (%d tensors, e.g. '%s'); map the names "
                           "with --map 'REGEX=REPLACEMENT'",
                      path, kn_model.name, f.n, f.n ? f.tensors[0].name : "");
  free(done);
  kn_st_free(&f);
  rules_free(&m);
  return ok;
}
