/* fake_cuda.c — a stand-in CUDA driver (a shared library loaded through KN_CUDA_LIBRARY) for
 * testing the runtime's loader and launch loop without a GPU. Device memory is host memory.
 * Controlled by the environment:
 *   KN_FAKE_CUINIT   result of cuInit (default 0)        KN_FAKE_COUNT  devices (default 1)
 *   KN_FAKE_SM       compute capability, e.g. 90 (default 90)
 *   KN_FAKE_LOG      file to which a summary is appended at exit: "launches N modules N htod_async
 *                    BYTES htod BYTES dtoh BYTES" (what a GPU executable asked of the driver)
 *   KN_FAKE_TRACE    file to which every stream-ordered call is appended, one line each, in call
 *                    order: "launch S NAME", "htod_async S BYTES PINNED(0/1)", "dtod_async S BYTES",
 *                    "event_record E S", "stream_wait S E", "event_sync E", "sync S", "htod BYTES",
 *                    "dtoh BYTES", "stream_create S FLAGS", "alloc_host BYTES" (S, E: small numbers)
 *   KN_FAKE_FAIL     a function name: its KN_FAKE_FAIL_AT'th call (default 1) returns
 *                    KN_FAKE_FAIL_RC (default 700, CUDA_ERROR_ILLEGAL_ADDRESS)
 *   KN_FAKE_DROP     cuMemcpyHtoDAsync_v2 or cuMemcpyDtoDAsync_v2: its calls succeed but copy
 *                    nothing (a lost copy, to show that a test would notice one)
 *   KN_FAKE_MIX=1    launches "compute": each hashes up to 256 bytes at every pointer argument (and
 *                    the kernel's name) and writes the hash as a float over the first 4 bytes of the
 *                    last argument, so results depend on every input and on the order of launches
 *                    and copies, and a wrong input buffer changes the trained weights
 * Fresh allocations are filled with 0xA5 bytes, so data that was never uploaded shows. Calls take
 * effect at once (a stream is its call order), so the trace is what a test checks for ordering.
 * Built three times: with KN_FAKE_PARTIAL it lacks cuLaunchKernel (an "old driver"), with
 * KN_FAKE_NO_ASYNC cuStreamWaitEvent (a driver without the optional async group). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

static int env(const char *n, int def) {
  const char *v = getenv(n);
  return v ? atoi(v) : def;
}

static FILE *trace_file;
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...) {
  const char *path = getenv("KN_FAKE_TRACE");
  if (!path) return;
  if (!trace_file) trace_file = fopen(path, "a");
  if (!trace_file) return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(trace_file, fmt, ap);
  va_end(ap);
  fputc('\n', trace_file);
}

/* The injected failure of KN_FAKE_FAIL, or 0. */
static CUresult injected(const char *name) {
  static int calls;
  const char *f = getenv("KN_FAKE_FAIL");
  if (!f || strcmp(f, name)) return 0;
  return ++calls == env("KN_FAKE_FAIL_AT", 1) ? env("KN_FAKE_FAIL_RC", 700) : 0;
}

static int dropped(const char *name) {
  const char *d = getenv("KN_FAKE_DROP");
  return d && !strcmp(d, name);
}

/* Device and pinned allocations: [base, base + size), for KN_FAKE_MIX and the trace. */
#define KN_FAKE_MAX_ALLOCS 256
static struct fake_alloc {
  char *base;
  size_t size;
  int pinned;
} allocs[KN_FAKE_MAX_ALLOCS];
static void track(void *base, size_t size, int pinned) {
  for (int k = 0; k < KN_FAKE_MAX_ALLOCS; k++)
    if (!allocs[k].base) {
      allocs[k] = (struct fake_alloc){base, size, pinned};
      return;
    }
}
static void untrack(void *base) {
  for (int k = 0; k < KN_FAKE_MAX_ALLOCS; k++)
    if (allocs[k].base == base) allocs[k].base = NULL;
}
static struct fake_alloc *find(const void *p) {
  for (int k = 0; k < KN_FAKE_MAX_ALLOCS; k++)
    if (allocs[k].base && (const char *)p >= allocs[k].base && (const char *)p < allocs[k].base + allocs[k].size)
      return &allocs[k];
  return NULL;
}
/* Handles are small numbers: streams from 2 (the first one made is 2, as before), events from 1. */
static size_t next_stream = 2, next_event = 1;

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
__attribute__((destructor)) static void close_trace(void) {
  if (trace_file) fclose(trace_file);
  trace_file = NULL;
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
  CUresult r = injected("cuLaunchKernel");
  if (r) return r;
  launches++;
  size_t n = strcspn(f, "(");
  snprintf(last_entry, sizeof last_entry, "%.*s", (int)n, (const char *)f);
  trace("launch %zu %s", (size_t)stream, last_entry);
  if (env("KN_FAKE_MIX", 0)) {
    /* the parameters are the .param lines between the entry's "(" and ")" */
    const char *at = (const char *)f + n, *end = strchr(at, ')');
    int np = 0;
    for (const char *q = at; end && (q = strstr(q, ".param")) && q < end; q += 6) np++;
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < n; k++) h = (h ^ (uint8_t)last_entry[k]) * 16777619u;
    char *last = NULL;
    for (int a = 0; a < np; a++) {
      char *ptr = (char *)(size_t)*(CUdeviceptr *)params[a];
      struct fake_alloc *m = find(ptr);
      size_t len = m ? (size_t)(m->base + m->size - ptr) : 0;
      for (size_t k = 0; k < len && k < 256; k++) h = (h ^ (uint8_t)ptr[k]) * 16777619u;
      h = (h ^ (uint32_t)a) * 16777619u;
      last = len >= 4 ? ptr : NULL;
    }
    float v = (float)(h % 1000003u) / 1000003.0f;
    if (last) memcpy(last, &v, sizeof v);
  }
  return 0;
}
#endif
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  void *m = malloc(n);
  if (m) memset(m, 0xA5, n);
  if (m) track(m, n, 0);
  *p = (CUdeviceptr)(size_t)m;
  return m ? 0 : 2;
}
CUresult cuMemFree_v2(CUdeviceptr p) {
  untrack((void *)(size_t)p);
  free((void *)(size_t)p);
  return 0;
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) {
  memcpy((void *)(size_t)d, s, n);
  htod += n;
  trace("htod %zu", n);
  return 0;
}
CUresult cuMemcpyDtoH_v2(void *d, CUdeviceptr s, size_t n) {
  memcpy(d, (void *)(size_t)s, n);
  dtoh += n;
  trace("dtoh %zu", n);
  return 0;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, void *st) {
  CUresult r = injected("cuMemcpyHtoDAsync_v2");
  if (r) return r;
  if (!dropped("cuMemcpyHtoDAsync_v2")) memcpy((void *)(size_t)d, s, n);
  htod_async += n;
  struct fake_alloc *m = find(s);
  trace("htod_async %zu %zu %d", (size_t)st, n, m && m->pinned);
  return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, void *st) {
  CUresult r = injected("cuMemcpyDtoDAsync_v2");
  if (r) return r;
  if (!dropped("cuMemcpyDtoDAsync_v2")) memmove((void *)(size_t)d, (const void *)(size_t)s, n);
  trace("dtod_async %zu %zu", (size_t)st, n);
  return 0;
}
CUresult cuMemAllocHost_v2(void **p, size_t n) {
  CUresult r = injected("cuMemAllocHost_v2");
  if (r) return r;
  *p = malloc(n);
  if (*p) track(*p, n, 1);
  trace("alloc_host %zu", n);
  return *p ? 0 : 2;
}
CUresult cuMemFreeHost(void *p) {
  untrack(p);
  free(p);
  return 0;
}
CUresult cuEventCreate(void **e, unsigned flags) {
  *e = (void *)next_event++;
  return 0;
}
CUresult cuEventDestroy_v2(void *e) { return 0; }
CUresult cuEventRecord(void *e, void *st) {
  CUresult r = injected("cuEventRecord");
  if (r) return r;
  trace("event_record %zu %zu", (size_t)e, (size_t)st);
  return 0;
}
CUresult cuEventSynchronize(void *e) {
  CUresult r = injected("cuEventSynchronize");
  if (r) return r;
  trace("event_sync %zu", (size_t)e);
  return 0;
}
#ifndef KN_FAKE_NO_ASYNC
CUresult cuStreamWaitEvent(void *st, void *e, unsigned flags) {
  CUresult r = injected("cuStreamWaitEvent");
  if (r) return r;
  trace("stream_wait %zu %zu", (size_t)st, (size_t)e);
  return 0;
}
#endif
CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { memset((void *)(size_t)d, v, n); return 0; }
CUresult cuStreamCreate(void **s, unsigned f) {
  *s = (void *)next_stream++;
  trace("stream_create %zu %u", (size_t)*s, f);
  return 0;
}
CUresult cuStreamDestroy_v2(void *s) { return 0; }
CUresult cuStreamSynchronize(void *s) {
  CUresult r = injected("cuStreamSynchronize");
  if (r) return r;
  trace("sync %zu", (size_t)s);
  return 0;
}
