/* kn_gpu_prefetch.c — the kn_model_prefetch hook of a --target=cuda executable (kilnrt.h): the
 * training loop hands over batch k+1 while step k's kernels run.
 *
 * stage() copies the entry's input tensors, packed at 256-byte aligned offsets, into one of two
 * pinned host buffers (cuMemAllocHost), queues one cuMemcpyHtoDAsync of it into the matching one
 * of two device buffers on a second, non-blocking stream and records an event there. The next
 * call of the entry (kn_gpu_prefetch_take) makes the compute stream wait for that event
 * (cuStreamWaitEvent) and copies the tensors device-to-device to their offsets in the work region,
 * where the kernels read them (the launch arguments address the work region, whose input slots
 * step k may still be using, hence the separate buffers and the short on-device copy), and records
 * a second event; the two slots alternate. Before a slot is refilled both of its events are
 * waited for, so a buffer is never overwritten while an upload or a copy out of it is in flight.
 * The bytes that reach the work region are the ones the plain path uploads, so results are
 * identical. */
#include <stdlib.h>
#include <string.h>

#include "kn_gpu_prefetch.h"

#define KN_PF_ALIGN 256
#define KN_CU_STREAM_NON_BLOCKING 1u
#define KN_CU_EVENT_DISABLE_TIMING 2u

static struct {
  int avail;                   /* 0 not asked yet, 1 usable, 2 not */
  int entry;                   /* the entry the buffers are laid out for, -1 none */
  size_t bytes;                /* of one packed buffer */
  size_t *off;                 /* per tensor of that entry: its offset in the packed buffer */
  kn_cu_handle stream;         /* the copy stream */
  uint8_t *pinned[2];
  kn_cu_deviceptr dev[2];
  kn_cu_handle up[2], used[2]; /* events: slot uploaded; the step's copy out of the slot done */
  bool up_rec[2], used_rec[2];
  int staged;                  /* slot holding the next call's inputs, -1 none */
  int next;                    /* slot the next stage() fills */
} p = {.entry = -1, .staged = -1};

#define CHECK(cu, call, ...) \
  do { \
    if (!kn_cuda_check(cu, #call, (cu)->api.call(__VA_ARGS__))) kn_gpu_die(); \
  } while (0)

static int pf_available(void) {
  if (p.avail) return p.avail == 1;
  p.avail = 2;
  const char *env = getenv("KILN_NO_PREFETCH");
  if (env && *env && strcmp(env, "0")) return 0;
  char why[256];
  if (kn_gpu_open(why, (int)sizeof why)) return 0;
  kn_cuda *cu = kn_gpu_cuda();
  const char *miss = kn_cuda_async_missing(cu);
  if (miss) {
    fprintf(stderr, "note: the CUDA driver lacks %s; batches are uploaded without prefetching\n", miss);
    return 0;
  }
  CHECK(cu, cuCtxSetCurrent, cu->ctx);
  CHECK(cu, cuStreamCreate, &p.stream, KN_CU_STREAM_NON_BLOCKING);
  for (int s = 0; s < 2; s++) {
    CHECK(cu, cuEventCreate, &p.up[s], KN_CU_EVENT_DISABLE_TIMING);
    CHECK(cu, cuEventCreate, &p.used[s], KN_CU_EVENT_DISABLE_TIMING);
  }
  p.avail = 1;
  return 1;
}

/* Waits until nothing reads or writes slot s any more. */
static void drain(kn_cuda *cu, int s) {
  if (p.up_rec[s]) CHECK(cu, cuEventSynchronize, p.up[s]);
  if (p.used_rec[s]) CHECK(cu, cuEventSynchronize, p.used[s]);
  p.up_rec[s] = p.used_rec[s] = false;
}

static void release_buffers(kn_cuda *cu) {
  for (int s = 0; s < 2; s++) {
    if (p.pinned[s]) CHECK(cu, cuMemFreeHost, p.pinned[s]);
    if (!kn_cuda_release(cu, p.dev[s])) kn_gpu_die();
    p.pinned[s] = NULL;
    p.dev[s] = 0;
  }
  free(p.off);
  p.off = NULL;
  p.entry = -1;
}

/* Lays the two slots out for `entry` (once; again only if another entry is staged). */
static void layout(kn_cuda *cu, int entry) {
  if (p.entry == entry) return;
  drain(cu, 0), drain(cu, 1);
  release_buffers(cu);
  const kn_entry_desc *e = &kn_model.entries[entry];
  p.off = calloc((size_t)e->n_tensors + 1, sizeof *p.off);
  if (!p.off) {
    snprintf(cu->error, sizeof cu->error, "out of host memory");
    kn_gpu_die();
  }
  size_t at = 0;
  for (int i = 0; i < e->n_tensors; i++) {
    if (!kn_gpu_is_input(&e->tensors[i])) continue;
    p.off[i] = at;
    at += ((size_t)kn_tensor_bytes(&e->tensors[i]) + KN_PF_ALIGN - 1) / KN_PF_ALIGN * KN_PF_ALIGN;
  }
  p.bytes = at ? at : KN_PF_ALIGN;
  for (int s = 0; s < 2; s++) {
    void *host = NULL;
    CHECK(cu, cuMemAllocHost_v2, &host, p.bytes);
    p.pinned[s] = host;
    memset(host, 0, p.bytes);
    if (!kn_cuda_alloc(cu, &p.dev[s], p.bytes)) kn_gpu_die();
  }
  p.entry = entry;
}

static void pf_stage(int entry, const void *const *data) {
  if (!pf_available() || entry < 0 || entry >= kn_model.n_entries) {
    fprintf(stderr, "internal error: kn_model_prefetch.stage(%d) without prefetching available\n", entry);
    exit(3);
  }
  kn_cuda *cu = kn_gpu_cuda();
  CHECK(cu, cuCtxSetCurrent, cu->ctx);
  layout(cu, entry);
  int s = p.next;
  p.next ^= 1;
  p.staged = -1; /* a batch staged before and never used is dropped */
  drain(cu, s);
  const kn_entry_desc *e = &kn_model.entries[entry];
  for (int i = 0; i < e->n_tensors; i++) {
    const kn_tensor_desc *t = &e->tensors[i];
    if (!kn_gpu_is_input(t)) continue;
    if (!data[i]) {
      fprintf(stderr, "internal error: kn_model_prefetch.stage: no data for input '%s'\n", t->name);
      exit(3);
    }
    memcpy(p.pinned[s] + p.off[i], data[i], (size_t)kn_tensor_bytes(t));
  }
  CHECK(cu, cuMemcpyHtoDAsync_v2, p.dev[s], p.pinned[s], p.bytes, p.stream);
  CHECK(cu, cuEventRecord, p.up[s], p.stream);
  p.up_rec[s] = true;
  p.staged = s;
}

bool kn_gpu_prefetch_take(kn_cuda *cu, int entry, kn_cu_deviceptr work) {
  if (p.staged < 0 || p.entry != entry) return false;
  int s = p.staged;
  p.staged = -1;
  CHECK(cu, cuStreamWaitEvent, cu->stream, p.up[s], 0);
  const kn_entry_desc *e = &kn_model.entries[entry];
  for (int i = 0; i < e->n_tensors; i++) {
    const kn_tensor_desc *t = &e->tensors[i];
    if (kn_gpu_is_input(t))
      CHECK(cu, cuMemcpyDtoDAsync_v2, work + (kn_cu_deviceptr)t->offset, p.dev[s] + p.off[i], (size_t)kn_tensor_bytes(t),
            cu->stream);
  }
  CHECK(cu, cuEventRecord, p.used[s], cu->stream);
  p.used_rec[s] = true;
  return true;
}

void kn_gpu_prefetch_free(kn_cuda *cu) {
  if (p.avail == 1) { /* at exit: results no longer matter, so failures are ignored here */
    cu->api.cuStreamSynchronize(p.stream);
    for (int s = 0; s < 2; s++) {
      if (p.pinned[s]) cu->api.cuMemFreeHost(p.pinned[s]);
      if (p.dev[s]) cu->api.cuMemFree_v2(p.dev[s]);
      cu->api.cuEventDestroy_v2(p.up[s]);
      cu->api.cuEventDestroy_v2(p.used[s]);
    }
    cu->api.cuStreamDestroy_v2(p.stream);
  }
  free(p.off);
  memset(&p, 0, sizeof p);
  p.entry = p.staged = -1;
}

static void pf_wait(void) { kn_gpu_complete_pending(); }
static void pf_discard(void) { p.staged = -1; }

const kn_model_prefetch_desc kn_model_prefetch = {1, 0, pf_available, pf_stage, pf_wait, pf_discard};
