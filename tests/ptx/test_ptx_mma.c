/* test_ptx_mma.c — the tensor-core (tf32 and bf16 mma.sync) kernels of kernels/mma.c, without a
 * GPU.
 *
 * For every convolution and matrix product (conv2d and both gradients, linear and both
 * gradients) of op_graphs.c and a set of extra convolution shapes (several warp tiles, k-step
 * tails, groups, stride, padding, dilation, non-square kernels, 1x1), lowered with
 * KN_PTX_MATH_TF32 and with KN_PTX_MATH_BF16 and run on emulated warps (emu.c, whose mma follows
 * the PTX ISA fragment layouts of m16n8k8 tf32 and m16n8k16 bf16):
 *   - exact: operands not rounded (kn_emu_set_mma_exact): must match the interpreter to 1e-4 like
 *     the SIMT kernels. Any fragment-indexing error in the kernels (a swapped a1/a2, B read as
 *     row-major, a C element stored at the wrong place) gives errors of the order of the output;
 *   - rounded: operands rounded as cvt.rna.tf32.f32 / cvt.rn.bf16x2.f32 do: within 1e-2 (tf32) or
 *     3e-2 (bf16) of the output scale (below), and not bit-identical to the exact run (the rounding
 *     is really applied);
 *   - fp32 lowering: the SIMT kernels, 1e-4 (the exact path kept by --gpu-math=fp32).
 * Then the PTX of a convolution with the default options contains four
 * mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 per launch and cvt.rna.tf32.f32, with
 * KN_PTX_MATH_BF16 four mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 per launch (and no
 * tf32 one: the kernels' other branch folds away) and cvt.rn.bf16x2.f32, no local memory, and,
 * where ptxas is found, assembles for sm_80 and sm_90; with KN_PTX_MATH_FP32 it has no mma.
 * With --nodes SPEC: every conv/linear node of SPEC's training graph on its own (inputs from the
 * interpreter), exact mma 1e-4 (tf32 and bf16 kernels), tf32 1e-2 and bf16 3e-2 of the output
 * scale. With --model SPEC: three SGD
 * training steps of SPEC lowered with TF32 on emulated warps; loss and every parameter within
 * 5e-3 * (1 + |want|) of the interpreter (the tolerance of the GPU check's train_<model>_tf32
 * bundle, tests/gpu/gpu_gen.c; sample_resnet_tiny: 2.5e-4). Models whose batch-2 BatchNorms
 * amplify rounding (resnet50_tiny, resnet_attention_tiny) drift apart after the first step with
 * tf32 as they do, less, with fp32 (docs/gpu.md), so only --nodes is used for them. The same three
 * steps with BF16 within 4e-2 (8 times the tf32 tolerance, as bf16's unit roundoff is 8 times
 * tf32's; sample_resnet_tiny: 2.5e-2, its step-2 loss 1.4% off: the rounding of step 1's
 * gradients, amplified by the small-batch BatchNorms, while every node alone is within 7e-3).
 * Usage: test_ptx_mma [PTXAS] [--nodes SPEC]... [--model SPEC]... */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "emu_bufs.h"
#include "interp_data.h"
#include "op_graphs.h"
#include "ptxas_check.h"
#include "autodiff.h"
#include "spec.h"
#include "util.h"

static int passed, failed;

static void check(bool ok, const char *what, const char *detail) {
  if (ok) passed++;
  else {
    failed++;
    fprintf(stderr, "FAIL %s: %s\n", what, detail);
  }
}

/* tf32 tolerance. tf32 keeps 10 of float32's 23 mantissa bits and cvt.rna rounds to nearest, so
 * each operand has a relative error <= 2^-11 and each product <= ~2^-10; a sum of K products is
 * off by at most 2^-10 * sum_k |a_k b_k|, float32 accumulation adding only ~K * 2^-24. With
 * operands of one sign-mixed scale, sum_k |a_k b_k| is within a small factor of the largest
 * output, so errors stay well below 1e-2 of max|output| (measured here: ~1e-3 at most); a wrong
 * layout or a missing tap gives errors of the order of the output itself. PyTorch's own tests
 * accept tf32 convolutions at a similar relative 1e-2. */
#define KN_TF32_TOL 1e-2

/* bf16 tolerance. bf16 keeps 8 significant bits (7 stored) and cvt.rn rounds to nearest even, so
 * each operand has a relative error <= 2^-8 and each product <= ~2^-7: the same bound as tf32's
 * with 8 times the unit roundoff (2^-8 vs 2^-11). The tf32 errors measured here (<= ~1.1e-3 of the
 * output scale, also on the model nodes) times 8 give ~9e-3, so 3e-2 keeps a 3x margin while a
 * layout error (errors of the order of the output, i.e. ~1) still fails by far. Measured with
 * bf16: 1.4e-3 to 3.2e-3 on the cases here, at most 6.7e-3 on the nodes of the three tiny models. PyTorch's own
 * tests compare bf16 matrix products at a similar few-percent relative tolerance. */
#define KN_BF16_TOL 3e-2

static const kn_ptx_math mma_maths[] = {KN_PTX_MATH_TF32, KN_PTX_MATH_BF16};
static const char *math_name(kn_ptx_math m) {
  return m == KN_PTX_MATH_BF16 ? "bf16" : m == KN_PTX_MATH_TF32 ? "tf32" : "fp32";
}
static double math_tol(kn_ptx_math m) { return m == KN_PTX_MATH_BF16 ? KN_BF16_TOL : KN_TF32_TOL; }

/* max |got - want| / scale over value v, scale = max(max |want|, 1e-6). */
static double rel_err(const kn_graph *g, kn_interp *it, void **bufs, int v) {
  size_t n = (size_t)kn_shape_numel(g->vals[v].shape);
  const float *got = bufs[v], *want = kn_interp_f32(it, v);
  double scale = 1e-6, err = 0;
  for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)want[i]));
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)got[i] - want[i]);
    if (!(e <= err)) err = e; /* NaN (unwritten) propagates */
  }
  return err / scale;
}

static void reset_out(const kn_graph *g, void **bufs, int v) {
  size_t n = (size_t)kn_shape_numel(g->vals[v].shape);
  for (size_t i = 0; i < n; i++) ((float *)bufs[v])[i] = NAN;
}

/* Lowers node `node` of g with `math`; every launch of the node must use a kernel whose name ends
 * in "_mma" exactly when math is TF32 or BF16, whose last integer argument (bf16) is then 1 exactly
 * for BF16. Runs them; false if a kernel is unknown. */
static bool run(const kn_graph *g, int node, kn_ptx_math math, void **bufs, const char *what) {
  kn_diag d;
  kn_diag_init(&d);
  kn_ptx_program prog = {0};
  prog.math = math;
  bool ok = kn_ptx_lower_graph(g, &prog, &d);
  if (!ok) kn_diag_print(&d, stderr);
  for (int k = 0; ok && k < prog.n_calls; k++) {
    if (prog.calls[k].node != node) continue;
    const char *kn = prog.calls[k].kernel;
    size_t len = strlen(kn);
    bool mma = len > 4 && !strcmp(kn + len - 4, "_mma");
    if (mma != (math != KN_PTX_MATH_FP32) ||
        (mma && prog.calls[k].i[prog.calls[k].n_i - 1] != (math == KN_PTX_MATH_BF16))) {
      fprintf(stderr, "FAIL %s: kernel %s (bf16 argument) for math %s\n", what, kn, math_name(math));
      ok = false;
    }
    ok = ok && kn_emu_run_call(&prog.calls[k], bufs);
  }
  free(prog.calls);
  kn_diag_free(&d);
  return ok;
}

/* The three checks of the header on node `node` of g (one output). */
static void check_graph(kn_graph *g, int node, uint64_t seed, const char *what) {
  kn_interp *it = kn_interp_create(g);
  kn_interp_init_params(it, 7);
  kn_test_fill_inputs(g, it, seed);
  void **bufs = kn_test_emu_bufs(g, it);
  kn_interp_run_node(it, node);
  int y = g->nodes[node].out[0];
  char label[128];

  for (size_t m = 0; m < sizeof mma_maths / sizeof mma_maths[0]; m++) {
    kn_ptx_math math = mma_maths[m];
    snprintf(label, sizeof label, "%s exact-mma %s", what, math_name(math));
    kn_emu_set_mma_exact(true);
    reset_out(g, bufs, y);
    bool ok = run(g, node, math, bufs, label) && kn_test_emu_same(g, it, bufs, y, 1e-4, label);
    kn_emu_set_mma_exact(false);
    check(ok, label, "tensor-core kernel without rounding differs from the interpreter");
    float *exact = kn_xmalloc((size_t)kn_shape_numel(g->vals[y].shape) * 4);
    memcpy(exact, bufs[y], (size_t)kn_shape_numel(g->vals[y].shape) * 4);

    snprintf(label, sizeof label, "%s %s", what, math_name(math));
    reset_out(g, bufs, y);
    ok = run(g, node, math, bufs, label);
    double err = ok ? rel_err(g, it, bufs, y) : NAN;
    printf("%-40s %s error %.2e of the output scale\n", what, math_name(math), err);
    check(ok && err <= math_tol(math), label, "rounded result outside the tolerance");
    check(ok && memcmp(exact, bufs[y], (size_t)kn_shape_numel(g->vals[y].shape) * 4) != 0, label,
          "rounded result identical to the unrounded one (rounding not applied?)");
    free(exact);
  }

  snprintf(label, sizeof label, "%s fp32", what);
  reset_out(g, bufs, y);
  bool ok = run(g, node, KN_PTX_MATH_FP32, bufs, label) && kn_test_emu_same(g, it, bufs, y, 1e-4, label);
  check(ok, label, "SIMT kernel differs from the interpreter");

  kn_test_emu_bufs_free(g, bufs);
  kn_interp_dispose(it);
}

/* Convolution shapes beyond op_graphs.c's two variants. */
typedef struct {
  int64_t n, c, h, w, co, kh, kw, s, p, d, g;
  bool bias;
} kn_conv_case;

static const kn_conv_case conv_cases[] = {
    {3, 20, 9, 9, 24, 3, 3, 1, 1, 1, 2, true},  /* several tiles in M and N, K = 90 (k tail) */
    {2, 17, 7, 5, 33, 1, 1, 2, 0, 1, 1, false}, /* 1x1 stride 2, odd everything, M tail 33 */
    {2, 6, 11, 8, 9, 5, 3, 2, 2, 2, 3, true},   /* 5x3 kernel, stride 2, dilation 2, 3 groups */
    {1, 8, 6, 6, 8, 3, 3, 3, 1, 1, 8, false},   /* depthwise, stride 3 */
};

static int64_t conv_out(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

/* A one-node graph of `op` (conv2d, its input or weight gradient) with the shapes of cc. */
static kn_graph *conv_graph(kn_op op, const kn_conv_case *cc, int *node) {
  kn_graph *g = kn_graph_create(kn_op_table[op].name);
  int64_t oh = conv_out(cc->h, cc->kh, cc->s, cc->p, cc->d), ow = conv_out(cc->w, cc->kw, cc->s, cc->p, cc->d);
  int x = kn_graph_add_input(g, "x", KN_DT_F32, kn_shape4(cc->n, cc->c, cc->h, cc->w));
  int dy = kn_graph_add_input(g, "dy", KN_DT_F32, kn_shape4(cc->n, cc->co, oh, ow));
  int ins[3], n_in = 2;
  if (op == KN_OP_CONV2D_GRAD_WEIGHT) {
    ins[0] = dy;
    ins[1] = x;
  } else {
    int w = kn_graph_add_param(g, "w", kn_shape4(cc->co, cc->c / cc->g, cc->kh, cc->kw), KN_INIT_KAIMING_UNIFORM);
    ins[0] = op == KN_OP_CONV2D ? x : dy;
    ins[1] = w;
    if (op == KN_OP_CONV2D && cc->bias) ins[n_in++] = kn_graph_add_param(g, "b", kn_shape1(cc->co), KN_INIT_FAN_IN_UNIFORM);
  }
  kn_node *n = kn_graph_add_node(g, op, kn_op_table[op].name, ins, n_in, (kn_loc){0});
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, cc->co);
  kn_node_set_pair(n, KN_ATTR_KERNEL, cc->kh, cc->kw);
  kn_node_set_pair(n, KN_ATTR_STRIDE, cc->s, cc->s);
  kn_node_set_pair(n, KN_ATTR_PADDING, cc->p, cc->p);
  kn_node_set_pair(n, KN_ATTR_DILATION, cc->d, cc->d);
  kn_node_set_int(n, KN_ATTR_GROUPS, cc->g);
  if (op == KN_OP_CONV2D && cc->bias) kn_node_set_int(n, KN_ATTR_BIAS, 1);
  if (op == KN_OP_CONV2D_GRAD_INPUT) kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape4(cc->n, cc->c, cc->h, cc->w));
  *node = n->id;
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_node_infer(g, n, &d);
  if (!ok) {
    kn_diag_print(&d, stderr);
    kn_graph_dispose(g);
    g = NULL;
  }
  kn_diag_free(&d);
  return g;
}

static const kn_op mma_ops[] = {KN_OP_CONV2D,  KN_OP_CONV2D_GRAD_INPUT,  KN_OP_CONV2D_GRAD_WEIGHT,
                                KN_OP_LINEAR, KN_OP_LINEAR_GRAD_INPUT, KN_OP_LINEAR_GRAD_WEIGHT};

static void check_kernels(void) {
  for (size_t k = 0; k < sizeof mma_ops / sizeof mma_ops[0]; k++) {
    kn_op op = mma_ops[k];
    for (int v = 0; v < kn_test_op_variants(op); v++) {
      char what[64];
      snprintf(what, sizeof what, "%s#%d", kn_op_table[op].name, v);
      int node;
      kn_graph *g = kn_test_op_graph(op, v, &node);
      check(g != NULL, what, "test graph did not build");
      if (g) check_graph(g, node, 100 + (uint64_t)op, what);
      kn_graph_dispose(g);
    }
    if (op == KN_OP_LINEAR) continue;
    for (size_t c = 0; c < sizeof conv_cases / sizeof conv_cases[0] && k < 3; c++) {
      char what[64];
      snprintf(what, sizeof what, "%s case %zu", kn_op_table[op].name, c);
      int node;
      kn_graph *g = conv_graph(op, &conv_cases[c], &node);
      check(g != NULL, what, "test graph did not build");
      if (g) check_graph(g, node, 300 + 10 * (uint64_t)op + c, what);
      kn_graph_dispose(g);
    }
  }
}

/* Occurrences of pattern in text. */
static int count_of(const char *text, const char *pattern) {
  int n = 0;
  for (const char *q = text; (q = strstr(q, pattern)); q++) n++;
  return n;
}

/* PTX of conv2d (case 0), its gradients and the linear ops (variant 0) with each math setting. */
static void check_ptx(const char *ptxas) {
  static const kn_ptx_math maths[] = {KN_PTX_MATH_TF32, KN_PTX_MATH_FP32, KN_PTX_MATH_BF16};
  static const char *const mma_insn[] = {"mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32",
                                         "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32"};
  bool have = kn_test_ptxas_found(ptxas);
  if (!have) printf("ptxas not found (%s): PTX checks skipped\n", ptxas ? ptxas : "");
  for (size_t k = 0; k < sizeof mma_ops / sizeof mma_ops[0]; k++) {
    for (int m = 0; m < 3; m++) {
      kn_ptx_math math = maths[m];
      char what[64];
      snprintf(what, sizeof what, "PTX %s %s%s", kn_op_table[mma_ops[k]].name, math_name(math),
               math == KN_PTX_MATH_TF32 ? " (default)" : "");
      int node;
      kn_graph *g = k < 3 ? conv_graph(mma_ops[k], &conv_cases[0], &node) : kn_test_op_graph(mma_ops[k], 0, &node);
      kn_ptx_options o;
      kn_ptx_options_default(&o);
      check(o.math == KN_PTX_MATH_TF32, what, "default math is not tf32");
      o.math = math;
      kn_diag d;
      kn_diag_init(&d);
      kn_ptx_program *prog = NULL;
      bool ok = g && kn_ptx_compile_graph(g, &o, &prog, &d);
      if (!ok) kn_diag_print(&d, stderr);
      check(ok, what, "PTX compilation failed");
      if (ok) {
        /* Four mma of the math's kind per tensor-core launch (one per 16x8 part of the warp tile),
         * none of the other kind (the kernels' branch on bf16 folds away): an optimisation that
         * copied an mma into two paths (which could then diverge) would show here. */
        int mma_calls = 0;
        for (int c = 0; c < prog->n_calls; c++) {
          size_t len = strlen(prog->calls[c].kernel);
          mma_calls += len > 4 && !strcmp(prog->calls[c].kernel + len - 4, "_mma");
        }
        int n_tf32 = count_of(prog->ptx, mma_insn[0]), n_bf16 = count_of(prog->ptx, mma_insn[1]);
        check(prog->n_calls > 0 && mma_calls == (math == KN_PTX_MATH_FP32 ? 0 : prog->n_calls), what,
              "tensor-core launches exactly with tf32 and bf16");
        check(n_tf32 == (math == KN_PTX_MATH_TF32 ? 4 * mma_calls : 0) &&
                  n_bf16 == (math == KN_PTX_MATH_BF16 ? 4 * mma_calls : 0),
              what, "four mma.sync of the math's kind per launch, none of the other kind, none with fp32");
        check((strstr(prog->ptx, "cvt.rna.tf32.f32") != NULL) == (math == KN_PTX_MATH_TF32), what,
              "cvt.rna.tf32.f32 present exactly with tf32");
        check((strstr(prog->ptx, "cvt.rn.bf16x2.f32") != NULL) == (math == KN_PTX_MATH_BF16), what,
              "cvt.rn.bf16x2.f32 present exactly with bf16");
        check(!strstr(prog->ptx, ".local"), what, "kernel uses local memory");
        if (have) {
          check(kn_test_ptxas(ptxas, prog->ptx, "sm_80", what), what, "ptxas sm_80");
          check(kn_test_ptxas(ptxas, prog->ptx, "sm_90", what), what, "ptxas sm_90");
        }
      }
      kn_ptx_program_dispose(prog);
      kn_diag_free(&d);
      kn_graph_dispose(g);
    }
  }
  kn_ptx_math m = KN_PTX_MATH_TF32;
  check(kn_ptx_parse_math("fp32", &m) && m == KN_PTX_MATH_FP32 && kn_ptx_parse_math("tf32", &m) &&
            m == KN_PTX_MATH_TF32 && kn_ptx_parse_math("bf16", &m) && m == KN_PTX_MATH_BF16 &&
            !kn_ptx_parse_math("fp16", &m) && !kn_ptx_parse_math("BF16", &m),
        "kn_ptx_parse_math", "fp32/tf32/bf16 accepted, others refused");
}

/* Worst |got - want| / (1 + |want|) over value v (the GPU check's measure). */
static double worst(const kn_graph *g, kn_interp *it, void **bufs, int v) {
  size_t n = (size_t)kn_shape_numel(g->vals[v].shape);
  const float *got = bufs[v], *want = kn_interp_f32(it, v);
  double w = 0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)got[i] - want[i]) / (1.0 + fabs((double)want[i]));
    if (!(e <= w)) w = e;
  }
  return w;
}

/* SPEC with its training graph (autodiff); NULL after printing the diagnostic. */
static kn_spec *load_train(const char *path, kn_diag *d) {
  kn_spec_options so = {0};
  kn_spec *s = kn_spec_load(path, &so, d);
  if (s && !kn_autodiff(s->graph, &s->train, NULL, d)) {
    kn_spec_dispose(s);
    s = NULL;
  }
  if (!s) kn_diag_print(d, stderr);
  return s;
}
/* The interpreter with the parameters and one batch of the model tests (seeds 42, 1234). */
static kn_interp *model_interp(const kn_graph *g) {
  kn_interp *it = kn_interp_create(g);
  kn_interp_init_params(it, 42);
  kn_test_fill_inputs(g, it, 1234);
  return it;
}

/* Three SGD steps of SPEC on emulated warps with math (TF32 or BF16) against the interpreter. */
static void check_model_math(const char *path, kn_ptx_math math, double tol) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec *s = load_train(path, &d);
  kn_ptx_program prog = {0};
  prog.math = math;
  bool ok = s && kn_ptx_lower_graph(s->graph, &prog, &d);
  if (s && !ok) kn_diag_print(&d, stderr);
  double w = NAN;
  if (ok) {
    kn_graph *g = s->graph;
    kn_interp *it = model_interp(g);
    void **bufs = kn_test_emu_bufs(g, it);
    for (int k = 0; ok && k < 3; k++) {
      if (g->step >= 0) kn_interp_f32(it, g->step)[0] = ((float *)bufs[g->step])[0] = (float)(k + 1);
      kn_interp_run(it);
      for (int c = 0; ok && c < prog.n_calls; c++) ok = kn_emu_run_call(&prog.calls[c], bufs);
      printf("%s %s step %d: loss %.6f (interpreter %.6f)\n", path, math_name(math), k + 1,
             ((float *)bufs[g->loss])[0], kn_interp_f32(it, g->loss)[0]);
    }
    w = ok ? worst(g, it, bufs, g->loss) : NAN;
    for (int v = 0; ok && v < g->n_vals; v++)
      if (g->vals[v].kind == KN_VAL_PARAM) w = fmax(w, worst(g, it, bufs, v));
    printf("%s %s: worst error of loss and parameters after 3 steps %.2e (tolerance %.0e)\n", path,
           math_name(math), w, tol);
    kn_test_emu_bufs_free(g, bufs);
    kn_interp_dispose(it);
  }
  check(ok && w <= tol, path, "training steps outside the tolerance of the interpreter");
  free(prog.calls);
  kn_spec_dispose(s);
  kn_diag_free(&d);
}

/* tf32 at 5e-3 (the GPU check's train_<model>_tf32 tolerance), bf16 at 8 times that (its unit
 * roundoff is 8 times tf32's, see KN_BF16_TOL). */
static void check_model(const char *path) {
  check_model_math(path, KN_PTX_MATH_TF32, 5e-3);
  check_model_math(path, KN_PTX_MATH_BF16, 4e-2);
}

/* Every conv/linear node of SPEC's training graph on its own: inputs copied from the interpreter's
 * training step, exact mma (1e-4), tf32 (1e-2 of the output scale) and bf16 (3e-2), so every convolution shape
 * of a real model (7x7 stems, strided 1x1 shortcuts, attention convs) meets the kernels. */
static void check_model_nodes(const char *path) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec *s = load_train(path, &d);
  check(s != NULL, path, "spec did not load");
  if (s) {
    kn_graph *g = s->graph;
    kn_interp *it = model_interp(g);
    void **bufs = kn_test_emu_bufs(g, it);
    int nodes = 0;
    double worst_err[2] = {0, 0}; /* per mma_maths */
    bool all = true;
    for (int n = 0; n < g->n_nodes; n++) { /* node by node: the updates at the end change the weights */
      const kn_node *nd = &g->nodes[n];
      if (!nd->dead) kn_interp_run_node(it, n);
      bool mma = false;
      for (size_t k = 0; k < sizeof mma_ops / sizeof mma_ops[0]; k++) mma = mma || (nd->op == mma_ops[k] && !nd->dead);
      if (!mma) continue;
      for (int k = 0; k < nd->n_in; k++)
        memcpy(bufs[nd->in[k]], kn_test_value_data(g, it, nd->in[k]), (size_t)kn_shape_numel(g->vals[nd->in[k]].shape) * 4);
      char what[160];
      snprintf(what, sizeof what, "%s node %s (%s)", path, nd->name, kn_op_table[nd->op].name);
      int y = nd->out[0];
      for (size_t m = 0; m < sizeof mma_maths / sizeof mma_maths[0]; m++) {
        kn_ptx_math math = mma_maths[m];
        kn_emu_set_mma_exact(true);
        bool good = run(g, n, math, bufs, what) && kn_test_emu_same(g, it, bufs, y, 1e-4, what);
        kn_emu_set_mma_exact(false);
        reset_out(g, bufs, y);
        good = good && run(g, n, math, bufs, what);
        double e = good ? rel_err(g, it, bufs, y) : NAN;
        if (!(e <= math_tol(math))) fprintf(stderr, "FAIL %s: %s error %.2e\n", what, math_name(math), e);
        all = all && good && e <= math_tol(math);
        worst_err[m] = fmax(worst_err[m], e);
      }
      nodes++;
    }
    printf("%s: %d conv/linear nodes on their own, error at most %.2e (tf32), %.2e (bf16) of the output scale\n",
           path, nodes, worst_err[0], worst_err[1]);
    check(all && nodes > 0, path, "a conv/linear node of the model differs from the interpreter");
    kn_test_emu_bufs_free(g, bufs);
    kn_interp_dispose(it);
  }
  kn_spec_dispose(s);
  kn_diag_free(&d);
}

int main(int argc, char **argv) {
  const char *ptxas = "";
  bool models = false;
  for (int k = 1; k < argc; k++) {
    if (!strcmp(argv[k], "--model") && k + 1 < argc) {
      check_model(argv[++k]);
      models = true;
    } else if (!strcmp(argv[k], "--nodes") && k + 1 < argc) {
      check_model_nodes(argv[++k]);
      models = true;
    } else {
      ptxas = argv[k];
    }
  }
  if (!models) {
    check_kernels();
    check_ptx(ptxas);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
