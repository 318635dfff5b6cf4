/* pass_plugin.c — pass plugins (include/kiln/pass_plugin.h): dlopen, the ABI check, the registry
 * of plugin passes, and the kiln_api table that gives a plugin the graph, kernel groups, the
 * verifier and diagnostics. Each api function is a thin adapter over the IR (ir.h) and the
 * kernel-group helpers (kernel_groups.h, pass_util.h); ids are checked, so a plugin passing a
 * wrong id gets an error diagnostic and -1/0, not a crash. */
#include "pass_plugin.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_groups.h"
#include "kiln/pass_plugin.h"
#include "pass_util.h"
#include "util.h"

#define KN_PLUGIN_MAX_PASSES (KN_PASS_MAX - KN_PASS_COUNT)

typedef struct {
  kn_pass_info info;
  const kiln_pass *pass;
  int after; /* built-in pass id or -1 */
  char *plugin_path;
} kn_plugin_pass;

static kn_plugin_pass passes[KN_PLUGIN_MAX_PASSES];
static int n_passes;

/* The graph handle a plugin sees. */
struct kiln_graph {
  kn_graph *g;
  kn_diag *d;
  kn_uses u;
  bool uses_ok;
};

static bool node_ok(const kiln_graph *h, int n) { return n >= 0 && n < h->g->n_nodes; }
static bool value_ok(const kiln_graph *h, int v) { return v >= 0 && v < h->g->n_vals; }
static const kn_uses *uses(const kiln_graph *hc) {
  kiln_graph *h = (kiln_graph *)hc;
  if (!h->uses_ok) {
    kn_uses_build(h->g, &h->u);
    h->uses_ok = true;
  }
  return &h->u;
}
static void bad_id(const kiln_graph *h, const char *what, int id) {
  kn_diag_error(h->d, (kn_loc){0}, "a bug in the plugin", "pass plugin: %s id %d out of range", what, id);
}

static const char *graph_name(const kiln_graph *h) { return h->g->name ? h->g->name : ""; }
static int graph_is_training(const kiln_graph *h) {
  for (int i = 0; i < h->g->n_nodes; i++)
    if (!h->g->nodes[i].dead && kn_node_is_backward(&h->g->nodes[i])) return 1;
  return 0;
}
static int node_count(const kiln_graph *h) { return h->g->n_nodes; }
static int node_live(const kiln_graph *h, int n) { return node_ok(h, n) && !h->g->nodes[n].dead; }
static const char *node_op(const kiln_graph *h, int n) {
  if (!node_ok(h, n)) return bad_id(h, "node", n), "";
  return kn_op_table[h->g->nodes[n].op].name;
}
static const char *node_name(const kiln_graph *h, int n) {
  if (!node_ok(h, n)) return bad_id(h, "node", n), "";
  return h->g->nodes[n].name ? h->g->nodes[n].name : "";
}
static int node_is_backward(const kiln_graph *h, int n) { return node_ok(h, n) && kn_node_is_backward(&h->g->nodes[n]); }
static int node_input_count(const kiln_graph *h, int n) { return node_ok(h, n) ? h->g->nodes[n].n_in : 0; }
static int node_input(const kiln_graph *h, int n, int i) {
  if (!node_ok(h, n) || i < 0 || i >= h->g->nodes[n].n_in) return bad_id(h, "node input", i), -1;
  return h->g->nodes[n].in[i];
}
static int node_output_count(const kiln_graph *h, int n) { return node_ok(h, n) ? h->g->nodes[n].n_out : 0; }
static int node_output(const kiln_graph *h, int n, int i) {
  if (!node_ok(h, n) || i < 0 || i >= h->g->nodes[n].n_out) return bad_id(h, "node output", i), -1;
  return h->g->nodes[n].out[i];
}
static int node_attr_int(const kiln_graph *h, int n, const char *key, int64_t *out) {
  int a = key ? kn_attr_lookup(key) : -1;
  if (!node_ok(h, n) || a < 0 || !(kn_op_table[h->g->nodes[n].op].attrs & (1u << a))) return 0;
  if (kn_attr_table[a].type == KN_ATYPE_FLOAT) return 0;
  *out = kn_node_int(&h->g->nodes[n], (kn_attr_id)a);
  return 1;
}
static int value_count(const kiln_graph *h) { return h->g->n_vals; }
static const char *value_name(const kiln_graph *h, int v) {
  if (!value_ok(h, v)) return bad_id(h, "value", v), "";
  return h->g->vals[v].name ? h->g->vals[v].name : "";
}
static int value_kind(const kiln_graph *h, int v) {
  if (!value_ok(h, v)) return bad_id(h, "value", v), -1;
  switch (h->g->vals[v].kind) {
  case KN_VAL_INPUT: return KILN_VALUE_INPUT;
  case KN_VAL_PARAM: return KILN_VALUE_PARAM;
  case KN_VAL_STATE: return KILN_VALUE_STATE;
  case KN_VAL_CONST: return KILN_VALUE_CONST;
  case KN_VAL_ACT: return KILN_VALUE_ACT;
  }
  return -1;
}
static int value_rank(const kiln_graph *h, int v) { return value_ok(h, v) ? h->g->vals[v].shape.rank : 0; }
static int64_t value_dim(const kiln_graph *h, int v, int axis) {
  if (!value_ok(h, v) || axis < 0 || axis >= h->g->vals[v].shape.rank) return 0;
  return h->g->vals[v].shape.d[axis];
}
static int value_producer(const kiln_graph *h, int v) { return value_ok(h, v) ? h->g->vals[v].producer : -1; }
static int value_user_count(const kiln_graph *h, int v) {
  if (!value_ok(h, v)) return 0;
  const kn_uses *u = uses(h);
  return u->start[v + 1] - u->start[v];
}
static int value_user(const kiln_graph *h, int v, int i) {
  if (!value_ok(h, v) || i < 0 || i >= value_user_count(h, v)) return bad_id(h, "value user", i), -1;
  return uses(h)->node[uses(h)->start[v] + i];
}
static int value_next_user(const kiln_graph *h, int v) { return value_ok(h, v) ? kn_next_user(h->g, uses(h), v) : -1; }
static int node_kernel(const kiln_graph *h, int n) { return node_ok(h, n) ? h->g->nodes[n].kernel : 0; }
static int kernels_count(const kiln_graph *h) { return kn_kernels_count(h->g); }
static int kernels_can_join(const kiln_graph *h, int a, int b) {
  return node_live(h, a) && node_live(h, b) && a != b && kn_kernels_can_join(h->g, a, b);
}
static int kernels_join(kiln_graph *h, int a, int b) {
  if (!kernels_can_join(h, a, b)) {
    kn_diag_error(h->d, (kn_loc){0}, "call kernels_can_join first", "pass plugin: nodes %d and %d cannot be joined", a, b);
    return a;
  }
  int r = kn_kernels_join(h->g, a, b);
  if (h->uses_ok) kn_uses_free(&h->u);
  h->uses_ok = false; /* node ids inside the span changed */
  return r;
}
static int value_materialised(const kiln_graph *h, int v) { return value_ok(h, v) && kn_kernels_materialised(h->g, v); }
static int verify(kiln_graph *h) { return kn_graph_verify(h->g, h->d) && kn_kernels_verify(h->g, h->d); }
static kn_loc loc_of(const kiln_graph *h, int n) { return node_ok(h, n) ? h->g->nodes[n].loc : (kn_loc){0}; }
static void error(kiln_graph *h, int n, const char *hint, const char *msg) { kn_diag_error(h->d, loc_of(h, n), hint, "%s", msg); }
static void warning(kiln_graph *h, int n, const char *hint, const char *msg) {
  kn_diag_warning(h->d, loc_of(h, n), hint, "%s", msg);
}
static void note(kiln_graph *h, int n, const char *msg) { kn_diag_note(h->d, loc_of(h, n), "%s", msg); }

static const kiln_api api = {
    KILN_PASS_PLUGIN_ABI, sizeof(kiln_api), graph_name, graph_is_training, node_count, node_live, node_op,
    node_name, node_is_backward, node_input_count, node_input, node_output_count, node_output, node_attr_int,
    value_count, value_name, value_kind, value_rank, value_dim, value_producer, value_user_count, value_user,
    value_next_user, node_kernel, kernels_count, kernels_can_join, kernels_join, value_materialised, verify,
    error, warning, note};

/* ---- loading ---- */
static bool name_ok(const char *s) {
  if (!s || !*s) return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
  return true;
}

bool kn_plugin_load(const char *path, kn_diag *d) {
  for (int i = 0; i < n_passes; i++)
    if (!strcmp(passes[i].plugin_path, path)) return true;
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *why = dlerror();
    kn_diag_error(d, (kn_loc){0}, strchr(path, '/') ? "check the path" : "give a path with a '/', e.g. ./libpass.so",
                  "--load-pass: cannot load '%s': %s", path, why ? why : "unknown error");
    return false;
  }
  kiln_pass_plugin_init_fn init;
  *(void **)&init = dlsym(h, KILN_PASS_PLUGIN_INIT);
  const kiln_pass_plugin *p = init ? init() : NULL;
  bool ok = false;
  if (!init)
    kn_diag_error(d, (kn_loc){0}, "a plugin exports kiln_pass_plugin_init (include/kiln/pass_plugin.h)",
                  "--load-pass: '%s' is not a kiln pass plugin", path);
  else if (!p)
    kn_diag_error(d, (kn_loc){0}, NULL, "--load-pass: '%s': kiln_pass_plugin_init returned NULL", path);
  else if (p->abi != KILN_PASS_PLUGIN_ABI)
    kn_diag_error(d, (kn_loc){0}, "rebuild the plugin against this kiln's include/kiln/pass_plugin.h",
                  "--load-pass: '%s' (%s) was built for pass-plugin ABI %u, this kiln has ABI %d", path,
                  p->name ? p->name : "?", p->abi, KILN_PASS_PLUGIN_ABI);
  else if (p->n_passes < 0 || (p->n_passes && !p->passes) || n_passes + p->n_passes > KN_PLUGIN_MAX_PASSES)
    kn_diag_error(d, (kn_loc){0}, NULL, "--load-pass: '%s': bad pass count %d (at most %d plugin passes)", path,
                  p->n_passes, KN_PLUGIN_MAX_PASSES);
  else {
    ok = true;
    for (int i = 0; i < p->n_passes && ok; i++) {
      const kiln_pass *q = &p->passes[i];
      int after = q->after ? kn_pass_lookup(q->after) : -1;
      if (!name_ok(q->name) || !q->run || (q->modes & ~3u) || !q->modes) {
        kn_diag_error(d, (kn_loc){0}, "names are [a-z0-9_], run is set, modes is KILN_PASS_INFER/TRAIN/BOTH",
                      "--load-pass: '%s': pass %d is malformed", path, i);
        ok = false;
      } else if (kn_pass_lookup(q->name) >= 0) {
        kn_diag_error(d, (kn_loc){0}, "rename the plugin's pass", "--load-pass: '%s': a pass named '%s' exists already",
                      path, q->name);
        ok = false;
      } else if (q->after && (after < 0 || after >= KN_PASS_COUNT)) {
        kn_diag_error(d, (kn_loc){0}, "name a built-in pass (kiln compile --help lists them)",
                      "--load-pass: '%s': pass '%s' asks to run after unknown pass '%s'", path, q->name, q->after);
        ok = false;
      }
    }
  }
  if (!ok) {
    dlclose(h);
    return false;
  }
  for (int i = 0; i < p->n_passes; i++) {
    const kiln_pass *q = &p->passes[i];
    kn_plugin_pass *r = &passes[n_passes++];
    r->pass = q;
    r->after = q->after ? kn_pass_lookup(q->after) : -1;
    r->plugin_path = kn_xstrdup(path);
    r->info = (kn_pass_info){q->name, NULL, false, q->modes, 2, q->why ? q->why : ""};
  }
  return true; /* the library stays loaded for the life of the process */
}

int kn_plugin_pass_count(void) { return n_passes; }
const kn_pass_info *kn_plugin_pass_info(int i) { return &passes[i].info; }
int kn_plugin_pass_after(int i) { return passes[i].after; }

bool kn_plugin_run(int i, kn_graph *g, kn_diag *d) {
  kiln_graph h = {g, d, {0}, false};
  bool had_errors = kn_diag_has_errors(d);
  int r = passes[i].pass->run(&h, &api);
  if (h.uses_ok) kn_uses_free(&h.u);
  return r && (had_errors || !kn_diag_has_errors(d));
}
