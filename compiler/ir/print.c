/* print.c — the text and Graphviz DOT printers of a graph (kiln dump). */
#include <string.h>

#include "ir.h"

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

void kn_graph_print_dot(const kn_graph *g, FILE *f) {
  char buf[64];
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
  }
  fputs("}\n", f);
}
