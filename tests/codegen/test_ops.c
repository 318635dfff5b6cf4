/* test_ops.c — every op of ops.def, forward, backward and update, compiled by the CPU backend
 * and compared with the reference interpreter (cg_harness.h):
 *   grad   the interpreter's gradient cases (tests/interp/grad_cases.c: each forward op with its
 *          backward ops, odd sizes 1/7/13, strides, padding, groups, dilation);
 *   big    shapes that cross the GEMM blocking (K > 256 taps, > 96 output channels, > 256 pixels);
 *   update optimizer and running-statistics updates over 3 steps;
 *   coverage  fails when some op of ops.def was in no case.
 *   selftest  a corrupted result must fail the comparison.
 * Usage: test_codegen_ops [grad|big|update|selftest|coverage|all]
 */
#include <stdio.h>
#include <string.h>

#include "../interp/op_tests.h"
#include "cg_harness.h"

_Static_assert((int)FD_WIDE == (int)CG_WIDE && (int)FD_LABELS == (int)CG_LABELS, "cg_gen must extend fd_gen");

static int passed, failed;
static bool seen[KN_OP_COUNT];

static void record(const kn_graph *g, bool ok, const char *what) {
  for (int i = 0; i < g->n_nodes; i++)
    if (ok) seen[g->nodes[i].op] = true;
  if (ok) passed++;
  else {
    failed++;
    printf("FAILED: %s\n", what);
  }
}

static void run_case(cg_case *c, const char *what) {
  bool ok = cg_check(c, what);
  record(c->g, ok, what);
}

/* ---- the interpreter's gradient cases ---- */
static void grad_cases(void) {
  for (int i = 0; i < kn_n_grad_rows; i++) {
    const op_row *row = &kn_grad_rows[i];
    bool dup = false;
    for (int j = 0; j < i; j++) dup |= kn_grad_rows[j].build == row->build && kn_grad_rows[j].arg == row->arg;
    if (dup) continue;
    fd_case fc;
    fd_begin(&fc);
    row->build(&fc, row->arg);
    cg_case c;
    cg_begin(&c, fc.g);
    for (int v = 0; v < fc.g->n_vals && v < FD_MAX_VALS; v++) {
      c.gen[v] = (unsigned char)fc.gen[v];
      c.label_k[v] = fc.label_k[v];
    }
    char what[160];
    snprintf(what, sizeof what, "%s: %s", kn_op_table[row->op].name, row->what);
    run_case(&c, what);
    cg_end(&c);
    fd_end(&fc);
  }
}

/* ---- shapes that exercise the GEMM blocking ---- */
static kn_node *add(kn_graph *g, kn_op op, const int *in, int n) {
  return kn_graph_add_node(g, op, kn_op_table[op].name, in, n, (kn_loc){0});
}

static int infer(kn_graph *g, kn_node *n) {
  kn_diag d;
  kn_diag_init(&d);
  bool ok = kn_node_infer(g, n, &d);
  if (!ok) kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  KN_ASSERT(ok);
  return n->out[0];
}

typedef struct {
  int N, Ci, H, W, Co, k, s, p, G, bias;
} big_conv;

static void set_conv(kn_node *n, const big_conv *b) {
  kn_node_set_int(n, KN_ATTR_OUT_CHANNELS, b->Co);
  kn_node_set_pair(n, KN_ATTR_KERNEL, b->k, b->k);
  kn_node_set_pair(n, KN_ATTR_STRIDE, b->s, b->s);
  kn_node_set_pair(n, KN_ATTR_PADDING, b->p, b->p);
  kn_node_set_int(n, KN_ATTR_GROUPS, b->G);
  kn_node_set_int(n, KN_ATTR_BIAS, b->bias);
}

static void big_conv_case(const big_conv *b, const char *what) {
  kn_graph *g = kn_graph_create("big");
  kn_shape xs = kn_shape4(b->N, b->Ci, b->H, b->W);
  int x = kn_graph_add_input(g, "x", KN_DT_F32, xs);
  int w = kn_graph_add_input(g, "w", KN_DT_F32, kn_shape4(b->Co, b->Ci / b->G, b->k, b->k));
  int bi = kn_graph_add_input(g, "b", KN_DT_F32, kn_shape1(b->Co));
  kn_node *n = add(g, KN_OP_CONV2D, (int[]){x, w, bi}, b->bias ? 3 : 2);
  set_conv(n, b);
  int y = infer(g, n);
  int dy = kn_graph_add_input(g, "dy", KN_DT_F32, g->vals[y].shape);
  n = add(g, KN_OP_CONV2D_GRAD_INPUT, (int[]){dy, w}, 2);
  set_conv(n, b);
  kn_node_set_shape(n, KN_ATTR_SHAPE, xs);
  infer(g, n);
  n = add(g, KN_OP_CONV2D_GRAD_WEIGHT, (int[]){dy, x}, 2);
  set_conv(n, b);
  infer(g, n);
  cg_case c;
  cg_begin(&c, g);
  run_case(&c, what);
  cg_end(&c);
  kn_graph_dispose(g);
}

static void big_linear_case(int N, int F, int O, const char *what) {
  kn_graph *g = kn_graph_create("big");
  int x = kn_graph_add_input(g, "x", KN_DT_F32, kn_shape2(N, F));
  int w = kn_graph_add_input(g, "w", KN_DT_F32, kn_shape2(O, F));
  int b = kn_graph_add_input(g, "b", KN_DT_F32, kn_shape1(O));
  kn_node *n = add(g, KN_OP_LINEAR, (int[]){x, w, b}, 3);
  kn_node_set_int(n, KN_ATTR_OUT_FEATURES, O);
  kn_node_set_int(n, KN_ATTR_BIAS, 1);
  int y = infer(g, n);
  int dy = kn_graph_add_input(g, "dy", KN_DT_F32, g->vals[y].shape);
  n = add(g, KN_OP_LINEAR_GRAD_INPUT, (int[]){dy, w}, 2);
  kn_node_set_shape(n, KN_ATTR_SHAPE, kn_shape2(N, F));
  infer(g, n);
  infer(g, add(g, KN_OP_LINEAR_GRAD_WEIGHT, (int[]){dy, x}, 2));
  cg_case c;
  cg_begin(&c, g);
  run_case(&c, what);
  cg_end(&c);
  kn_graph_dispose(g);
}

static void big_cases(void) {
  static const big_conv convs[] = {
      {2, 64, 15, 15, 100, 3, 1, 1, 1, 1}, /* K = 576: 3 KC blocks; 100 rows: 2 row chunks */
      {1, 300, 17, 18, 40, 1, 1, 0, 1, 0}, /* 1x1 direct grad input, P = 306 > NC */
      {2, 24, 33, 31, 13, 3, 2, 1, 1, 0},  /* stride 2, odd sizes, P > NC */
      {1, 8, 40, 40, 7, 7, 2, 3, 1, 1},    /* 7x7 stem, 13-wide rows */
      {2, 32, 9, 9, 48, 3, 1, 1, 4, 1},    /* groups 4 */
      {3, 256, 7, 7, 512, 1, 2, 0, 1, 0},  /* strided 1x1 (downsample), many rows */
      {16, 16, 8, 8, 200, 3, 1, 1, 1, 1},  /* 16 pixel tiles: forward items of all 200 channels */
      {2, 48, 12, 13, 200, 1, 1, 0, 1, 0}, /* grad weight by output channels, col = x */
      {2, 4, 17, 15, 80, 3, 2, 1, 1, 0},   /* grad weight by output channels, im2col rows */
      {2, 64, 9, 9, 160, 1, 1, 0, 2, 1},   /* grad weight by output channels, groups 2 */
      {1, 2048, 5, 5, 16, 3, 1, 1, 1, 0},  /* grad input with W^T packed (K = 18432) */
      {1, 16384, 2, 3, 8, 1, 1, 0, 1, 0},  /* direct grad input with W^T packed */
      {1, 256, 6, 7, 512, 1, 1, 0, 1, 0},  /* grad weight by output channels, 256 taps (the most) */
  };
  static const char *names[] = {"conv 64->100 3x3 15x15",    "conv 300->40 1x1 17x18",  "conv 24->13 3x3 s2 33x31",
                                "conv 8->7 7x7 s2 40x40",    "conv 32->48 3x3 groups 4", "conv 256->512 1x1 s2",
                                "conv 16->200 3x3 N16 8x8",  "conv 48->200 1x1 12x13",   "conv 4->80 3x3 s2 17x15",
                                "conv 64->160 1x1 groups 2", "conv 2048->16 3x3 5x5",    "conv 16384->8 1x1 2x3",
                                "conv 256->512 1x1 6x7"};
  for (int i = 0; i < (int)(sizeof convs / sizeof convs[0]); i++) big_conv_case(&convs[i], names[i]);
  big_linear_case(13, 600, 300, "linear [13,600] -> 300");
  big_linear_case(100, 33, 7, "linear [100,33] -> 7");
}

/* ---- updates over 3 steps ---- */
static void update_case(kn_op op, int variant, const char *what) {
  kn_graph *g = kn_graph_create("upd");
  kn_shape s = kn_shape2(37, 1001); /* several chunks of work, odd sizes */
  int p = kn_graph_add_param(g, "p", s, KN_INIT_KAIMING_UNIFORM);
  int gr = kn_graph_add_input(g, "g", KN_DT_F32, s);
  g->lr = kn_graph_add_input(g, "lr", KN_DT_F32, kn_shape1(1));
  kn_node *n;
  if (op == KN_OP_SGD_UPDATE) {
    int buf = kn_graph_add_state(g, "buf", s, KN_INIT_ZERO);
    n = add(g, op, (int[]){p, gr, g->lr, buf}, variant == 0 ? 3 : 4);
    kn_node_set_float(n, KN_ATTR_MOMENTUM, variant ? 0.9 : 0.0);
    kn_node_set_float(n, KN_ATTR_WEIGHT_DECAY, variant == 2 ? 0.01 : 0.0);
    kn_node_set_int(n, KN_ATTR_NESTEROV, variant == 2);
    kn_node_set_float(n, KN_ATTR_DAMPENING, variant == 3 ? 0.25 : 0.0);
  } else if (op == KN_OP_ADAM_UPDATE) {
    g->step = kn_graph_add_input(g, "step", KN_DT_F32, kn_shape1(1));
    int m = kn_graph_add_state(g, "m", s, KN_INIT_ZERO), v = kn_graph_add_state(g, "v", s, KN_INIT_ZERO);
    n = add(g, op, (int[]){p, gr, g->lr, g->step, m, v}, 6);
    kn_node_set_float(n, KN_ATTR_EPS, 1e-8);
    kn_node_set_float(n, KN_ATTR_WEIGHT_DECAY, 0.05);
    kn_node_set_int(n, KN_ATTR_DECOUPLED, variant);
  } else {
    kn_graph_dispose(g);
    g = kn_graph_create("bn");
    int rm = kn_graph_add_state(g, "rm", kn_shape1(13), KN_INIT_ZERO);
    int rv = kn_graph_add_state(g, "rv", kn_shape1(13), KN_INIT_ONE);
    int bm = kn_graph_add_input(g, "bm", KN_DT_F32, kn_shape1(13));
    int bv = kn_graph_add_input(g, "bv", KN_DT_F32, kn_shape1(13));
    n = add(g, op, (int[]){rm, rv, bm, bv}, 4);
    kn_node_set_float(n, KN_ATTR_MOMENTUM, 0.1);
    kn_node_set_int(n, KN_ATTR_COUNT, 98);
  }
  kn_diag d;
  kn_diag_init(&d);
  KN_ASSERT(kn_node_infer(g, n, &d));
  kn_diag_free(&d);
  cg_case c;
  cg_begin(&c, g);
  c.steps = 3;
  if (g->lr >= 0) {
    c.gen[g->lr] = CG_SCALAR;
    c.scalar[g->lr] = 0.05f;
  }
  if (g->step >= 0) {
    c.gen[g->step] = CG_SCALAR;
    c.scalar[g->step] = 1;
  }
  run_case(&c, what);
  cg_end(&c);
  kn_graph_dispose(g);
}

static void update_cases(void) {
  update_case(KN_OP_SGD_UPDATE, 0, "sgd plain");
  update_case(KN_OP_SGD_UPDATE, 1, "sgd momentum");
  update_case(KN_OP_SGD_UPDATE, 2, "sgd nesterov + weight decay");
  update_case(KN_OP_SGD_UPDATE, 3, "sgd dampening");
  update_case(KN_OP_ADAM_UPDATE, 0, "adam + L2");
  update_case(KN_OP_ADAM_UPDATE, 1, "adamw");
  update_case(KN_OP_BN_RUNNING_UPDATE, 0, "bn running update");
}

/* The harness must notice a wrong element (each tensor gets one corrupted element). */
static void selftest(void) {
  fd_case fc;
  fd_begin(&fc);
  kn_grad_rows[0].build(&fc, kn_grad_rows[0].arg);
  cg_case c;
  cg_begin(&c, fc.g);
  c.perturb = true;
  printf("selftest: the next FAIL lines are expected\n");
  bool ok = cg_check(&c, "selftest");
  if (ok) {
    printf("FAIL selftest: a corrupted result passed the comparison\n");
    failed++;
  } else
    passed++;
  cg_end(&c);
  fd_end(&fc);
}

static void coverage(void) {
  int missing = 0;
  for (int op = 0; op < KN_OP_COUNT; op++)
    if (!seen[op]) {
      printf("FAIL coverage: op '%s' was compiled and checked by no passing case\n", kn_op_table[op].name);
      missing++;
    }
  if (missing) failed++;
  else passed++;
}

int main(int argc, char **argv) {
  const char *which = argc > 1 ? argv[1] : "all";
  bool all = !strcmp(which, "all") || !strcmp(which, "coverage");
  if (all || !strcmp(which, "grad")) grad_cases();
  if (all || !strcmp(which, "big")) big_cases();
  if (all || !strcmp(which, "update")) update_cases();
  if (all || !strcmp(which, "selftest")) selftest();
  if (all) coverage();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
