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
