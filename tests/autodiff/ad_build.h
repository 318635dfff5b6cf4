/* ad_build.h — small graph builders shared by the autodiff tests (and the golden test).
 *
 *   kn_graph *g = kn_graph_create("t");
 *   int x = kn_graph_add_input(g, "input", KN_DT_F32, kn_shape4(2, 3, 8, 8));
 *   g->input = x;
 *   int y = adb_conv(g, "conv1", x, 4, 3, 1, 1, true);
 *   y = adb_unary(g, KN_OP_RELU, "relu1", y);
 *   adb_head(g, y, 10);                 // flatten -> linear "fc" -> log_softmax -> nll_loss
 *
 * Every builder returns output 0 of the node it adds and aborts (KN_ASSERT, after printing the
 * diagnostic) when shape inference fails: tests build only valid graphs.
 */
#ifndef KN_AD_BUILD_H
#define KN_AD_BUILD_H

#include "ir.h"

int adb_node(kn_graph *g, kn_node *n); /* infers n, returns its output 0 */
int adb_conv(kn_graph *g, const char *name, int x, int co, int k, int stride, int pad, bool bias);
int adb_bn(kn_graph *g, const char *name, int x); /* TRAINING = 0, as the spec loader emits */
int adb_unary(kn_graph *g, kn_op op, const char *name, int x);
int adb_window(kn_graph *g, kn_op op, const char *name, int x, int k, int stride, int pad);
int adb_binary(kn_graph *g, kn_op op, const char *name, int a, int b);
int adb_linear(kn_graph *g, const char *name, int x, int out, bool bias);
int adb_upsample(kn_graph *g, const char *name, int x, int scale, int mode);
int adb_concat(kn_graph *g, const char *name, const int *xs, int n);
/* x + an input "sep.<kind>.<n>" of x's shape that the finite-difference tests fill with offsets
 * keeping a kinked op clear of its kinks (fd.c): kind "relu" (+-1, away from 0), "window" (distinct
 * within every 3x3 window), "channel" (distinct across channels), "global" (one clear maximum per
 * channel). */
int adb_separate(kn_graph *g, const char *kind, int x);
/* flatten (if rank 4) -> linear `fc` -> log_softmax -> nll_loss; adds the labels input and sets
 * g->labels, g->output, g->loss. */
void adb_head(kn_graph *g, int x, int classes);
/* A parameter named "<scope>.<what>". */
int adb_param(kn_graph *g, const char *scope, const char *what, kn_shape s, kn_init_kind init);

#endif
