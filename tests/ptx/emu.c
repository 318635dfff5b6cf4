/* emu.c — see emu.h. */
#include <pthread.h>
#include <string.h>

#include "emu.h"
#include "kn_gpu.h"

#define KN_KERNEL(name) void name(const long *i, const float *f, void *const *p);
#include "kernels.def"
#undef KN_KERNEL

typedef void (*kn_kernel_fn)(const long *, const float *, void *const *);
static const struct {
  const char *name;
  kn_kernel_fn fn;
} kn_emu_kernels[] = {
#define KN_KERNEL(name) {#name, name},
#include "kernels.def"
#undef KN_KERNEL
};

enum { KN_EMU_WARPS = 2 };
static _Thread_local long emu_tid;
static pthread_barrier_t emu_bar;
static float emu_f[32];
static int emu_i[32];

long kn_emu_gtid(void) { return emu_tid; }
long kn_emu_gsize(void) { return 32 * KN_EMU_WARPS; }
float kn_emu_shfl_xor(float v, int m) {
  int lane = (int)(emu_tid & 31);
  emu_f[lane] = v;
  pthread_barrier_wait(&emu_bar);
  float r = emu_f[lane ^ m];
  pthread_barrier_wait(&emu_bar);
  return r;
}
int kn_emu_shfl_xor_i(int v, int m) {
  int lane = (int)(emu_tid & 31);
  emu_i[lane] = v;
  pthread_barrier_wait(&emu_bar);
  int r = emu_i[lane ^ m];
  pthread_barrier_wait(&emu_bar);
  return r;
}

/* ---- tensor cores ----
 * An emulated mma is a warp collective: every lane writes the elements of its fragments into the
 * shared A, B and C at the places the PTX ISA layout gives them (kn_gpu.h; no two lanes write the
 * same element), then, after a barrier, computes its own D elements. */
static bool emu_mma_exact;
static float emu_mma_A[16][16], emu_mma_B[16][8], emu_mma_C[16][8];

void kn_emu_set_mma_exact(bool exact) { emu_mma_exact = exact; }

static unsigned f32_bits(float x) {
  unsigned u;
  memcpy(&u, &x, 4);
  return u;
}
static float bits_f32(unsigned u) {
  float x;
  memcpy(&x, &u, 4);
  return x;
}

/* cvt.rna.tf32.f32: round the float32 to 10 mantissa bits, to nearest with ties away from zero
 * (adding half of the 13 dropped bits to the magnitude does both); NaN and Inf unchanged. The
 * result is a float32 bit pattern whose low 13 bits are zero. */
unsigned kn_emu_tf32(float x) {
  unsigned u = f32_bits(x);
  if (emu_mma_exact || (u & 0x7f800000u) == 0x7f800000u) return u;
  return (u + 0x1000u) & 0xffffe000u;
}

/* float32 -> bf16 (the upper 16 bits of a float32) rounded to nearest, ties to even, as cvt.rn
 * does: add 0x7fff plus the lowest kept bit, then truncate (a carry into the exponent is the right
 * result, up to Inf); NaN stays a (quiet) NaN. */
static unsigned bf16_rn(float x) {
  unsigned u = f32_bits(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}
/* cvt.rn.bf16x2.f32 d, a, b: a in the upper half of d, b in the lower half (PTX ISA, cvt). */
unsigned kn_emu_cvt_bf16x2(float a, float b) { return bf16_rn(a) << 16 | bf16_rn(b); }

/* The accumulator layout shared by both shapes: c0 C[g][2t], c1 C[g][2t+1], c2 C[g+8][2t],
 * c3 C[g+8][2t+1]. Then the barrier, D = A[16xK] B[Kx8] + C for this lane's four elements, and a
 * barrier so that the next mma's fragments wait until every lane has read these. */
static void emu_mma_finish(int K, float d[4], const float c[4]) {
  int lane = (int)(emu_tid & 31), g = lane >> 2, t = lane & 3;
  const int rows[4] = {g, g, g + 8, g + 8}, cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
  for (int e = 0; e < 4; e++) emu_mma_C[rows[e]][cols[e]] = c[e];
  pthread_barrier_wait(&emu_bar);
  float acc[4];
  for (int e = 0; e < 4; e++) {
    acc[e] = 0.f;
    for (int k = 0; k < K; k++) acc[e] += emu_mma_A[rows[e]][k] * emu_mma_B[k][cols[e]];
    acc[e] += emu_mma_C[rows[e]][cols[e]];
  }
  pthread_barrier_wait(&emu_bar);
  memcpy(d, acc, sizeof acc); /* d may be c */
}

/* mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 (kn_gpu.h: a0 A[g][t], a1 A[g+8][t],
 * a2 A[g][t+4], a3 A[g+8][t+4]; b0 B[t][g], b1 B[t+4][g]). The tensor core reads only the 19 tf32
 * bits of an operand register, so the low 13 bits are dropped here too (unless exact). */
void kn_emu_mma_tf32(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  int lane = (int)(emu_tid & 31), g = lane >> 2, t = lane & 3;
  unsigned keep = emu_mma_exact ? 0xffffffffu : 0xffffe000u;
  for (int r = 0; r < 4; r++) emu_mma_A[g + 8 * (r & 1)][t + 4 * (r >> 1)] = bits_f32(a[r] & keep);
  for (int r = 0; r < 2; r++) emu_mma_B[t + 4 * r][g] = bits_f32(b[r] & keep);
  emu_mma_finish(8, d, c);
}

/* mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 (kn_gpu.h, PTX ISA 9.7.14.5.8: register r
 * of A holds A[g + 8 (r & 1)][2t + 8 (r >> 1) + e], register r of B holds B[2t + 8r + e][g], e = 0
 * in the low half, 1 in the high half). Rounded: the elements are the bf16 halves of the register
 * bits; exact: the unrounded floats the host's kn_bf16x2 also carries. */
void kn_emu_mma_bf16(float d[4], const kn_bf16x2 a[4], const kn_bf16x2 b[2], const float c[4]) {
  int lane = (int)(emu_tid & 31), g = lane >> 2, t = lane & 3;
  for (int r = 0; r < 6; r++) {
    const kn_bf16x2 *v = r < 4 ? &a[r] : &b[r - 4];
    float e0 = emu_mma_exact ? v->lo : bits_f32(v->bits << 16);
    float e1 = emu_mma_exact ? v->hi : bits_f32(v->bits & 0xffff0000u);
    if (r < 4) {
      float *row = emu_mma_A[g + 8 * (r & 1)] + 2 * t + 8 * (r >> 1);
      row[0] = e0;
      row[1] = e1;
    } else {
      emu_mma_B[2 * t + 8 * (r - 4)][g] = e0;
      emu_mma_B[2 * t + 8 * (r - 4) + 1][g] = e1;
    }
  }
  emu_mma_finish(16, d, c);
}

typedef struct {
  kn_kernel_fn fn;
  long i[KN_PTX_MAX_I];
  float f[KN_PTX_MAX_F];
  void *p[KN_PTX_MAX_P];
  int lane;
} kn_emu_lane;

static void *lane_main(void *arg) {
  kn_emu_lane *l = arg;
  for (int w = 0; w < KN_EMU_WARPS; w++) { /* warps one after the other, lanes together */
    emu_tid = w * 32 + l->lane;
    l->fn(l->i, l->f, l->p);
  }
  return NULL;
}

bool kn_emu_run_call(const kn_ptx_call *c, void *const *bufs) {
  kn_kernel_fn fn = NULL;
  for (size_t k = 0; k < sizeof kn_emu_kernels / sizeof kn_emu_kernels[0]; k++)
    if (!strcmp(kn_emu_kernels[k].name, c->kernel)) fn = kn_emu_kernels[k].fn;
  if (!fn) return false;
  kn_emu_lane lanes[32];
  pthread_t th[32];
  pthread_barrier_init(&emu_bar, NULL, 32);
  for (int l = 0; l < 32; l++) {
    lanes[l].fn = fn;
    lanes[l].lane = l;
    for (int k = 0; k < c->n_i; k++) lanes[l].i[k] = (long)c->i[k];
    for (int k = 0; k < c->n_f; k++) lanes[l].f[k] = c->f[k];
    for (int k = 0; k < c->n_p; k++) lanes[l].p[k] = c->p[k] >= 0 ? bufs[c->p[k]] : NULL;
    pthread_create(&th[l], NULL, lane_main, &lanes[l]);
  }
  for (int l = 0; l < 32; l++) pthread_join(th[l], NULL);
  pthread_barrier_destroy(&emu_bar);
  return true;
}
