/* fake_cuda.c — a stand-in CUDA driver (a shared library loaded through KN_CUDA_LIBRARY) for
 * testing the runtime's loader and launch loop without a GPU. Device memory is host memory.
 * Controlled by the environment:
 *   KN_FAKE_CUINIT   result of cuInit (default 0)        KN_FAKE_COUNT  devices (default 1)
 *   KN_FAKE_SM       compute capability, e.g. 90 (default 90)
 *   KN_FAKE_LOG      file to which a summary is appended at exit: "launches N modules N htod_async
 *                    BYTES htod BYTES dtoh BYTES" (what a GPU executable asked of the driver)
 * Fresh allocations are filled with 0xA5 bytes, so data that was never uploaded shows.
 * Built twice: with KN_FAKE_PARTIAL it lacks cuLaunchKernel (an "old driver"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

static int env(const char *n, int def) {
  const char *v = getenv(n);
  return v ? atoi(v) : def;
}

/* Launches seen, for the test to inspect through kn_fake_launches(). */
static int launches, modules;
static unsigned long long htod_async, htod, dtoh;
static char last_entry[64];

__attribute__((destructor)) static void write_log(void) {
  const char *path = getenv("KN_FAKE_LOG");
  FILE *f = path ? fopen(path, "a") : NULL;
  if (!f) return;
  fprintf(f, "launches %d modules %d htod_async %llu htod %llu dtoh %llu\n", launches, modules, htod_async, htod, dtoh);
  fclose(f);
}
int kn_fake_launches(char *entry, size_t n) {
  snprintf(entry, n, "%s", last_entry);
  return launches;
}

CUresult cuInit(unsigned f) { return env("KN_FAKE_CUINIT", 0); }
CUresult cuDeviceGetCount(int *c) { *c = env("KN_FAKE_COUNT", 1); return 0; }
CUresult cuDeviceGet(int *d, int i) { *d = i; return 0; }
CUresult cuDeviceGetName(char *s, int n, int d) { snprintf(s, (size_t)n, "Fake GPU"); return 0; }
CUresult cuDeviceGetAttribute(int *v, int a, int d) {
  int sm = env("KN_FAKE_SM", 90);
  *v = a == 75 ? sm / 10 : a == 76 ? sm % 10 : 0;
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void **c, int d) { *c = (void *)1; return 0; }
CUresult cuDevicePrimaryCtxRelease(int d) { return 0; }
CUresult cuCtxSetCurrent(void *c) { return 0; }
CUresult cuModuleLoadData(void **m, const void *ptx) {
  if (!strstr(ptx, ".entry")) return 218; /* CUDA_ERROR_INVALID_PTX */
  *m = strdup(ptx);
  modules++;
  return 0;
}
CUresult cuModuleUnload(void *m) { free(m); return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
  char *pat = malloc(strlen(name) + 16);
  sprintf(pat, ".entry %s(", name);
  char *hit = strstr(m, pat);
  free(pat);
  if (!hit) return 500; /* CUDA_ERROR_NOT_FOUND */
  *f = hit + 7;
  return 0;
}
#ifndef KN_FAKE_PARTIAL
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shm, void *stream, void **params, void **extra) {
  if (!gx || !bx || !params) return 1;
  launches++;
  size_t n = strcspn(f, "(");
  snprintf(last_entry, sizeof last_entry, "%.*s", (int)n, (const char *)f);
  return 0;
}
#endif
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  void *m = malloc(n);
  if (m) memset(m, 0xA5, n);
  *p = (CUdeviceptr)(size_t)m;
  return m ? 0 : 2;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)(size_t)p); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) {
  memcpy((void *)(size_t)d, s, n);
  htod += n;
  return 0;
}
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) {
  memcpy(d, (void *)(size_t)s, n);
  dtoh += n;
  return 0;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) {
  memcpy((void *)(size_t)d, s, n);
  htod_async += n;
  return 0;
}
CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { memset((void *)(size_t)d, v, n); return 0; }
CUresult cuStreamCreate(void **s, unsigned f) { *s = (void *)2; return 0; }
CUresult cuStreamDestroy_v2(void *s) { return 0; }
CUresult cuStreamSynchronize(void *s) { return 0; }
