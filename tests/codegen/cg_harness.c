/* cg_harness.c — compiled-vs-interpreter comparison of whole graphs (see cg_harness.h). */
#include "cg_harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen_cpu.h"
#include "kn_tensorfile.h"
#include "util.h"

static char tmpdir[256];

static void rm_tmpdir(void) {
  if (!tmpdir[0]) return;
  char cmd[300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "warning: cannot remove %s\n", tmpdir);
}

const char *cg_tmpdir(void) {
  if (!tmpdir[0]) {
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/kiln-cg-XXXXXX", base);
    KN_ASSERT(mkdtemp(tmpdir));
    atexit(rm_tmpdir);
  }
  return tmpdir;
}

void cg_begin(cg_case *c, const kn_graph *g) {
  memset(c, 0, sizeof *c);
  c->g = kn_graph_clone(g);
  KN_ASSERT(c->g->n_vals <= CG_MAX_VALS);
  for (int v = 0; v < c->g->n_vals; v++) {
    char *n = kn_fmt("v%d.%s", v, c->g->vals[v].name);
    free(c->g->vals[v].name);
    c->g->vals[v].name = n;
  }
  c->steps = 1;
  c->tol = CG_TOL;
}

void cg_end(cg_case *c) { kn_graph_dispose(c->g); }

static void fill(cg_case *c, kn_interp *it, kn_rng *r) {
  for (int v = 0; v < c->g->n_vals; v++) {
    const kn_value *val = &c->g->vals[v];
    if (val->kind != KN_VAL_INPUT) continue;
    int64_t n = kn_shape_numel(val->shape);
    if (val->dtype == KN_DT_I32) {
      int32_t *p = kn_interp_i32(it, v);
      int k = c->label_k[v] > 0 ? c->label_k[v] : 2;
      for (int64_t i = 0; i < n; i++) p[i] = (int32_t)kn_rng_uniform(r, 0, k);
      continue;
    }
    float *p = kn_interp_f32(it, v);
    for (int64_t i = 0; i < n; i++) {
      double m;
      switch ((cg_gen)c->gen[v]) {
      case CG_UNIFORM: p[i] = (float)kn_rng_uniform(r, -1, 1); break;
      case CG_AWAY0:
        m = kn_rng_uniform(r, 0.1, 1);
        p[i] = (float)(kn_rng_uniform(r, 0, 1) < 0.5 ? -m : m);
        break;
      case CG_DISTINCT: p[i] = (float)(0.05 * ((double)i - (double)n / 2)); break;
      case CG_POSITIVE: p[i] = (float)kn_rng_uniform(r, 0.5, 1.5); break;
      case CG_LABELS: p[i] = 0; break;
      case CG_WIDE: /* as FD_WIDE */
        m = kn_rng_uniform(r, -4.5, 4.5);
        {
          double k = m < -1.5 ? -3 : m < 1.5 ? 0 : 3;
          if (fabs(m - k) < 0.1) m = k + (m < k ? -1 : 1) * (0.1 + fabs(m - k));
        }
        p[i] = (float)m;
        break;
      case CG_SCALAR: p[i] = c->scalar[v]; break;
      }
    }
    if (c->gen[v] == CG_DISTINCT)
      for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)kn_rng_uniform(r, 0, (double)(i + 1));
        float t = p[i];
        p[i] = p[j > i ? i : j];
        p[j > i ? i : j] = t;
      }
  }
}

static void *vdata(kn_interp *it, const kn_value *v) {
  return v->dtype == KN_DT_I32 ? (void *)kn_interp_i32(it, v->id) : (void *)kn_interp_f32(it, v->id);
}

/* Compares one tensor; prints the worst element on failure. */
static bool compare(const char *what, const kn_value *v, const void *ref, const void *got, double tol) {
  int64_t n = kn_shape_numel(v->shape);
  if (v->dtype == KN_DT_I32) {
    if (!memcmp(ref, got, (size_t)n * 4)) return true;
    printf("FAIL %s: %s (int32) differs\n", what, v->name);
    return false;
  }
  const float *a = ref, *b = got;
  double scale = 1, worst = 0;
  int64_t at = 0;
  for (int64_t i = 0; i < n; i++) scale = fmax(scale, fabs(a[i]));
  for (int64_t i = 0; i < n; i++) {
    double e = fabs((double)a[i] - b[i]);
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  if (worst <= tol * scale) return true;
  char s[64];
  printf("FAIL %s: %s %s: element %lld kiln %.7g interp %.7g (error %.3g, scale %.3g)\n", what, v->name,
         kn_shape_str(v->shape, s), (long long)at, b[at], a[at], worst, scale);
  return false;
}

static bool run_cmd(const char *cmd) {
  int rc = system(cmd);
  if (rc != 0) printf("command failed (%d): %s\n", rc, cmd);
  return rc == 0;
}

/* Reads the executable's results and compares every value the interpreter holds. */
static bool compare_results(cg_case *c, kn_interp *it, const char *out, const char *what) {
  kn_graph *g = c->g;
  kn_tfile res;
  char err[256];
  bool ok = kn_tfile_read(&res, out, err, sizeof err);
  if (!ok) printf("FAIL %s: %s\n", what, err);
  int compared = 0;
  for (int v = 0; ok && v < g->n_vals; v++) {
    const kn_value *val = &g->vals[v];
    if (val->kind == KN_VAL_INPUT || val->kind == KN_VAL_CONST) continue;
    const kn_tfile_tensor *t = kn_tfile_find(&res, val->name);
    if (!t) {
      if (val->producer >= 0 && !g->nodes[val->producer].dead && !(c->no_export && val->kind == KN_VAL_ACT)) {
        printf("FAIL %s: %s missing from the results\n", what, val->name);
        ok = false;
      }
      continue;
    }
    if (kn_tfile_numel(t) != kn_shape_numel(val->shape)) {
      printf("FAIL %s: %s has the wrong size\n", what, val->name);
      ok = false;
      continue;
    }
    if (c->perturb && val->dtype == KN_DT_F32) ((float *)t->data)[kn_tfile_numel(t) / 2] += 1e-2f;
    ok = compare(what, val, vdata(it, val), t->data, c->tol) && ok;
    compared++;
  }
  if (ok && !compared) {
    printf("FAIL %s: nothing compared\n", what);
    ok = false;
  }
  if (res.n) kn_tfile_free(&res);
  return ok;
}

/* Inputs, parameters and state as the interpreter holds them now. */
static void write_inputs(cg_case *c, kn_interp *it, const char *path) {
  kn_tfile f = {0};
  for (int v = 0; v < c->g->n_vals; v++) {
    const kn_value *val = &c->g->vals[v];
    if (val->kind == KN_VAL_ACT || val->kind == KN_VAL_CONST) continue;
    kn_tfile_add(&f, val->name, val->dtype, val->shape.rank, val->shape.d, vdata(it, val));
  }
  KN_ASSERT(kn_tfile_write(&f, path));
  kn_tfile_free(&f);
}

bool cg_check(cg_case *c, const char *what) {
  static int serial;
  kn_graph *g = c->g;
  kn_interp *it = kn_interp_create(g);
  kn_interp_init_params(it, 42);
  kn_rng r;
  kn_rng_seed(&r, 1234);
  fill(c, it, &r);
  char *in = kn_fmt("%s/c%d.in.kt", cg_tmpdir(), serial), *out = kn_fmt("%s/c%d.out.kt", cg_tmpdir(), serial);
  char *obj = kn_fmt("%s/c%d.o", cg_tmpdir(), serial), *exe = kn_fmt("%s/c%d", cg_tmpdir(), serial);
  serial++;
  kn_diag d;
  kn_diag_init(&d);
  kn_cpu_options o;
  kn_cpu_options_defaults(&o);
  o.export_all = !c->no_export;
  if (c->no_export) o.fuse_min_plane = 1, o.bn_stats = KN_BN_STATS_ALL; /* every fused path */
  o.keep_grads = c->keep_grads;
  kn_cpu_entry e = {"forward", g};
  kn_cpu_module *m = kn_cpu_compile("test", &e, 1, &o, &d);
  bool ok = m && kn_cpu_emit(m, KN_EMIT_OBJ, obj, &d) && kn_cpu_link_exe(obj, exe, &d);
  char *cmd = kn_fmt("'%s' run forward '%s' '%s'", exe, in, out);
  /* Each step starts both sides from the interpreter's state, so float rounding that a kink
   * (a max tie, a ReLU at 0) would amplify over steps cannot make the comparison chaotic. */
  for (int s = 0; ok && s < c->steps; s++) {
    if (s && g->step >= 0) kn_interp_f32(it, g->step)[0] += 1;
    write_inputs(c, it, in);
    kn_interp_run(it);
    char *step_what = c->steps > 1 ? kn_fmt("%s, step %d", what, s + 1) : kn_xstrdup(what);
    ok = run_cmd(cmd) && compare_results(c, it, out, step_what);
    free(step_what);
  }
  if (kn_diag_has_errors(&d)) kn_diag_print(&d, stdout);
  kn_diag_free(&d);
  kn_cpu_module_dispose(m);
  kn_interp_dispose(it);
  unlink(in);
  unlink(out);
  unlink(obj);
  unlink(exe);
  free(cmd);
  free(in);
  free(out);
  free(obj);
  free(exe);
  return ok;
}

void cg_setup_model_inputs(cg_case *c, const kn_graph *g) {
  if (g->labels >= 0 && g->output >= 0) c->label_k[g->labels] = (int)g->vals[g->output].shape.d[1];
  if (g->lr >= 0) {
    c->gen[g->lr] = CG_SCALAR;
    c->scalar[g->lr] = 0.05f;
  }
  if (g->step >= 0) {
    c->gen[g->step] = CG_SCALAR;
    c->scalar[g->step] = 1;
  }
}
