/* kn_cmd_common.c — what the train, eval and predict commands share: the option parser and
 * initial-weight loading (see kn_commands.h; data set opening is in kn_data_open.c). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_cifar.h"
#include "kn_commands.h"
#include "kn_traincfg.h"

static void print_help(FILE *f, const char *cmd, const char *usage, const kn_opt *opts, int n) {
  fprintf(f, "usage: %s %s\n\noptions:\n", cmd, usage);
  for (int i = 0; i < n; i++) {
    char left[64];
    snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
    fprintf(f, "  %-22s %s\n", left, opts[i].help);
  }
  fprintf(f, "  %-22s %s\n", "-h, --help", "show this help");
}

static bool set_value(const kn_opt *o, const char *v, const char *cmd) {
  char *end = NULL;
  errno = 0;
  switch (o->kind) {
  case KN_OPT_INT: {
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x <= INT_MIN || x > INT_MAX) break; /* INT_MIN is KN_OPT_UNSET */
    *(int *)o->dst = (int)x;
    return true;
  }
  case KN_OPT_DOUBLE: {
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x)) break;
    *(double *)o->dst = x;
    return true;
  }
  case KN_OPT_STR: *(const char **)o->dst = v; return true;
  case KN_OPT_FLAG: break;
  }
  fprintf(stderr, "%s: --%s wants %s, not '%s'\n", cmd, o->name, o->kind == KN_OPT_INT ? "an integer" : "a finite number", v);
  return false;
}

int kn_opts_check_ints(const char *cmd, const kn_int_range *r, int n) {
  for (int i = 0; i < n; i++) {
    if (*r[i].v == KN_OPT_UNSET) {
      *r[i].v = r[i].unset;
    } else if (*r[i].v < r[i].lo || *r[i].v > r[i].hi) {
      fprintf(stderr, "%s: --%s %d is out of range (allowed range is %d to %d)\n", cmd, r[i].name, *r[i].v, r[i].lo,
              r[i].hi);
      return 2;
    }
  }
  return -1;
}

int kn_opts_check_double(const char *cmd, const char *name, double v, double lo_open, double hi) {
  if (isnan(v) || (v > lo_open && v <= hi)) return -1;
  fprintf(stderr, "%s: --%s %g is out of range (allowed range is above %g up to %g)\n", cmd, name, v, lo_open, hi);
  return 2;
}

int kn_opts_parse(const char *cmd, const char *usage, const kn_opt *opts, int n_opts, int argc, char **argv,
                  char **pos, int max_pos, int *n_pos) {
  if (n_pos) *n_pos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      print_help(stdout, cmd, usage, opts, n_opts);
      return 0;
    }
    if (strncmp(a, "--", 2) || !a[2]) {
      if (n_pos && *n_pos < max_pos) {
        pos[(*n_pos)++] = argv[i];
        continue;
      }
      fprintf(stderr, "%s: unexpected argument '%s'\nRun '%s --help' for usage.\n", cmd, a, cmd);
      return 2;
    }
    const char *eq = strchr(a, '=');
    size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    const kn_opt *o = NULL;
    for (int k = 0; k < n_opts && !o; k++)
      if (strlen(opts[k].name) == len && !strncmp(opts[k].name, a + 2, len)) o = &opts[k];
    if (!o) {
      fprintf(stderr, "%s: unknown option '%.*s'\nRun '%s --help' for usage.\n", cmd, (int)(len + 2), a, cmd);
      return 2;
    }
    if (o->kind == KN_OPT_FLAG) {
      if (eq) {
        fprintf(stderr, "%s: --%s takes no value\n", cmd, o->name);
        return 2;
      }
      *(bool *)o->dst = true;
      continue;
    }
    const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!v) {
      fprintf(stderr, "%s: --%s needs a value (%s)\n", cmd, o->name, o->arg ? o->arg : "");
      return 2;
    }
    if (!set_value(o, v, cmd)) return 2;
  }
  return -1;
}

void kn_class_names_default(char (*names)[KN_DATASET_NAME_LEN], int k) {
  for (int i = 0; i < k; i++) {
    if (k == KN_CIFAR_CLASSES) snprintf(names[i], KN_DATASET_NAME_LEN, "%s", kn_cifar_class_name(i));
    else snprintf(names[i], KN_DATASET_NAME_LEN, "class%d", i);
  }
}

static void names_from_meta(const kn_st_file *f, char (*names)[KN_DATASET_NAME_LEN], int k) {
  const char *c = kn_st_meta(f, "classes");
  if (!names || !c) return;
  for (int i = 0; i < k && *c; i++) {
    const char *comma = strchr(c, ',');
    int len = comma ? (int)(comma - c) : (int)strlen(c);
    snprintf(names[i], KN_DATASET_NAME_LEN, "%.*s", len, c);
    c += len + (comma ? 1 : 0);
  }
}

bool kn_weights_load(kn_session *s, const char *path, char (*names)[KN_DATASET_NAME_LEN], bool verbose,
                     kn_error *err) {
  kn_st_file f;
  const char *from = path;
  int got = 0;
  if (!path) {
    got = kn_session_embedded(&f, err);
    if (got < 0) return false;
    from = "embedded weights";
  }
  if (!got && !path && kn_traincfg_embedded() && kn_traincfg_get()->weights[0]) path = from = kn_traincfg_get()->weights;
  if (!got && !path) { /* random initialisation */
    if (!verbose) fprintf(stderr, "note: no weights (give --weights FILE or compile with --weights): the model is untrained\n");
    return true;
  }
  if (!got && !kn_st_read(&f, path, err)) return false;
  bool ok = kn_session_import(s, &f, from, err);
  if (ok) names_from_meta(&f, names, s->classes);
  if (ok && verbose) fprintf(stderr, "loaded weights from %s\n", from);
  kn_st_free(&f);
  return ok;
}

void kn_threads_apply(int threads) {
  if (threads > 0) kn_parallel_set_threads(threads);
}

void kn_score_batch(const float *logp, const int32_t *y, int n, int k, double *nll, int64_t *correct, kn_confusion *cm) {
  for (int i = 0; i < n; i++) {
    const float *row = logp + (size_t)i * (size_t)k;
    int best = 0;
    for (int j = 1; j < k; j++)
      if (row[j] > row[best]) best = j;
    if (cm) kn_confusion_add(cm, y[i], best);
    *correct += best == y[i];
    *nll -= row[y[i]];
  }
}
