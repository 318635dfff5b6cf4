/* kn_kernels.h — the contract between the CPU code generator and the C kernels it specialises.
 *
 * Every kernel has the form
 *     void kn_k_<name>(void *const *p, int64_t begin, int64_t end, <shape/attribute constants>)
 * where p holds the data pointers of the node (inputs first, then outputs, per kernel), and
 * [begin, end) is the range of work items this call does. The code generator builds, per distinct
 * (kernel, constants) pair, a wrapper `void w(void *const *p, int64_t b, int64_t e)` that calls the
 * kernel with constant shapes; the kernel is inlined into it and optimised with O3 for the host
 * CPU. Nodes with more than one work item run through the runtime's kn_parallel_for.
 *
 * The number of work items of each kernel is decided by the inline functions below, which the
 * compiler (lowering) and the kernels both include, so the two always agree.
 */
#ifndef KN_KERNELS_H
#define KN_KERNELS_H

#include <stdint.h>

/* GEMM blocking: micro-tile MR x NR (6 x 32 floats: 12 zmm accumulators), K blocked by KC,
 * columns by NC per packed panel, rows by MC per work item. */
#define KN_MR 6
#define KN_NR 32
#define KN_KC 256
#define KN_NC 256
#define KN_MC 96
/* Elements per work item of memory-bound kernels. */
#define KN_CHUNK 32768

/* Before a loop whose iterations touch disjoint elements (outputs may be exactly their inputs, in
 * place, but never partly overlap them): vectorise without run-time alias checks, which fail
 * for in-place nodes and left those loops scalar. */
#ifdef __clang__
#define KN_SIMD _Pragma("clang loop vectorize(assume_safety)")
#else
#define KN_SIMD
#endif

static inline int64_t kn_cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Rows per work item for a GEMM with m rows, so that there are enough items to share. */
static inline int64_t kn_gemm_mc(int64_t m, int64_t other_items) {
  int64_t mc = KN_MC;
  while (mc > KN_MR && other_items * kn_cdiv(m, mc) < 8) mc -= KN_MR;
  return mc;
}

/* Output channels per item of the conv forward (and direct grad input) with `other` pixel tiles:
 * all of a group's when there are at least 16 tiles, so the im2col panel of a tile is packed once
 * for every channel (the GEMM loops over KN_MC-row chunks of it), else the channels split into
 * ceil(16 / other) equal parts (rounded to KN_MR) so both cores get work at batch 1. */
static inline int64_t kn_conv_fwd_mc(int64_t co_g, int64_t other) {
  int64_t parts = kn_cdiv(16, other > 0 ? other : 1);
  int64_t mc = kn_cdiv(kn_cdiv(co_g, parts), KN_MR) * KN_MR;
  return mc < KN_MR ? KN_MR : mc;
}
/* conv2d forward and the 1x1/stride-1 "direct" grad input: items (n, g, p-tile, m-chunk). */
static inline int64_t kn_conv_fwd_items(int64_t n, int64_t g, int64_t co_g, int64_t p) {
  int64_t other = n * g * kn_cdiv(p, KN_NC);
  return other * kn_cdiv(co_g, kn_conv_fwd_mc(co_g, other));
}
/* conv2d grad weight: items (g, tap tile) of kn_conv_gw_mt <= KN_GW_MT taps. Each item packs all
 * of dy (transposed) once, so tiles are large: 4 items (an even count) or as many as KN_GW_MT needs. */
#define KN_GW_MT 192
static inline int64_t kn_conv_gw_mt(int64_t g, int64_t k_g) {
  int64_t nt = kn_cdiv(k_g, KN_GW_MT), want = kn_cdiv(4, g);
  if (nt < want) nt = want;
  if (nt > 1 && nt % 2) nt++;
  int64_t mt = kn_cdiv(kn_cdiv(k_g, nt), KN_MR) * KN_MR;
  return mt < 2 * KN_MR ? 2 * KN_MR : mt;
}
/* With few taps beside many output channels (1x1 convs that widen: 64 -> 256), the weight
 * gradient is computed the other way round, dW_g[Co/G, taps] = sum_n dy_n,g * col_n,g^T, items
 * (g, output-channel chunk of kn_conv_gw_mc rows): dy rows are read in place and only col^T is
 * packed, where the tap tiles would each re-pack all of dy for a thin GEMM. */
static inline int kn_conv_gw_by_co(int64_t co_g, int64_t k_g) {
  return k_g >= KN_NR && k_g <= KN_NC && co_g >= 2 * k_g;
}
static inline int64_t kn_conv_gw_mc(int64_t g, int64_t co_g) {
  int64_t mc = kn_cdiv(kn_cdiv(co_g, kn_cdiv(4, g)), KN_MR) * KN_MR;
  return mc > KN_GW_MT ? KN_GW_MT : mc;
}
static inline int64_t kn_conv_gw_items(int64_t g, int64_t co_g, int64_t k_g) {
  if (kn_conv_gw_by_co(co_g, k_g)) return g * kn_cdiv(co_g, kn_conv_gw_mc(g, co_g));
  return g * kn_cdiv(k_g, kn_conv_gw_mt(g, k_g));
}
/* Generic GEMM C[m, n] = A * B: items (column tile, row chunk). */
static inline int64_t kn_gemm_items(int64_t m, int64_t n) {
  int64_t other = kn_cdiv(n, KN_NC);
  return other * kn_cdiv(m, kn_gemm_mc(m, other));
}
static inline int64_t kn_chunks(int64_t numel) { return kn_cdiv(numel, KN_CHUNK); }

/* Simple kernels take `items` as a constant and split their natural unit count `total` (planes,
 * channels, rows, elements) evenly: item it covers [lo, hi). The compiler picks items <= total. */
static inline void kn_split(int64_t it, int64_t items, int64_t total, int64_t *lo, int64_t *hi) {
  *lo = it * total / items;
  *hi = (it + 1) * total / items;
}
/* The units [lo, hi) of items [b, e). */
static inline void kn_range(int64_t b, int64_t e, int64_t items, int64_t total, int64_t *lo, int64_t *hi) {
  *lo = b * total / items;
  *hi = e * total / items;
}
/* Items for `total` units of `unit_work` elements each: about KN_CHUNK elements per item. */
static inline int64_t kn_items_for(int64_t total, int64_t unit_work) {
  int64_t per = KN_CHUNK / (unit_work > 0 ? unit_work : 1);
  if (per < 1) per = 1;
  int64_t items = kn_cdiv(total, per);
  return items < 1 ? 1 : items > total ? total : items;
}

#endif
