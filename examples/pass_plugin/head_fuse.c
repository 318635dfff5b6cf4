/* head_fuse.c — an example kiln pass plugin (include/kiln/pass_plugin.h, docs/fusion.md "Write your
 * own fusion pass"): the pass `head` puts a classifier head's `linear` into the kernel of the
 * `global_avgpool` that feeds it, a pattern kiln's built-in passes leave alone (eltwise ends its
 * chains at the pool; epilogue starts its groups at a conv or linear, never before one).
 *
 * Build against an installed kiln header set and use it:
 *   cc -shared -fPIC -I PREFIX/include head_fuse.c -o libhead_fuse.so
 *   kiln compile --load-pass=./libhead_fuse.so -O2 --stats model.yaml   # runs after `eltwise`
 *   kiln dump --load-pass=./libhead_fuse.so --passes=head model.yaml    # only this pass
 * (-DHEAD_FUSE_ABI=N builds it for another ABI number: kiln must refuse it; tests/plugin.) */
#include <string.h>

#include <kiln/pass_plugin.h>

#ifndef HEAD_FUSE_ABI
#define HEAD_FUSE_ABI KILN_PASS_PLUGIN_ABI
#endif

static int run_head(kiln_graph *g, const kiln_api *api) {
  for (int n = 0; n < api->node_count(g); n++) {
    if (!api->node_live(g, n) || api->node_is_backward(g, n) || strcmp(api->node_op(g, n), "linear")) continue;
    int x = api->node_input(g, n, 0), pool = api->value_producer(g, x);
    if (pool < 0 || strcmp(api->node_op(g, pool), "global_avgpool")) continue;
    /* kiln's chain rule: a forward value continues only into its single forward reader (a saved
     * activation's backward readers read the copy the kernel writes through). */
    if (api->value_next_user(g, x) != n || !api->kernels_can_join(g, pool, n)) continue;
    n = api->kernels_join(g, n, pool); /* ids inside the span change: continue from the new one */
  }
  return api->verify(g); /* not required (kiln verifies after every plugin pass), but cheap */
}

static const kiln_pass passes[] = {
    {"head", run_head, KILN_PASS_BOTH, "eltwise",
     "after eltwise, which may have grouped the pool with the ReLU before it: the classifier's "
     "linear joins the kernel of the global_avgpool that feeds it"},
};

static const kiln_pass_plugin plugin = {HEAD_FUSE_ABI, "head_fuse", 1, passes};

const kiln_pass_plugin *kiln_pass_plugin_init(void) { return &plugin; }
