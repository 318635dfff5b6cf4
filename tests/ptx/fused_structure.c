/* fused_structure.c — structure checks of the GPU fusion (ptx_fuse.c) on small graphs, for
 * test_ptx_fused --structure: a training conv+bn+relu group is the conv launch, the BN statistics
 * launch and ONE fused launch, BN's output appears in no launch and the ReLU's is written; a
 * relu_grad+batchnorm2d_grad group is the sums launch (recomputing dy) and one fused launch with dy
 * in no launch; an inference conv+bn+relu whose ReLU output has two readers writes it; both graphs
 * equal the interpreter on the emulator; the PTX of every fused launch has no call, no local
 * memory and no program array left (the interpretation is folded away), and in inference
 * (bn+relu, add+relu) no branch but the grid-stride loop's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "emu.h"
#include "emu_bufs.h"
#include "interp_data.h"
#include "kernel_groups.h"
#include "pipeline.h"
#include "spec.h"
#include "util.h"

static void (*res)(bool, const char *);

static const char head[] = "name: fs\nlayers:\n"
                           "  - conv2d: {out_channels: 4, kernel: 3, padding: 1}\n"
                           "  - batchnorm2d:\n"
                           "  - relu:\n"
                           "    name: r0\n";
static const char tail_train[] = "  - conv2d: {out_channels: 4, kernel: 1}\n  - global_avgpool\n  - linear: {out_features: 10}\n  - log_softmax\n";
static const char tail_branch[] = "  - conv2d: {out_channels: 4, kernel: 1}\n    name: c1\n"
                                  "  - conv2d: {out_channels: 4, kernel: 3, padding: 1}\n    inputs: [r0]\n    name: c2\n"
                                  "  - add:\n    inputs: [c1, c2]\n"
                                  "  - relu\n  - global_avgpool\n  - linear: {out_features: 10}\n  - log_softmax\n";
static const char train_cfg[] = "train:\n  optimizer: {type: sgd, lr: 0.01, momentum: 0.9}\n  batch_size: 2\n"
                                "  epochs: 1\n  input_size: 6\n";

static kn_graph *graph(const char *tail, bool train, kn_spec **sp) {
  char *text = kn_fmt("%s%s%s", head, tail, train_cfg);
  kn_diag d;
  kn_diag_init(&d);
  kn_spec_options so = {0};
  kn_spec *s = kn_spec_load_string("fs.yaml", text, &so, &d);
  free(text);
  kn_graph *g = NULL;
  kn_pipeline_options po;
  kn_pipeline_options_init(&po);
  po.opt_level = 2;
  if (s) {
    g = train ? kn_graph_clone(s->graph) : kn_graph_inference_clone(s->graph);
    if ((train && !kn_autodiff(g, &s->train, NULL, &d)) ||
        !kn_pipeline_run(g, &po, train ? KN_PIPELINE_TRAIN : KN_PIPELINE_INFER, NULL, &d)) {
      kn_graph_dispose(g);
      g = NULL;
    }
  }
  if (!g) kn_diag_print(&d, stdout);
  kn_diag_free(&d);
  *sp = s;
  return g;
}

static bool in_call(const kn_ptx_call *c, int v) {
  for (int a = 0; a < c->n_p; a++)
    if (c->p[a] == v) return true;
  return false;
}
static bool in_any_call(const kn_ptx_program *p, int v) {
  for (int k = 0; k < p->n_calls; k++)
    if (in_call(&p->calls[k], v)) return true;
  return false;
}

/* The launches of the first conv2d's group, as "kernel kernel ..." into buf; the fused one in *fc. */
static void group_launches(const kn_graph *g, const kn_ptx_program *p, int conv, char *buf, size_t cap,
                           const kn_ptx_call **fc, const kn_node **bn, const kn_node **relu) {
  int *mem = kn_xmalloc((size_t)g->n_nodes * sizeof *mem), n = kn_kernels_members(g, conv, mem);
  buf[0] = 0;
  *fc = NULL;
  *bn = *relu = NULL;
  for (int j = 0; j < n; j++) {
    if (g->nodes[mem[j]].op == KN_OP_BATCHNORM2D) *bn = &g->nodes[mem[j]];
    if (g->nodes[mem[j]].op == KN_OP_RELU) *relu = &g->nodes[mem[j]];
  }
  for (int k = 0; k < p->n_calls; k++)
    for (int j = 0; j < n; j++)
      if (p->calls[k].node == mem[j]) {
        const char *name = p->calls[k].kernel;
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? " " : "",
                 !strncmp(name, "kn_gk_conv2d", 12) ? "conv" : name + 6);
        if (!strcmp(name, "kn_gk_fused")) *fc = &p->calls[k];
      }
  free(mem);
}

/* Runs g once on the emulator and in the interpreter; the loss (or output) must agree. */
static bool emu_equal(const kn_graph *g, const kn_ptx_program *p) {
  kn_interp *it = kn_interp_create(g);
  kn_interp_init_params(it, 3);
  kn_test_fill_inputs(g, it, 5);
  void **b = kn_test_emu_bufs(g, it);
  kn_interp_run(it);
  bool ok = true;
  for (int k = 0; ok && k < p->n_calls; k++) ok = kn_emu_run_call(&p->calls[k], b);
  int v = g->loss >= 0 ? g->loss : g->output;
  size_t n = (size_t)kn_shape_numel(g->vals[v].shape);
  for (size_t i = 0; ok && i < n; i++) {
    double want = kn_interp_f32(it, v)[i], got = ((float *)b[v])[i];
    ok = fabs(got - want) <= 1e-4 * (1 + fabs(want));
  }
  kn_test_emu_bufs_free(g, b);
  kn_interp_dispose(it);
  return ok;
}

/* The fused entry's PTX: one backward branch (grid stride), no local memory, program folded. */
static void check_ptx(const kn_graph *g) {
  kn_ptx_options o;
  kn_ptx_options_default(&o);
  kn_ptx_program *p = NULL;
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_ptx_compile_graph(g, &o, &p, &d);
  if (!ok) kn_diag_print(&d, stdout);
  int n_fused = 0, worst = 0;
  char what[256];
  for (int k = 0; ok && k < p->n_calls; k++) {
    const kn_ptx_call *fc = &p->calls[k];
    if (strncmp(fc->kernel, "kn_gk_fused", 11)) continue;
    bool sums = strcmp(fc->kernel, "kn_gk_fused") != 0; /* warp per channel: loops of its own */
    char key[64];
    snprintf(key, sizeof key, ".entry %s(", fc->entry);
    const char *s = strstr(p->ptx, key), *e = s ? strstr(s + 1, ".entry ") : NULL;
    size_t len = s ? (e ? (size_t)(e - s) : strlen(s)) : 0;
    char *body = kn_xmalloc(len + 1);
    memcpy(body, s ? s : "", len);
    body[len] = 0;
    int branches = 0;
    for (const char *q = body; (q = strstr(q, "bra")); q++) branches++;
    if (branches > worst && !sums) worst = branches;
    /* the grid-stride loop: a guard and one backward branch; no call, no local memory, no program */
    /* inference (bn+relu, add+relu): straight-line code in the grid-stride loop; relu_grad may
     * become a branch around a load, so in training only the folding criteria apply */
    ok = s && (sums || g->loss >= 0 || branches <= 2) && !strstr(body, ".local") && !strstr(body, "local_depot") && !strstr(body, "call") &&
         !strstr(body, "_$_i");
    if (getenv("KN_SHOW_PTX")) fputs(body, stdout);
    free(body);
    n_fused++;
  }
  snprintf(what, sizeof what,
           "PTX of the %d fused launches (%s): at most %d branches in kn_gk_fused; no call, no local memory, "
           "no program array (the interpretation is folded away)", n_fused, g->loss >= 0 ? "training" : "inference", worst);
  ok = ok && n_fused > 0;
  res(ok, what);
  kn_ptx_program_dispose(p);
  kn_diag_free(&d);
}

void kn_test_fused_structure(void (*result_fn)(bool, const char *));
void kn_test_fused_structure(void (*result_fn)(bool, const char *)) {
  res = result_fn;
  char buf[256], what[512];
  const kn_ptx_call *fc;
  const kn_node *bn, *relu;
  for (int train = 1; train >= 0; train--) {
    kn_spec *s;
    kn_graph *g = graph(train ? tail_train : tail_branch, train, &s);
    kn_ptx_options o;
    kn_ptx_options_default(&o);
    kn_ptx_program p = {0};
    kn_diag d;
    kn_diag_init(&d);
    bool ok = g && kn_ptx_lower_graph_ex(g, &o, &p, &d);
    if (ok) {
      int conv = -1, bng = -1;
      for (int i = 0; i < g->n_nodes; i++) {
        const kn_node *n = &g->nodes[i];
        if (!n->dead && n->op == KN_OP_CONV2D && conv < 0) conv = i;
        if (!n->dead && n->op == KN_OP_BATCHNORM2D_GRAD && g->vals[n->in[0]].producer >= 0 &&
            g->nodes[g->vals[n->in[0]].producer].op == KN_OP_RELU_GRAD && n->kernel &&
            g->nodes[g->vals[n->in[0]].producer].kernel == n->kernel)
          bng = i;
      }
      if (train) { /* relu_grad -> batchnorm2d_grad: the sums recompute dy, one fused launch */
        group_launches(g, &p, bng < 0 ? 0 : bng, buf, sizeof buf, &fc, &bn, &relu);
        const char *tail = "fused_bn_grad_sums fused";
        size_t lb = strlen(buf), lt = strlen(tail);
        snprintf(what, sizeof what, "training relu_grad+batchnorm2d_grad group: launches '%s' (want '... %s'), dy internal",
                 buf, tail);
        res(bng >= 0 && lb >= lt && !strcmp(buf + lb - lt, tail) && fc && fc->n_fused >= 2 &&
                !in_any_call(&p, g->nodes[bng].in[0]),
            what);
      }
      group_launches(g, &p, conv, buf, sizeof buf, &fc, &bn, &relu);
      const char *want = train ? "conv bn_stats fused" : "conv fused";
      snprintf(what, sizeof what, "%s conv+bn+relu group: launches '%s' (want '%s')", train ? "training" : "inference",
               buf, want);
      res(!strcmp(buf, want) && fc && fc->n_fused == 2, what);
      snprintf(what, sizeof what, "%s: BN output internal (in no launch), ReLU output%s written by the fused launch",
               train ? "training" : "inference", train ? " (saved for relu_grad)" : " (two readers)");
      res(fc && bn && relu && !in_any_call(&p, bn->out[0]) && in_call(fc, relu->out[0]), what);
      snprintf(what, sizeof what, "%s graph with fusion equals the interpreter on the emulator",
               train ? "training" : "inference");
      res(emu_equal(g, &p), what);
      check_ptx(g);
    } else {
      kn_diag_print(&d, stdout);
      res(false, "structure graphs");
    }
    free(p.calls);
    kn_diag_free(&d);
    kn_graph_dispose(g);
    kn_spec_dispose(s);
  }
}
