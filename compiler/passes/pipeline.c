/* pipeline.c — the pass manager: the pass table from passes.def, flag parsing, running the
 * selected passes (fixed-point loops, --verify-each, --print-after) and the --stats table. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel_groups.h"
#include "memplan.h"
#include "pass_plugin.h"
#include "util.h"

enum { ONCE = 0, FIXED = 1, INFER = KN_PIPELINE_INFER, TRAIN = KN_PIPELINE_TRAIN, BOTH = 3 };

const kn_pass_info kn_pass_table[KN_PASS_COUNT] = {
#define KN_PASS(ID, name, fn, run, mode, level, why) {name, fn, run == FIXED, mode, level, why},
#include "passes.def"
#undef KN_PASS
};

static const char *const pass_names[KN_PASS_COUNT] = {
#define KN_PASS(ID, name, fn, run, mode, level, why) name,
#include "passes.def"
#undef KN_PASS
};

void kn_pipeline_options_init(kn_pipeline_options *o) {
  memset(o, 0, sizeof *o);
  o->opt_level = 2;
}

int kn_pass_lookup(const char *name) {
  for (int i = 0; i < KN_PASS_COUNT; i++)
    if (!strcmp(pass_names[i], name)) return i;
  for (int i = 0; i < kn_plugin_pass_count(); i++)
    if (!strcmp(kn_plugin_pass_info(i)->name, name)) return KN_PASS_COUNT + i;
  return -1;
}

const kn_pass_info *kn_pass_get(int id) {
  return id < KN_PASS_COUNT ? &kn_pass_table[id] : kn_plugin_pass_info(id - KN_PASS_COUNT);
}

/* Parses "a,b,c" into ids; every unknown name is an error with a suggestion. */
static bool parse_list(const char *flag, const char *list, int *ids, int *n, int cap, kn_diag *d) {
  bool ok = true;
  *n = 0;
  char *copy = kn_xstrdup(list);
  for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    int id = kn_pass_lookup(t);
    if (id < 0) {
      const char *names[KN_PASS_MAX];
      int nn = 0;
      for (int k = 0; k < KN_PASS_COUNT + kn_plugin_pass_count(); k++) names[nn++] = kn_pass_get(k)->name;
      const char *s = kn_diag_suggest(t, names, nn);
      char *hint = s ? kn_fmt("did you mean '%s'?", s)
                     : kn_xstrdup("see the list of passes in --help; a plugin's passes need --load-pass=FILE first");
      kn_diag_error(d, (kn_loc){0}, hint, "%s: unknown pass '%s'", flag, t);
      free(hint);
      ok = false;
    } else if (*n < cap) {
      ids[(*n)++] = id;
    } else {
      kn_diag_error(d, (kn_loc){0}, NULL, "%s: more than %d passes", flag, cap);
      ok = false;
      break;
    }
  }
  if (*n == 0 && ok) {
    kn_diag_error(d, (kn_loc){0}, "give pass names separated by commas", "%s: empty pass list", flag);
    ok = false;
  }
  free(copy);
  return ok;
}

bool kn_pipeline_parse_arg(kn_pipeline_options *o, const char *a, kn_diag *d) {
  int ids[KN_PIPELINE_MAX_LIST], n = 0;
  if (a[0] == '-' && a[1] == 'O' && a[2] && !a[3]) {
    if (a[2] < '0' || a[2] > '3')
      kn_diag_error(d, (kn_loc){0}, "use -O0, -O1, -O2 or -O3", "unknown optimisation level '%s'", a);
    else o->opt_level = a[2] - '0';
    return true;
  }
  if (!strncmp(a, "--passes=", 9)) {
    if (parse_list("--passes", a + 9, ids, &n, KN_PIPELINE_MAX_LIST, d)) {
      memcpy(o->list, ids, (size_t)n * sizeof *ids);
      o->n_list = n;
      o->list_given = true;
    }
    return true;
  }
  if (!strncmp(a, "--disable-pass=", 15)) {
    if (parse_list("--disable-pass", a + 15, ids, &n, KN_PIPELINE_MAX_LIST, d))
      for (int i = 0; i < n; i++) o->disabled[ids[i]] = true;
    return true;
  }
  if (!strncmp(a, "--print-after=", 14)) {
    if (parse_list("--print-after", a + 14, ids, &n, KN_PIPELINE_MAX_LIST, d))
      for (int i = 0; i < n; i++) o->print_after[ids[i]] = true;
    return true;
  }
  if (!strncmp(a, "--load-pass=", 12)) {
    kn_plugin_load(a + 12, d);
    return true;
  }
  if (!strcmp(a, "--print-after-all")) return o->print_after_all = true;
  if (!strcmp(a, "--verify-each")) return o->verify_each = true;
  if (!strcmp(a, "--stats")) return o->stats = true;
  return false;
}

void kn_pipeline_print_usage(FILE *f) {
  fputs("pass pipeline (see docs/fusion.md):\n"
        "  -O0 .. -O3            -O0 no pass, -O1 cleanup (constfold, cse, dce), -O2/-O3 every pass\n"
        "  --passes=a,b,c        run exactly these passes in this order (replaces -O)\n"
        "  --disable-pass=a,b    skip these passes\n"
        "  --print-after=a,b     print the graph and its kernels after these passes\n"
        "  --print-after-all     ... after every pass\n"
        "  --verify-each         verify the graph and its kernel groups after every pass\n"
        "  --stats               per pass: nodes, kernels, activation bytes moved, arena size\n"
        "  --load-pass=FILE      load a pass plugin (include/kiln/pass_plugin.h) before the flags\n"
        "                        naming its passes; it runs in -O2/-O3 where it asks to\n"
        "passes:",
        f);
  for (int i = 0; i < KN_PASS_COUNT; i++) fprintf(f, " %s", pass_names[i]);
  fputc('\n', f);
}

void kn_pipeline_print_passes(FILE *f) {
  static const char *const modes[4] = {"-", "infer", "train", "both"};
  for (int i = 0; i < KN_PASS_COUNT; i++) {
    const kn_pass_info *p = &kn_pass_table[i];
    fprintf(f, "%-13s %-5s %-5s -O%d  %s\n", p->name, p->fixed_point ? "fixed" : "once", modes[p->modes & 3],
            p->level, p->why);
  }
}

int64_t kn_pipeline_memplan_arena(const kn_graph *g, void *ctx) {
  (void)ctx;
  bool *pinned = kn_xcalloc((size_t)g->n_vals + 1, 1);
  if (g->output >= 0) pinned[g->output] = true;
  if (g->loss >= 0) pinned[g->loss] = true;
  kn_memplan mp;
  kn_memplan_build(g, pinned, KN_MEMPLAN_ALIGN, &mp);
  int64_t size = mp.size;
  kn_memplan_free(&mp);
  free(pinned);
  return size;
}

/* ---- running ---- */
typedef struct {
  int nodes, kernels;
  int64_t bytes, arena;
} snap;

static snap measure(const kn_graph *g, const kn_pipeline_options *o) {
  snap s = {0, 0, 0, -1};
  for (int i = 0; i < g->n_nodes; i++) s.nodes += !g->nodes[i].dead;
  s.kernels = kn_kernels_count(g);
  s.bytes = kn_kernels_traffic_bytes(g);
  if (o->arena_size) s.arena = o->arena_size(g, o->arena_ctx);
  return s;
}

/* Changes of anything a pass may touch: live nodes, their wiring, groups and hints. */
static uint64_t fingerprint(const kn_graph *g) {
  uint64_t h = 1469598103934665603ull;
#define MIX(x) (h = (h ^ (uint64_t)(int64_t)(x)) * 1099511628211ull)
  MIX(g->n_nodes);
  MIX(g->n_vals);
  MIX(g->output);
  MIX(g->loss);
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    MIX(n->dead);
    if (n->dead) continue;
    MIX(n->op);
    MIX(n->kernel);
    MIX(n->inplace);
    for (int j = 0; j < n->n_in; j++) MIX(n->in[j]);
    for (int j = 0; j < n->n_out; j++) MIX(n->out[j]);
  }
  for (int v = 0; v < g->n_vals; v++) MIX(g->vals[v].kind);
#undef MIX
  return h;
}

typedef struct {
  snap before, after;
  int runs;
  double ms;
  bool ran;
} pass_stat;

static bool run_one(kn_graph *g, int id, const kn_pipeline_options *o, pass_stat *st, bool *changed, kn_diag *d) {
  const kn_pass_info *p = kn_pass_get(id);
  if (o->stats && !st->ran) st->before = measure(g, o);
  uint64_t h0 = fingerprint(g);
  clock_t t0 = clock();
  bool plugin = id >= KN_PASS_COUNT;
  bool ok = plugin ? kn_plugin_run(id - KN_PASS_COUNT, g, d) : p->fn(g, d);
  st->ms += 1000.0 * (double)(clock() - t0) / CLOCKS_PER_SEC;
  st->runs++;
  st->ran = true;
  *changed = fingerprint(g) != h0;
  if (!ok) {
    kn_diag_error(d, (kn_loc){0}, NULL, "pass '%s' failed on graph '%s'", p->name, g->name);
    return false;
  }
  if (o->verify_each || plugin) { /* a plugin's groups are always checked before codegen sees them */
    if (!kn_graph_verify(g, d) || !kn_kernels_verify(g, d)) {
      kn_diag_error(d, (kn_loc){0}, "this is a bug in the pass; rerun without it (--disable-pass)",
                    "--verify-each: graph '%s' is broken after pass '%s'", g->name, p->name);
      return false;
    }
  }
  if (o->print_after_all || o->print_after[id]) {
    FILE *f = o->print_to ? o->print_to : stderr;
    fprintf(f, "; *** graph '%s' after pass '%s' ***\n", g->name, p->name);
    kn_graph_print_text(g, f);
    kn_kernels_print(g, f);
  }
  if (o->stats) st->after = measure(g, o);
  return true;
}

static void print_mb(FILE *f, int64_t a, int64_t b) {
  if (a < 0) fprintf(f, " %21s", "-");
  else fprintf(f, " %9.3f -> %9.3f", (double)a / 1e6, (double)b / 1e6);
}

static void print_stats(FILE *f, const kn_graph *g, const int *seq, int n, const pass_stat *st, snap start,
                        snap end) {
  fprintf(f, "pass statistics for graph '%s' (traffic: estimated activation bytes moved per run, MB)\n", g->name);
  fprintf(f, "%-13s %4s %15s %15s %22s %22s %8s\n", "pass", "runs", "nodes", "kernels", "traffic MB", "arena MB", "ms");
  for (int i = 0; i < n; i++) {
    const pass_stat *s = &st[i];
    if (!s->ran) continue;
    fprintf(f, "%-13s %4d %6d -> %5d %6d -> %5d", kn_pass_get(seq[i])->name, s->runs, s->before.nodes,
            s->after.nodes, s->before.kernels, s->after.kernels);
    print_mb(f, s->before.bytes, s->after.bytes);
    print_mb(f, s->before.arena, s->after.arena);
    fprintf(f, " %8.2f\n", s->ms);
  }
  fprintf(f, "%-13s %4s %6d -> %5d %6d -> %5d", "total", "", start.nodes, end.nodes, start.kernels, end.kernels);
  print_mb(f, start.bytes, end.bytes);
  print_mb(f, start.arena, end.arena);
  fputc('\n', f);
}

bool kn_pipeline_run(kn_graph *g, const kn_pipeline_options *o, kn_pipeline_mode mode, FILE *stats_out,
                     kn_diag *d) {
  int seq[KN_PIPELINE_MAX_LIST], n = 0;
  if (o->list_given) {
    for (int i = 0; i < o->n_list; i++) seq[n++] = o->list[i];
  } else {
    for (int i = 0; i < KN_PASS_COUNT; i++) {
      if (o->opt_level < kn_pass_table[i].level || o->opt_level <= 0) continue;
      seq[n++] = i;
      for (int k = 0; k < kn_plugin_pass_count(); k++) /* plugin passes asking to follow pass i */
        if (kn_plugin_pass_after(k) == i && n < KN_PIPELINE_MAX_LIST) seq[n++] = KN_PASS_COUNT + k;
    }
  }
  /* Drop disabled passes and those for the other kind of graph. */
  int m = 0;
  for (int i = 0; i < n; i++)
    if (!o->disabled[seq[i]] && (kn_pass_get(seq[i])->modes & (unsigned)mode)) seq[m++] = seq[i];
  n = m;
  pass_stat st[KN_PIPELINE_MAX_LIST];
  memset(st, 0, sizeof st);
  snap start = {0, 0, 0, -1};
  if (o->stats) start = measure(g, o);
  bool ok = true;
  for (int i = 0; i < n && ok;) {
    /* A run of consecutive fixed-point passes loops as one unit. */
    int j = i + 1;
    if (kn_pass_get(seq[i])->fixed_point)
      while (j < n && kn_pass_get(seq[j])->fixed_point) j++;
    int rounds = kn_pass_get(seq[i])->fixed_point ? 16 : 1;
    for (int r = 0; r < rounds && ok; r++) {
      bool any = false;
      for (int k = i; k < j && ok; k++) {
        bool changed = false;
        ok = run_one(g, seq[k], o, &st[k], &changed, d);
        any |= changed;
      }
      if (!any) break;
    }
    i = j;
  }
  if (ok && o->stats && stats_out) print_stats(stats_out, g, seq, n, st, start, measure(g, o));
  return ok;
}
