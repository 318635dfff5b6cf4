/* print.c — the text and Graphviz DOT printers of a graph (kiln dump). */
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "util.h"

static void print_attrs(const kn_node *n, FILE *f) {
  bool first = true;
  for (int a = 0; a < KN_NUM_ATTRS; a++) {
    if (!(n->attr_set & (1u << a))) continue;
    const kn_attr_info *ai = &kn_attr_table[a];
    fprintf(f, "%s%s=", first ? " {" : ", ", ai->key);
    first = false;
    const kn_attr_val *v = &n->attr[a];
    switch (ai->type) {
    case KN_ATYPE_INT: fprintf(f, "%lld", (long long)v->i[0]); break;
    case KN_ATYPE_BOOL: fprintf(f, "%s", v->i[0] ? "true" : "false"); break;
    case KN_ATYPE_ENUM: fprintf(f, "%s", kn_mode_names[v->i[0] ? 1 : 0]); break;
    case KN_ATYPE_FLOAT: fprintf(f, "%g", v->f); break;
    case KN_ATYPE_PAIR:
      if (v->i[0] == v->i[1]) fprintf(f, "%lld", (long long)v->i[0]);
      else fprintf(f, "[%lld, %lld]", (long long)v->i[0], (long long)v->i[1]);
      break;
    case KN_ATYPE_INTS:
      fputc('[', f);
      for (int i = 0; i < v->n; i++) fprintf(f, i ? ", %lld" : "%lld", (long long)v->i[i]);
      fputc(']', f);
      break;
    }
  }
  if (!first) fputc('}', f);
}

static const char *kind_name(kn_value_kind k) {
  switch (k) {
  case KN_VAL_INPUT: return "input";
  case KN_VAL_PARAM: return "param";
  case KN_VAL_STATE: return "state";
  case KN_VAL_CONST: return "const";
  case KN_VAL_ACT: return "act";
  }
  return "?";
}

void kn_graph_print_text(const kn_graph *g, FILE *f) {
  char buf[64];
  fprintf(f, "graph %s {\n", g->name);
  for (int i = 0; i < g->n_vals; i++) {
    const kn_value *v = &g->vals[i];
    if (v->producer >= 0) continue;
    fprintf(f, "  %%%d = %s %s %s%s", i, kind_name(v->kind), v->name, kn_shape_str(v->shape, buf),
            v->dtype == KN_DT_I32 ? " i32" : "");
    if (v->kind == KN_VAL_PARAM && !v->trainable) fputs(" frozen", f);
    if (v->kind == KN_VAL_CONST) fprintf(f, " = %g", v->fill);
    fputc('\n', f);
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    fputs("  ", f);
    for (int j = 0; j < n->n_out; j++) fprintf(f, "%s%%%d", j ? ", " : "", n->out[j]);
    if (n->n_out) fputs(" = ", f);
    fprintf(f, "%s(", kn_op_table[n->op].name);
    for (int j = 0; j < n->n_in; j++) fprintf(f, "%s%%%d", j ? ", " : "", n->in[j]);
    fputc(')', f);
    print_attrs(n, f);
    fprintf(f, "  ; %s", n->name);
    if (n->n_out) fprintf(f, " %s", kn_shape_str(g->vals[n->out[0]].shape, buf));
    if (n->frozen) fputs(" frozen", f);
    fputc('\n', f);
  }
  fputs("}\n", f);
}

/* DOT identifiers and labels: quote everything and escape quotes and backslashes. */
static void dot_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

/* Kernel groups (kn_node.kernel, compiler/passes/kernel_groups.h): *last[i] whether live node i
 * ends its kernel (a node alone always does); returns the kernels' emission index per node, the
 * order kn_kernels_build and the CPU backend's kn_kern<i>_<op> functions use (by last node). */
static int *dot_kernel_index(const kn_graph *g, bool **last) {
  int maxk = 0;
  for (int i = 0; i < g->n_nodes; i++) maxk = g->nodes[i].kernel > maxk ? g->nodes[i].kernel : maxk;
  int *glast = kn_xmalloc((size_t)(maxk + 1) * sizeof *glast), *idx = kn_xmalloc((size_t)(g->n_nodes + 1) * sizeof *idx);
  *last = kn_xcalloc((size_t)(g->n_nodes + 1), sizeof **last);
  for (int k = 0; k <= maxk; k++) glast[k] = -1;
  for (int i = 0; i < g->n_nodes; i++)
    if (!g->nodes[i].dead && g->nodes[i].kernel > 0) glast[g->nodes[i].kernel] = i;
  int n = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *nd = &g->nodes[i];
    if (nd->dead) continue;
    (*last)[i] = nd->kernel <= 0 || glast[nd->kernel] == i;
    if ((*last)[i]) idx[i] = n++;
  }
  for (int i = 0; i < g->n_nodes; i++) /* members take their kernel's index */
    if (!g->nodes[i].dead && g->nodes[i].kernel > 0) idx[i] = idx[glast[g->nodes[i].kernel]];
  free(glast);
  return idx;
}

void kn_graph_print_dot(const kn_graph *g, FILE *f) {
  char buf[64];
  bool *last;
  int *kidx = dot_kernel_index(g, &last);
  int open_group = 0;
  fputs("digraph ", f);
  dot_str(f, g->name);
  fputs(" {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];\n", f);
  for (int i = 0; i < g->n_vals; i++) {
    const kn_value *v = &g->vals[i];
    if (v->producer >= 0 || v->kind == KN_VAL_PARAM || v->kind == KN_VAL_STATE) continue;
    fprintf(f, "  v%d [shape=ellipse, label=", i);
    char lbl[512];
    snprintf(lbl, sizeof lbl, "%s %s", v->name, kn_shape_str(v->shape, buf));
    dot_str(f, lbl);
    fputs("];\n", f);
  }
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    if (n->kernel > 0 && n->kernel != open_group) { /* a kernel group: one cluster, named like its function */
      open_group = n->kernel;
      fprintf(f, "  subgraph cluster_k%d {\n    style=\"rounded,dashed\"; color=\"#3070b0\"; fontsize=10; label=\"kn_kern%d_%s (",
              n->kernel, kidx[i], kn_op_table[n->op].name);
      for (int j = i, first = 1; j < g->n_nodes; j++) {
        if (g->nodes[j].dead || g->nodes[j].kernel != n->kernel) continue;
        fprintf(f, "%s%s", first ? "" : "+", kn_op_table[g->nodes[j].op].name);
        first = 0;
      }
      fputs(")\";\n", f);
    }
    char lbl[512];
    snprintf(lbl, sizeof lbl, "%s\\n%s%s%s", n->name, kn_op_table[n->op].name, n->n_out ? " " : "",
             n->n_out ? kn_shape_str(g->vals[n->out[0]].shape, buf) : "");
    fprintf(f, "  n%d [shape=box, style=\"rounded%s\", label=\"", i, n->frozen ? ",filled" : "");
    for (const char *s = lbl; *s; s++) {
      if (*s == '"') fputc('\\', f);
      fputc(*s, f);
    }
    fputs("\"];\n", f);
    for (int j = 0; j < n->n_in; j++) {
      const kn_value *v = &g->vals[n->in[j]];
      if (v->kind == KN_VAL_PARAM || v->kind == KN_VAL_STATE) continue;
      if (v->producer >= 0) fprintf(f, "  n%d -> n%d;\n", v->producer, i);
      else fprintf(f, "  v%d -> n%d;\n", v->id, i);
    }
    if (n->kernel > 0 && last[i]) {
      fputs("  }\n", f);
      open_group = 0;
    }
  }
  fputs("}\n", f);
  free(kidx);
  free(last);
}
