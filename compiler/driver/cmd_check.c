/* cmd_check.c — `kiln check FILE`: loads a spec and prints a layer table (name, kind, output
 * shape, parameters; nested rows indented) and a summary like Keras' model.summary().
 * Summary lines come from the `summary_lines` table below: add a row to add a line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "cli.h"
#include "diag.h"
#include "spec.h"
#include "util.h"

static void usage(FILE *f) {
  fputs("usage: kiln check [options] FILE\n\n"
        "Checks a model spec and prints its layers, output shapes and parameter counts.\n\n"
        "options:\n"
        "  --batch N      batch size (overrides train.batch_size)\n"
        "  --input HxW    input height and width (overrides train.input_size), e.g. 32x32\n"
        "  --depth N      show layers nested at most N deep (0 = top level only; default: all)\n"
        "  -h, --help     show this help\n\n"
        "Exit status: 0 the spec is valid, 1 it has errors (printed as file:line:col: error: ...),\n"
        "2 bad usage, 3 internal error.\n",
        f);
}

/* "23,528,522" */
static char *with_commas(int64_t v, char *buf) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%lld", (long long)(v < 0 ? -v : v)), o = 0;
  if (v < 0) buf[o++] = '-';
  for (int i = 0; i < n; i++) {
    if (i && (n - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = tmp[i];
  }
  buf[o] = 0;
  return buf;
}

/* ---- summary lines: {label, function writing the value} ---- */
typedef void (*summary_fn)(const kn_spec *s, char *out, size_t n);

static void line_total(const kn_spec *s, char *out, size_t n) {
  int64_t t, tr;
  char b[32];
  kn_graph_count_params(s->graph, &t, &tr);
  snprintf(out, n, "%s", with_commas(t, b));
}
static void line_trainable(const kn_spec *s, char *out, size_t n) {
  int64_t t, tr;
  char b[32];
  kn_graph_count_params(s->graph, &t, &tr);
  snprintf(out, n, "%s", with_commas(tr, b));
}
static void line_frozen(const kn_spec *s, char *out, size_t n) {
  int64_t t, tr;
  char b[32];
  kn_graph_count_params(s->graph, &t, &tr);
  snprintf(out, n, "%s", with_commas(t - tr, b));
}
static void line_input(const kn_spec *s, char *out, size_t n) {
  char b[64];
  snprintf(out, n, "%s", kn_shape_str(s->graph->vals[s->graph->input].shape, b));
}
static void line_output(const kn_spec *s, char *out, size_t n) {
  char b[64];
  snprintf(out, n, "%s", kn_shape_str(s->graph->vals[s->graph->output].shape, b));
}
static void line_param_size(const kn_spec *s, char *out, size_t n) {
  int64_t t, tr;
  kn_graph_count_params(s->graph, &t, &tr);
  snprintf(out, n, "%.2f MB", (double)t * 4 / 1e6);
}

/* Activations the training graph keeps for its backward (kn_autodiff_saved_bytes), with and,
 * when the spec freezes layers, without freezing. */
static void bytes_str(int64_t v, char *out, size_t n) {
  char b[32];
  const char *unit = v >= (1 << 30) ? "GiB" : v >= (1 << 20) ? "MiB" : "KiB";
  double scale = v >= (1 << 30) ? 1 << 30 : v >= (1 << 20) ? 1 << 20 : 1 << 10;
  snprintf(out, n, "%.2f %s (%s bytes)", (double)v / scale, unit, with_commas(v, b));
}
static void line_saved(const kn_spec *s, char *out, size_t n) {
  kn_autodiff_report r, all;
  kn_diag d;
  kn_diag_init(&d);
  char a[64], b[64];
  if (!kn_autodiff_measure(s->graph, &s->train, false, &r, &d)) snprintf(out, n, "- (no training graph)");
  else if (r.frozen_params == 0) bytes_str(r.saved_bytes, out, n);
  else if (!kn_autodiff_measure(s->graph, &s->train, true, &all, &d)) bytes_str(r.saved_bytes, out, n);
  else {
    bytes_str(r.saved_bytes, a, sizeof a);
    bytes_str(all.saved_bytes, b, sizeof b);
    snprintf(out, n, "%s; without freezing %s", a, b);
  }
  kn_diag_free(&d);
}

static const struct {
  const char *label;
  summary_fn fn;
} summary_lines[] = {
    {"Total params", line_total},
    {"Trainable params", line_trainable},
    {"Non-trainable params", line_frozen},
    {"Input shape", line_input},
    {"Output shape", line_output},
    {"Params size", line_param_size},
    {"Saved activations", line_saved},
};

/* Parameters counted on the row of the first node that uses them (shared ones once). */
static void row_params(const kn_graph *g, const int *first_use, const struct kn_spec_layer *r, int64_t *count,
                       bool *frozen) {
  *count = 0;
  *frozen = r->node_first <= r->node_last;
  for (int v = 0; v < g->n_vals; v++) {
    if (g->vals[v].kind != KN_VAL_PARAM || first_use[v] < r->node_first || first_use[v] > r->node_last) continue;
    *count += kn_shape_numel(g->vals[v].shape);
    if (g->vals[v].trainable) *frozen = false;
  }
  if (!*count) *frozen = false;
}

static void print_table(const kn_spec *s, int max_depth) {
  const kn_graph *g = s->graph;
  int *first_use = kn_xmalloc((size_t)g->n_vals * sizeof *first_use);
  for (int v = 0; v < g->n_vals; v++) first_use[v] = -1;
  for (int i = g->n_nodes - 1; i >= 0; i--)
    for (int j = 0; j < g->nodes[i].n_in; j++) first_use[g->nodes[i].in[j]] = i;
  int w = 20;
  for (int i = 0; i < s->n_layers; i++) {
    const struct kn_spec_layer *r = &s->layers[i];
    if (max_depth >= 0 && r->depth > max_depth) continue;
    int len = 2 * r->depth + (int)strlen(r->name) + (int)strlen(r->kind) + 3;
    if (len > w) w = len;
  }
  if (w > 72) w = 72;
  char rule[256];
  int total_w = w + 2 + 22 + 14;
  memset(rule, '=', (size_t)total_w);
  rule[total_w] = 0;
  printf("Model: %s (%s)\n\n", s->model_name, s->path);
  printf("%-*s  %-22s%14s\n%s\n", w, "Layer (type)", "Output shape", "Param #", rule);
  for (int i = 0; i < s->n_layers; i++) {
    const struct kn_spec_layer *r = &s->layers[i];
    if (max_depth >= 0 && r->depth > max_depth) continue;
    char label[512], shape[64] = "-", cnt[32];
    snprintf(label, sizeof label, "%*s%s (%s)", 2 * r->depth, "", r->name, r->kind);
    if (r->node_first <= r->node_last) {
      const kn_node *n = &g->nodes[r->node_last];
      if (n->n_out) kn_shape_str(g->vals[n->out[0]].shape, shape);
    }
    int64_t count;
    bool frozen;
    row_params(g, first_use, r, &count, &frozen);
    printf("%-*s  %-22s%14s%s\n", w, label, shape, with_commas(count, cnt), frozen ? " frozen" : "");
  }
  printf("%s\n", rule);
  free(first_use);
  for (size_t i = 0; i < sizeof summary_lines / sizeof summary_lines[0]; i++) {
    char val[128];
    summary_lines[i].fn(s, val, sizeof val);
    printf("%-22s%s\n", summary_lines[i].label, val);
  }
}

int kn_cmd_check(int argc, char **argv) {
  kn_spec_options o = {0};
  const char *file = NULL;
  int depth = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return KN_EXIT_OK;
    }
    int r = kn_cli_spec_option("check", argc, argv, &i, &o);
    if (r < 0) return KN_EXIT_USAGE;
    if (r > 0) continue;
    if (!strcmp(a, "--depth") && i + 1 < argc) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || end == argv[i] || v < 0 || v > 64) {
        fprintf(stderr, "kiln check: --depth wants a number from 0 to 64, not '%s'\n", argv[i]);
        return KN_EXIT_USAGE;
      }
      depth = (int)v;
    } else if (!kn_cli_file_arg("check", a, &file)) {
      return KN_EXIT_USAGE;
    }
  }
  if (!kn_cli_args_ok(NULL, file, usage)) return KN_EXIT_USAGE;
  kn_spec *s = kn_cli_load_spec(file, &o);
  if (!s) return KN_EXIT_USER;
  print_table(s, depth);
  kn_spec_dispose(s);
  return KN_EXIT_OK;
}
