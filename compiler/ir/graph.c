/* graph.c — building, cloning, compacting and disposing graphs; attribute accessors. */
#include <stdlib.h>
#include <string.h>

#include "../support/util.h"
#include "ir.h"

kn_shape kn_shape1(int64_t a) { return (kn_shape){1, {a, 0, 0, 0}}; }
kn_shape kn_shape2(int64_t a, int64_t b) { return (kn_shape){2, {a, b, 0, 0}}; }
kn_shape kn_shape4(int64_t n, int64_t c, int64_t h, int64_t w) { return (kn_shape){4, {n, c, h, w}}; }

int64_t kn_shape_numel(kn_shape s) {
  int64_t n = 1;
  for (int i = 0; i < s.rank; i++)
    if (__builtin_mul_overflow(n, s.d[i], &n)) return INT64_MAX;
  return n;
}

bool kn_shape_eq(kn_shape a, kn_shape b) {
  if (a.rank != b.rank) return false;
  for (int i = 0; i < a.rank; i++)
    if (a.d[i] != b.d[i]) return false;
  return true;
}

char *kn_shape_str(kn_shape s, char *buf) {
  char *p = buf;
  *p++ = '[';
  for (int i = 0; i < s.rank; i++) p += sprintf(p, i ? ", %lld" : "%lld", (long long)s.d[i]);
  *p++ = ']';
  *p = 0;
  return buf;
}

kn_graph *kn_graph_create(const char *name) {
  kn_graph *g = kn_xcalloc(1, sizeof *g);
  g->name = kn_xstrdup(name ? name : "model");
  g->input = g->labels = g->output = g->loss = g->lr = g->step = -1;
  return g;
}

void kn_graph_dispose(kn_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->n_vals; i++) free(g->vals[i].name);
  for (int i = 0; i < g->n_nodes; i++) free(g->nodes[i].name);
  free(g->vals);
  free(g->nodes);
  free(g->name);
  free(g);
}

kn_graph *kn_graph_clone(const kn_graph *g) {
  kn_graph *c = kn_xmalloc(sizeof *c);
  *c = *g;
  c->name = kn_xstrdup(g->name);
  c->vals = kn_xmalloc((size_t)(g->cap_vals ? g->cap_vals : 1) * sizeof *c->vals);
  c->nodes = kn_xmalloc((size_t)(g->cap_nodes ? g->cap_nodes : 1) * sizeof *c->nodes);
  if (g->n_vals) memcpy(c->vals, g->vals, (size_t)g->n_vals * sizeof *c->vals);
  if (g->n_nodes) memcpy(c->nodes, g->nodes, (size_t)g->n_nodes * sizeof *c->nodes);
  for (int i = 0; i < c->n_vals; i++) c->vals[i].name = kn_xstrdup(g->vals[i].name);
  for (int i = 0; i < c->n_nodes; i++) c->nodes[i].name = kn_xstrdup(g->nodes[i].name);
  return c;
}

kn_graph *kn_graph_inference_clone(const kn_graph *fwd) {
  kn_graph *g = kn_graph_clone(fwd);
  for (int i = 0; i < g->n_nodes; i++)
    if (g->nodes[i].op == KN_OP_NLL_LOSS) g->nodes[i].dead = true;
  g->loss = -1;
  g->labels = -1;
  kn_graph_compact(g);
  return g;
}

int kn_graph_add_value(kn_graph *g, const char *name, kn_value_kind kind, kn_dtype dt, kn_shape s) {
  if (g->n_vals == g->cap_vals) {
    g->cap_vals = g->cap_vals ? 2 * g->cap_vals : 64;
    g->vals = kn_xrealloc(g->vals, (size_t)g->cap_vals * sizeof *g->vals);
  }
  kn_value *v = &g->vals[g->n_vals];
  memset(v, 0, sizeof *v);
  v->id = g->n_vals;
  v->name = kn_xstrdup(name ? name : "");
  v->kind = kind;
  v->dtype = dt;
  v->shape = s;
  v->producer = -1;
  v->grad_of = -1;
  return g->n_vals++;
}

int kn_graph_add_input(kn_graph *g, const char *name, kn_dtype dt, kn_shape s) {
  return kn_graph_add_value(g, name, KN_VAL_INPUT, dt, s);
}

int kn_graph_add_param(kn_graph *g, const char *name, kn_shape s, kn_init_kind init) {
  int id = kn_graph_add_value(g, name, KN_VAL_PARAM, KN_DT_F32, s);
  g->vals[id].trainable = true;
  g->vals[id].init = init;
  return id;
}

int kn_graph_add_state(kn_graph *g, const char *name, kn_shape s, kn_init_kind init) {
  int id = kn_graph_add_value(g, name, KN_VAL_STATE, KN_DT_F32, s);
  g->vals[id].init = init;
  return id;
}

int kn_graph_add_const(kn_graph *g, const char *name, kn_shape s, float fill) {
  int id = kn_graph_add_value(g, name, KN_VAL_CONST, KN_DT_F32, s);
  g->vals[id].fill = fill;
  return id;
}

kn_node *kn_graph_add_node(kn_graph *g, kn_op op, const char *name, const int *in, int n_in, kn_loc loc) {
  KN_ASSERT(n_in >= 0 && n_in <= KN_MAX_IN);
  if (g->n_nodes == g->cap_nodes) {
    g->cap_nodes = g->cap_nodes ? 2 * g->cap_nodes : 64;
    g->nodes = kn_xrealloc(g->nodes, (size_t)g->cap_nodes * sizeof *g->nodes);
  }
  kn_node *n = &g->nodes[g->n_nodes];
  memset(n, 0, sizeof *n);
  n->id = g->n_nodes++;
  n->op = op;
  n->name = kn_xstrdup(name ? name : "");
  for (int i = 0; i < n_in; i++) n->in[i] = in[i];
  n->n_in = n_in;
  n->loc = loc;
  n->fwd = -1;
  return n;
}

int kn_graph_emit(kn_graph *g, kn_op op, const char *name, const int *in, int n_in, kn_loc loc, kn_diag *d) {
  kn_node *n = kn_graph_add_node(g, op, name, in, n_in, loc);
  return kn_node_infer(g, n, d) ? n->id : -1;
}

kn_value *kn_val(kn_graph *g, int id) {
  KN_ASSERT(id >= 0 && id < g->n_vals);
  return &g->vals[id];
}

kn_node *kn_node_at(kn_graph *g, int id) {
  KN_ASSERT(id >= 0 && id < g->n_nodes);
  return &g->nodes[id];
}

int kn_graph_find_value(const kn_graph *g, const char *name) {
  for (int i = 0; i < g->n_vals; i++)
    if (strcmp(g->vals[i].name, name) == 0) return i;
  return -1;
}

/* ---- attributes ---- */
static void mark(kn_node *n, kn_attr_id a) {
  KN_ASSERT(a >= 0 && a < KN_NUM_ATTRS);
  n->attr_set |= 1u << a;
}

void kn_node_set_int(kn_node *n, kn_attr_id a, int64_t v) {
  mark(n, a);
  n->attr[a].i[0] = v;
  n->attr[a].i[1] = v;
  n->attr[a].n = 1;
}

void kn_node_set_pair(kn_node *n, kn_attr_id a, int64_t h, int64_t w) {
  mark(n, a);
  n->attr[a].i[0] = h;
  n->attr[a].i[1] = w;
  n->attr[a].n = 2;
}

void kn_node_set_float(kn_node *n, kn_attr_id a, double v) {
  mark(n, a);
  n->attr[a].f = v;
}

void kn_node_set_ints(kn_node *n, kn_attr_id a, const int64_t *v, int count) {
  KN_ASSERT(count >= 0 && count <= KN_MAX_RANK);
  mark(n, a);
  for (int i = 0; i < count; i++) n->attr[a].i[i] = v[i];
  n->attr[a].n = count;
}

void kn_node_set_shape(kn_node *n, kn_attr_id a, kn_shape s) { kn_node_set_ints(n, a, s.d, s.rank); }

int64_t kn_node_int(const kn_node *n, kn_attr_id a) {
  if (n->attr_set & (1u << a)) return n->attr[a].i[0];
  return (int64_t)kn_attr_table[a].def;
}

int64_t kn_node_pair(const kn_node *n, kn_attr_id a, int which) {
  if (n->attr_set & (1u << a)) return n->attr[a].i[which ? 1 : 0];
  return (int64_t)kn_attr_table[a].def;
}

double kn_node_float(const kn_node *n, kn_attr_id a) {
  if (n->attr_set & (1u << a)) return n->attr[a].f;
  return kn_attr_table[a].def;
}

kn_shape kn_node_shape_attr(const kn_node *n, kn_attr_id a) {
  kn_shape s = {0, {0, 0, 0, 0}};
  if (!(n->attr_set & (1u << a))) return s;
  s.rank = n->attr[a].n;
  for (int i = 0; i < s.rank; i++) s.d[i] = n->attr[a].i[i];
  return s;
}

void kn_node_copy_attrs(kn_node *dst, const kn_node *src) {
  memcpy(dst->attr, src->attr, sizeof dst->attr);
  dst->attr_set = src->attr_set;
}

/* ---- analysis helpers ---- */
void kn_graph_count_uses(const kn_graph *g, int *counts) {
  memset(counts, 0, (size_t)g->n_vals * sizeof *counts);
  for (int i = 0; i < g->n_nodes; i++) {
    const kn_node *n = &g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->n_in; j++) counts[n->in[j]]++;
  }
}

void kn_graph_count_params(const kn_graph *g, int64_t *total, int64_t *trainable) {
  int64_t t = 0, tr = 0;
  for (int i = 0; i < g->n_vals; i++) {
    const kn_value *v = &g->vals[i];
    if (v->kind != KN_VAL_PARAM) continue;
    int64_t n = kn_shape_numel(v->shape);
    t += n;
    if (v->trainable) tr += n;
  }
  *total = t;
  *trainable = tr;
}

void kn_graph_compact(kn_graph *g) {
  int *uses = kn_xcalloc((size_t)g->n_vals, sizeof *uses);
  kn_graph_count_uses(g, uses);
  int *vmap = kn_xmalloc((size_t)g->n_vals * sizeof *vmap);
  int *nmap = kn_xmalloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof *nmap);
  const int well_known[] = {g->input, g->labels, g->output, g->loss, g->lr, g->step};
  /* A value survives if it is used, persistent, well known, or produced by a live node. */
  int nv = 0;
  for (int i = 0; i < g->n_vals; i++) {
    kn_value *v = &g->vals[i];
    bool keep = uses[i] > 0 || v->kind == KN_VAL_PARAM || v->kind == KN_VAL_STATE;
    for (int k = 0; k < 6; k++) keep |= well_known[k] == i;
    if (v->producer >= 0 && !g->nodes[v->producer].dead) keep = true;
    if (v->producer >= 0 && g->nodes[v->producer].dead && uses[i] > 0) keep = true; /* verifier reports */
    if (!keep) {
      vmap[i] = -1;
      free(v->name);
      continue;
    }
    vmap[i] = nv;
    g->vals[nv] = *v;
    g->vals[nv].id = nv;
    nv++;
  }
  int nn = 0;
  for (int i = 0; i < g->n_nodes; i++) {
    kn_node *n = &g->nodes[i];
    if (n->dead) {
      nmap[i] = -1;
      free(n->name);
      continue;
    }
    nmap[i] = nn;
    g->nodes[nn] = *n;
    g->nodes[nn].id = nn;
    nn++;
  }
  for (int i = 0; i < nn; i++) {
    kn_node *n = &g->nodes[i];
    for (int j = 0; j < n->n_in; j++) n->in[j] = vmap[n->in[j]];
    for (int j = 0; j < n->n_out; j++) n->out[j] = vmap[n->out[j]];
    if (n->fwd >= 0) n->fwd = nmap[n->fwd];
  }
  for (int i = 0; i < nv; i++) {
    kn_value *v = &g->vals[i];
    if (v->producer >= 0) v->producer = nmap[v->producer];
    if (v->grad_of >= 0) v->grad_of = vmap[v->grad_of];
  }
  int *wk[] = {&g->input, &g->labels, &g->output, &g->loss, &g->lr, &g->step};
  for (int k = 0; k < 6; k++)
    if (*wk[k] >= 0) *wk[k] = vmap[*wk[k]];
  g->n_vals = nv;
  g->n_nodes = nn;
  free(uses);
  free(vmap);
  free(nmap);
}
