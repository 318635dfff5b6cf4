/* kn_fused.h — the program format of kn_k_fused (fused.c), shared with the code generator
 * (cpu_fuse.c): one sweep over a [N, C, HW] iteration space that evaluates a run of elementwise
 * ops of a kernel group per tile, keeping the run's internal values in stack tiles.
 *
 * The program is an array of doubles (a constant global of the module, so after inlining its
 * field folds to a constant):
 *   [KN_FP_N], [KN_FP_C], [KN_FP_HW]   the iteration space
 *   [KN_FP_MODE]   KN_FMODE_PLANE: work units are (plane, chunk) pairs, planes n*C + c;
 *                  KN_FMODE_CHANNEL: work units are channels (per-channel statistics/reductions)
 *   [KN_FP_ITEMS]  work items (kn_range over the units)
 *   [KN_FP_NOPS]   ops (<= KN_FMAXOPS), [KN_FP_CHUNK] elements per unit inside a plane (plane mode)
 *   op i at KN_FP_OPS + i * KN_FOPSZ: [0] code (KN_FOP_*), [1] pointer index its output 0 is
 *   stored to (-1: internal, only in a tile), then operands (see fused.c per op).
 * Operand refs: r < KN_FREF_EXT is "output 0 of op r of this program"; otherwise
 * r = KN_FREF_EXT + 4 * ptr + bcast with bcast KN_FB_* (how the [N, C, HW] index maps into it).
 */
#ifndef KN_FUSED_H
#define KN_FUSED_H

#include "../../../ir/eltwise.def"

enum {
#define KN_FOP_EW(ID, nm, S, AT, V, F, G) KN_FOP_##ID, KN_FOP_##ID##_GRAD,
  KN_ELTWISE_OPS(KN_FOP_EW) /* the ops of eltwise.def: x (op) or dy, saved (_GRAD); [4] = a */
#undef KN_FOP_EW
  KN_FOP_ADD, KN_FOP_MUL,
  KN_FOP_BN,       /* eval-mode batchnorm: x, gamma, beta, rmean, rvar (ptrs), eps */
  KN_FOP_BN_TRAIN, /* batch statistics: x, gamma, beta (ptrs), mean-out, var-out (ptrs), eps,
                    * partials (ptr, -1: none: a pre-pass gathers them; else kn_k_conv2d_ep's
                    * [T][C][4] (count, shift, sum, sum of squares) doubles), T */
  KN_FOP_BN_GRAD,  /* dy, x, gamma, mean, var, dgamma-out, dbeta-out (ptrs), eps, training,
                    * partials (ptr, -1: none; else kn_k_conv2d_grad_input_st's [T][C][2]
                    * sums of dy and dy * (x - mean)), T */
  KN_FOP_POOL,     /* per plane: x, kind 0 avg, 1 max, 2 sum; output [N, C] at [1] */
  KN_FOP_CSUM      /* per channel sum over n, hw: x; output [C] at [1] */
};
enum { KN_FB_FULL, KN_FB_NC, KN_FB_NHW, KN_FB_C };
enum { KN_FMODE_PLANE, KN_FMODE_CHANNEL };
enum { KN_FP_N, KN_FP_C, KN_FP_HW, KN_FP_MODE, KN_FP_ITEMS, KN_FP_NOPS, KN_FP_CHUNK, KN_FP_OPS = 8 };
#define KN_FOPSZ 14
#define KN_FMAXOPS 24
#define KN_FREF_EXT 100
#define KN_FTILE 512

#endif
