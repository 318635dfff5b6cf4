/* emu.c — see emu.h. */
#include <pthread.h>
#include <string.h>

#include "emu.h"

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

/* ---- tensor cores ---- */
static bool emu_tf32_exact;
static unsigned emu_mma_a[32][4], emu_mma_b[32][2];
static float emu_mma_c[32][4];

void kn_emu_set_tf32_exact(bool exact) { emu_tf32_exact = exact; }

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
  if (emu_tf32_exact || (u & 0x7f800000u) == 0x7f800000u) return u;
  return (u + 0x1000u) & 0xffffe000u;
}

/* mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 as a warp collective: every lane deposits its
 * fragments, then places the whole warp's fragments into A[16][8], B[8][8] (B[k][n]) and C[16][8]
 * with the PTX ISA layout (kn_gpu.h: g = lane >> 2, t = lane & 3; a0 A[g][t], a1 A[g+8][t],
 * a2 A[g][t+4], a3 A[g+8][t+4]; b0 B[t][g], b1 B[t+4][g]; c0 C[g][2t], c1 C[g][2t+1],
 * c2 C[g+8][2t], c3 C[g+8][2t+1]) and computes its own D elements. The tensor core reads only the
 * 19 tf32 bits of an operand register, so the low 13 bits are dropped here too (unless exact). */
void kn_emu_mma_tf32(float d[4], const unsigned a[4], const unsigned b[2], const float c[4]) {
  int lane = (int)(emu_tid & 31);
  memcpy(emu_mma_a[lane], a, sizeof emu_mma_a[lane]);
  memcpy(emu_mma_b[lane], b, sizeof emu_mma_b[lane]);
  memcpy(emu_mma_c[lane], c, sizeof emu_mma_c[lane]);
  pthread_barrier_wait(&emu_bar);
  float A[16][8], B[8][8], Cm[16][8];
  unsigned keep = emu_tf32_exact ? 0xffffffffu : 0xffffe000u;
  for (int l = 0; l < 32; l++) {
    int g = l >> 2, t = l & 3;
    A[g][t] = bits_f32(emu_mma_a[l][0] & keep);
    A[g + 8][t] = bits_f32(emu_mma_a[l][1] & keep);
    A[g][t + 4] = bits_f32(emu_mma_a[l][2] & keep);
    A[g + 8][t + 4] = bits_f32(emu_mma_a[l][3] & keep);
    B[t][g] = bits_f32(emu_mma_b[l][0] & keep);
    B[t + 4][g] = bits_f32(emu_mma_b[l][1] & keep);
    Cm[g][2 * t] = emu_mma_c[l][0];
    Cm[g][2 * t + 1] = emu_mma_c[l][1];
    Cm[g + 8][2 * t] = emu_mma_c[l][2];
    Cm[g + 8][2 * t + 1] = emu_mma_c[l][3];
  }
  pthread_barrier_wait(&emu_bar); /* everyone has read the shared fragments */
  int g = lane >> 2, t = lane & 3;
  const int rows[4] = {g, g, g + 8, g + 8}, cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
  for (int e = 0; e < 4; e++) {
    float acc = 0.f;
    for (int k = 0; k < 8; k++) acc += A[rows[e]][k] * B[k][cols[e]];
    d[e] = acc + Cm[rows[e]][cols[e]];
  }
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
