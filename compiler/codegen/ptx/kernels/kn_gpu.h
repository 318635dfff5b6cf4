/* kn_gpu.h — what every kiln GPU kernel includes: thread indices, warp reductions and math.
 *
 * Kernels are plain C with one signature,
 *     void kn_gk_NAME(const long *i, const float *f, void *const *p);
 * where i holds the integer arguments (shapes, flags), f the float arguments (eps, momentum) and
 * p the buffers. Each kernel documents its three lists above its definition. Kernels loop over
 * their work with a grid stride (kn_for) or a warp stride (kn_for_warp, for reductions), so any
 * grid is correct; the compiler picks the grid from the work size.
 *
 * Built two ways:
 *   - for nvptx64 (clang -target nvptx64-nvidia-cuda): the compiler embeds the bitcode and calls
 *     each kernel from a wrapper where i and f are constants, so the shapes fold into the code;
 *   - for the host with KN_GPU_EMULATE: tests run the same source on CPU threads that emulate
 *     one warp (tests/ptx/emu.c provides the kn_emu_* functions).
 * Control flow around warp shuffles must be warp-uniform (the same for all 32 lanes).
 */
#ifndef KN_GPU_H
#define KN_GPU_H

#ifdef __NVPTX__
static inline long kn_gtid(void) {
  return (long)__nvvm_read_ptx_sreg_ctaid_x() * __nvvm_read_ptx_sreg_ntid_x() + __nvvm_read_ptx_sreg_tid_x();
}
static inline long kn_gsize(void) { return (long)__nvvm_read_ptx_sreg_nctaid_x() * __nvvm_read_ptx_sreg_ntid_x(); }
static inline float kn_shfl_xor(float v, int m) { return __nvvm_shfl_sync_bfly_f32(0xffffffffu, v, m, 31); }
static inline int kn_shfl_xor_i(int v, int m) { return __nvvm_shfl_sync_bfly_i32(0xffffffffu, v, m, 31); }
static inline float kn_exp(float x) { return __nvvm_ex2_approx_f(x * 1.44269504088896341f); }
static inline float kn_exp2(float x) { return __nvvm_ex2_approx_f(x); }
static inline float kn_log(float x) { return __nvvm_lg2_approx_f(x) * 0.693147180559945309f; }
static inline float kn_sqrt(float x) { return __nvvm_sqrt_rn_f(x); }
#define KN_INF __builtin_inff()
#else
#include <math.h>
long kn_emu_gtid(void);
long kn_emu_gsize(void);
float kn_emu_shfl_xor(float v, int m);
int kn_emu_shfl_xor_i(int v, int m);
static inline long kn_gtid(void) { return kn_emu_gtid(); }
static inline long kn_gsize(void) { return kn_emu_gsize(); }
static inline float kn_shfl_xor(float v, int m) { return kn_emu_shfl_xor(v, m); }
static inline int kn_shfl_xor_i(int v, int m) { return kn_emu_shfl_xor_i(v, m); }
static inline float kn_exp(float x) { return expf(x); }
static inline float kn_exp2(float x) { return exp2f(x); }
static inline float kn_log(float x) { return logf(x); }
static inline float kn_sqrt(float x) { return sqrtf(x); }
#define KN_INF INFINITY
#endif

/* tanh and erf from kn_exp, the same formulas on the device and in the emulator: tanh(v) =
 * 1 - 2 / (e^(2v) + 1); erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7). */
static inline float kn_tanh(float v) { return 1.f - 2.f / (kn_exp(2.f * v) + 1.f); }
static inline float kn_erf(float v) {
  float z = v < 0.f ? -v : v, t = 1.f / (1.f + 0.3275911f * z);
  float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  float r = 1.f - poly * kn_exp(-z * z);
  return v < 0.f ? -r : r;
}
/* The math of compiler/ir/eltwise.def's formulas in GPU kernels (macros expand where a formula
 * is used, so this holds whether eltwise.def was included before or after). */
#undef KN_EW_EXP
#undef KN_EW_ERF
#undef KN_EW_TANH
#define KN_EW_EXP(v) kn_exp(v)
#define KN_EW_ERF(v) kn_erf(v)
#define KN_EW_TANH(v) kn_tanh(v)

/* ---- tensor cores: one warp-wide matrix multiply-accumulate (sm_80+), tf32 or bf16 ----
 * kn_mma_tf32_16x8x8(d, a, b, c): D[16x8] = A[16x8] * B[8x8] + C[16x8], the PTX instruction
 * `mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32`. Every lane holds a fragment; with
 * g = lane >> 2 (groupID) and t = lane & 3 (threadID_in_group), PTX ISA section 9.7.14.5.7
 * "Matrix Fragments for mma.m16n8k8" (the .tf32 A and B figures and the .f32 accumulator figure,
 * figures 72, 75 and 77 in recent versions of the ISA):
 *   A (row-major, 16x8): a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
 *   B (col-major, 8x8):  b0 = B[t][g], b1 = B[t+4][g]                       (B[k][n])
 *   C, D (16x8):         c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
 * A and B are tf32 bit patterns made by kn_tf32 (`cvt.rna.tf32.f32`: round to nearest, ties away
 * from zero, 10 mantissa bits).
 *
 * kn_mma_bf16_16x8x16(d, a, b, c): D[16x8] = A[16x16] * B[16x8] + C[16x8], the PTX instruction
 * `mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32`. Each operand register (kn_bf16x2) holds
 * two bf16, the element with the lower index in the low 16 bits ("Elements (low to high)"). PTX ISA
 * section 9.7.14.5.8 "Matrix Fragments for mma.m16n8k16 with floating point type" (the .f16/.bf16
 * A and B figures, figure 79 and the .f16/.bf16 B figure after it in ISA 8.x; A: row = g for a0,a1,a4,a5, g+8 otherwise,
 * col = 2t + (i & 1), + 8 for i >= 4; B: row = 2t + (i & 1), + 8 for i >= 2, col = g):
 *   A (row-major, 16x16): a[0] = {A[g][2t], A[g][2t+1]},     a[1] = {A[g+8][2t], A[g+8][2t+1]},
 *                         a[2] = {A[g][2t+8], A[g][2t+9]},   a[3] = {A[g+8][2t+8], A[g+8][2t+9]}
 *   B (col-major, 16x8):  b[0] = {B[2t][g], B[2t+1][g]},     b[1] = {B[2t+8][g], B[2t+9][g]}
 *   C, D: the f32 accumulator layout of m16n8k8 above.
 * kn_bf16x2_pack(lo, hi) packs two floats rounded to bf16 (`cvt.rn.bf16x2.f32 d, hi, lo`: round to
 * nearest even, 8 mantissa bits; cvt puts its first source in the upper half of d).
 *
 * All 32 lanes must execute the same call (warp-uniform control flow). The host emulation
 * (tests/ptx/emu.c) computes the product from the whole warp's fragments placed by exactly these
 * layouts. */
#ifdef __NVPTX__
typedef unsigned kn_bf16x2;
static inline unsigned kn_tf32(float x) { return (unsigned)__nvvm_f2tf32_rna(x); }
static inline kn_bf16x2 kn_bf16x2_pack(float lo, float hi) { return (kn_bf16x2)__nvvm_ff2bf16x2_rn(hi, lo); }
/* One mma.sync with four .b32 A registers, two B registers and four f32 accumulators. Inline asm:
 * clang 14 has no builtin for these shapes (only wmma m16n16k8). */
#define KN_MMA_SYNC(insn, d, a, b, c)                                                                       \
  __asm__ volatile(insn " {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%10,%11,%12,%13};"                       \
                   : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])                                         \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), \
                     "f"(c[2]), "f"(c[3]))
static inline void kn_mma_tf32_16x8x8(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  KN_MMA_SYNC("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", d, a, b, c);
}
static inline void kn_mma_bf16_16x8x16(float d[4], const kn_bf16x2 a[4], const kn_bf16x2 b[2], const float c[4]) {
  KN_MMA_SYNC("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32", d, a, b, c);
}
#else
/* On the host a bf16 pair also keeps its two float32 inputs, so that the emulator's exact mode can
 * multiply unrounded operands (32 bits cannot hold two of them); bits is what the GPU register
 * would hold (kn_emu_cvt_bf16x2 follows cvt.rn.bf16x2.f32: first source in the upper half). */
typedef struct {
  unsigned bits;
  float lo, hi;
} kn_bf16x2;
unsigned kn_emu_tf32(float x);
unsigned kn_emu_cvt_bf16x2(float a, float b);
void kn_emu_mma_tf32(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]);
void kn_emu_mma_bf16(float d[4], const kn_bf16x2 a[4], const kn_bf16x2 b[2], const float c[4]);
static inline unsigned kn_tf32(float x) { return kn_emu_tf32(x); }
static inline kn_bf16x2 kn_bf16x2_pack(float lo, float hi) {
  kn_bf16x2 r = {kn_emu_cvt_bf16x2(hi, lo), lo, hi};
  return r;
}
static inline void kn_mma_tf32_16x8x8(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  kn_emu_mma_tf32(d, a, b, c);
}
static inline void kn_mma_bf16_16x8x16(float d[4], const kn_bf16x2 a[4], const kn_bf16x2 b[2], const float c[4]) {
  kn_emu_mma_bf16(d, a, b, c);
}
#endif

/* Grid-stride loop over [0, n): one element per thread per round. */
#define kn_for(k, n) for (long k = kn_gtid(); k < (n); k += kn_gsize())
/* Warp-stride loop over [0, n): one element per warp per round (uniform across the warp). */
#define kn_for_warp(k, n) for (long k = kn_gtid() >> 5; k < (n); k += kn_gsize() >> 5)

static inline int kn_lane(void) { return (int)(kn_gtid() & 31); }

/* Sum / max over the 32 lanes; every lane gets the result. */
static inline float kn_warp_sum(float v) {
  for (int m = 16; m; m >>= 1) v += kn_shfl_xor(v, m);
  return v;
}
static inline float kn_warp_max(float v) {
  for (int m = 16; m; m >>= 1) {
    float o = kn_shfl_xor(v, m);
    v = o > v ? o : v;
  }
  return v;
}
static inline int kn_warp_min_i(int v) {
  for (int m = 16; m; m >>= 1) {
    int o = kn_shfl_xor_i(v, m);
    v = o < v ? o : v;
  }
  return v;
}

/* ---- reductions over a 4-d tensor: id = input dims, od = output dims (od[k] == id[k] or 1) ---- */

/* Offset in the input of output element o (row-major over od). */
static inline long kn_red_base(const long *id, const long *od, long o) {
  long off = 0, stride = 1;
  for (int k = 3; k >= 0; k--) {
    long c = o % od[k];
    o /= od[k];
    off += c * stride;
    stride *= id[k];
  }
  return off;
}
/* Offset of reduced element r (row-major over the dims where od is 1). */
static inline long kn_red_off(const long *id, const long *od, long r) {
  long off = 0, stride = 1;
  for (int k = 3; k >= 0; k--) {
    if (od[k] == 1) {
      long c = r % id[k];
      r /= id[k];
      off += c * stride;
    }
    stride *= id[k];
  }
  return off;
}
static inline long kn_red_count(const long *id, const long *od) {
  long n = 1;
  for (int k = 0; k < 4; k++)
    if (od[k] == 1) n *= id[k];
  return n;
}

#endif
