/* kiln/pass_plugin.h — the C API for graph passes loaded into kiln at compile time.
 *
 * A pass plugin is a shared library that kiln loads with dlopen:
 *
 *   kiln compile --load-pass=./libmyfuse.so -O2 --stats model.yaml     # runs where it asks (`after`)
 *   kiln compile --load-pass=./libmyfuse.so --passes=cse,dce,myfuse model.yaml
 *
 * It includes only this header (installed by `cmake --install` as <prefix>/include/kiln/), links
 * against nothing of kiln, and exports one function, kiln_pass_plugin_init, returning a static
 * description of its passes. Each pass gets the graph as an opaque handle and this API as a table
 * of functions; it reads nodes and values, puts nodes into kernel groups (the way every fusion
 * pass of kiln works: the math of the graph never changes, see docs/fusion.md) and reports
 * problems as diagnostics.
 *
 *   #include <kiln/pass_plugin.h>
 *
 *   static int run(kiln_graph *g, const kiln_api *api) {
 *     for (int n = 0; n < api->node_count(g); n++) {
 *       if (!api->node_live(g, n) || strcmp(api->node_op(g, n), "linear")) continue;
 *       int src = api->value_producer(g, api->node_input(g, n, 0));
 *       if (src >= 0 && api->kernels_can_join(g, src, n)) n = api->kernels_join(g, n, src);
 *     }
 *     return 1;                         // 0 = failed (after api->error(...))
 *   }
 *   static const kiln_pass passes[] = {{"head", run, KILN_PASS_BOTH, "eltwise", "why it sits there"}};
 *   static const kiln_pass_plugin plugin = {KILN_PASS_PLUGIN_ABI, "myfuse", 1, passes};
 *   const kiln_pass_plugin *kiln_pass_plugin_init(void) { return &plugin; }
 *
 * Versioning: KILN_PASS_PLUGIN_ABI changes whenever a struct below or the meaning of a function
 * changes incompatibly; kiln refuses a plugin built for another number with a message naming
 * both. Functions are only ever appended to kiln_api (api->size says how many bytes kiln filled),
 * so a plugin may test `api->size > offsetof(kiln_api, f)` before using a newer one.
 *
 * Ids: node ids are 0 .. node_count-1 in execution order, dead nodes included (skip them with
 * node_live); value ids 0 .. value_count-1. kernels_join renumbers the nodes inside the joined
 * span (value ids never change): continue from the id it returns.
 */
#ifndef KILN_PASS_PLUGIN_H
#define KILN_PASS_PLUGIN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_PASS_PLUGIN_ABI 1

typedef struct kiln_graph kiln_graph; /* opaque: one graph being compiled */

/* Which graphs a pass runs on. */
enum { KILN_PASS_INFER = 1, KILN_PASS_TRAIN = 2, KILN_PASS_BOTH = 3 };

/* value_kind results */
enum { KILN_VALUE_INPUT, KILN_VALUE_PARAM, KILN_VALUE_STATE, KILN_VALUE_CONST, KILN_VALUE_ACT };

typedef struct kiln_api {
  uint32_t abi;  /* KILN_PASS_PLUGIN_ABI of the kiln running the plugin */
  uint32_t size; /* sizeof(kiln_api) of that kiln */

  /* ---- the graph ---- */
  const char *(*graph_name)(const kiln_graph *g);
  int (*graph_is_training)(const kiln_graph *g); /* 1: the training step (backward and updates) */
  int (*node_count)(const kiln_graph *g);
  int (*node_live)(const kiln_graph *g, int node);        /* 0 for a node a pass removed */
  const char *(*node_op)(const kiln_graph *g, int node);   /* "conv2d", "relu", ... (docs/spec.md) */
  const char *(*node_name)(const kiln_graph *g, int node); /* scope, e.g. "layer1.0.conv1" */
  int (*node_is_backward)(const kiln_graph *g, int node);  /* built by autodiff (gradient/update) */
  int (*node_input_count)(const kiln_graph *g, int node);
  int (*node_input)(const kiln_graph *g, int node, int i); /* value id */
  int (*node_output_count)(const kiln_graph *g, int node);
  int (*node_output)(const kiln_graph *g, int node, int i);
  /* An attribute by its spec key ("stride", "training", ...): 1 and *out set when the op has it
   * (integer and boolean attributes as integers; the first element of a pair), else 0. */
  int (*node_attr_int)(const kiln_graph *g, int node, const char *key, int64_t *out);
  int (*value_count)(const kiln_graph *g);
  const char *(*value_name)(const kiln_graph *g, int value);
  int (*value_kind)(const kiln_graph *g, int value);     /* KILN_VALUE_* */
  int (*value_rank)(const kiln_graph *g, int value);
  int64_t (*value_dim)(const kiln_graph *g, int value, int axis);
  int (*value_producer)(const kiln_graph *g, int value); /* node id, -1 for inputs/params/... */
  int (*value_user_count)(const kiln_graph *g, int value); /* live readers */
  int (*value_user)(const kiln_graph *g, int value, int i); /* i-th reader, ascending node id */
  /* Where a fusion chain from `value` may continue (kiln's own rule, docs/fusion.md): its single
   * forward reader for a forward value, its first reader for a backward value; -1 when none. */
  int (*value_next_user)(const kiln_graph *g, int value);

  /* ---- kernel groups (docs/fusion.md, "Representation") ---- */
  int (*node_kernel)(const kiln_graph *g, int node); /* 0: a kernel of its own, k > 0: group k */
  int (*kernels_count)(const kiln_graph *g);
  /* 1 when the groups of nodes a and b could form one legal group (contiguous, no update). */
  int (*kernels_can_join)(const kiln_graph *g, int a, int b);
  /* Joins them (call kernels_can_join first: joining an illegal pair is an internal error);
   * returns the new id of node a. */
  int (*kernels_join)(kiln_graph *g, int a, int b);
  /* 1 when `value` (defined in a group) must be written to memory: read outside its group, or a
   * result the caller reads. */
  int (*value_materialised)(const kiln_graph *g, int value);

  /* ---- verifier and diagnostics ---- */
  /* The IR verifier and the kernel-group verifier: 1 when the graph is well formed, else 0 with
   * its findings added as diagnostics. */
  int (*verify)(kiln_graph *g);
  /* Diagnostics printed by kiln like its own ("file:line:col: error: message (hint)"); node >= 0
   * gives the spec location of that node, -1 none; hint may be NULL. An error makes the compile
   * fail once the pass returns. */
  void (*error)(kiln_graph *g, int node, const char *hint, const char *message);
  void (*warning)(kiln_graph *g, int node, const char *hint, const char *message);
  void (*note)(kiln_graph *g, int node, const char *message);
} kiln_api;

typedef struct kiln_pass {
  const char *name; /* a new pass name, [a-z0-9_]; used in --passes, --disable-pass, --print-after */
  int (*run)(kiln_graph *g, const kiln_api *api); /* 1 = done, 0 = failed (report an error first) */
  unsigned modes;   /* KILN_PASS_INFER, _TRAIN or _BOTH */
  /* In the -O2/-O3 pipelines, run right after this built-in pass ("eltwise", ...); NULL: only
   * when named in --passes. */
  const char *after;
  const char *why;  /* one line for `kiln compile --help` style listings and --stats */
} kiln_pass;

typedef struct kiln_pass_plugin {
  uint32_t abi;     /* KILN_PASS_PLUGIN_ABI the plugin was built against */
  const char *name; /* the plugin's name, for messages */
  int n_passes;
  const kiln_pass *passes;
} kiln_pass_plugin;

/* The one symbol a plugin exports. */
typedef const kiln_pass_plugin *(*kiln_pass_plugin_init_fn)(void);
#define KILN_PASS_PLUGIN_INIT "kiln_pass_plugin_init"
const kiln_pass_plugin *kiln_pass_plugin_init(void);

#ifdef __cplusplus
}
#endif

#endif
