/* kn_gfused.h — the program format of the GPU elementwise-chain kernel kn_gk_fused (fused.c),
 * shared by the kernel and the lowering that writes programs (compiler/codegen/ptx/ptx_fuse.c).
 *
 * A program is the launch's integer arguments:
 *   i = {n, C, HW, n_ops, op[0][KN_GF_OPSZ], op[1][KN_GF_OPSZ], ...}
 * over the iteration space [N, C, HW] (n = N*C*HW elements, NCHW order). Each thread takes element
 * k (grid stride) and evaluates the ops in order; op j's result is register j. An op record is
 *   {opcode, out, a0, a1, ..., a6}
 * out: pointer index its result is written to (element k), or -1 (the value stays in a register).
 * Operands a*: a register (code < KN_GF_EXT: the result of an earlier op) or a buffer,
 * KN_GF_EXT + 4*pointer + mode, mode one of KN_GF_FULL (element k), KN_GF_NC ([N,C,1,1]),
 * KN_GF_NHW ([N,1,H,W]), KN_GF_CH (one value per channel, [C]). f[j] is op j's float (eps).
 * The program is a constant of each launch's wrapper, so LLVM folds the interpretation away.
 * kn_gk_fused_bn_grad_sums takes the same program when its last op is KN_GF_BN_GRAD(_EVAL): it
 * computes that op's dgamma/dbeta sums (warp per channel), recomputing the ops before it.
 */
#ifndef KN_GFUSED_H
#define KN_GFUSED_H

#define KN_GF_HDR 4
#define KN_GF_OPSZ 9
#define KN_GF_MAXOPS 8
#define KN_GF_EXT 64

enum { KN_GF_FULL, KN_GF_NC, KN_GF_NHW, KN_GF_CH };

#include "../../../ir/eltwise.def"

enum {
#define KN_GF_EW(ID, nm, S, AT, V, F, G) KN_GF_##ID, KN_GF_##ID##_GRAD,
  KN_ELTWISE_OPS(KN_GF_EW) /* the ops of eltwise.def: a0 = x, or a0 = dy, a1 = saved (_GRAD); f = a */
#undef KN_GF_EW
  KN_GF_ADD,           /* a0 + a1 */
  KN_GF_MUL,           /* a0 * a1 */
  KN_GF_BN_APPLY,      /* a0 = x, a1 = gamma, a2 = beta, a3 = mean, a4 = var; f = eps */
  KN_GF_BN_GRAD,       /* batch statistics: a0 = dy, a1 = x, a2 = gamma, a3 = mean, a4 = var,
                          a5 = dgamma, a6 = dbeta (the sums of kn_gk_bn_grad_reduce); f = eps */
  KN_GF_BN_GRAD_EVAL,  /* running statistics: dx = gamma * inv * dy; operands as KN_GF_BN_GRAD */
};

#endif
