/* kn_gpu_model.c — runs the entry points of a `--target=cuda` executable on the GPU and gives the
 * runtime its device hooks (kn_model_device, kilnrt.h). See kn_gpu_model.h. One device per
 * process: the state below is global, like the model descriptor it serves. The prefetch hook
 * (kn_model_prefetch: staging the next batch on a second stream) is kn_gpu_prefetch.c. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kilnrt.h"
#include "kn_cuda.h"
#include "kn_gpu_model.h"
#include "kn_gpu_prefetch.h"

#define KN_GPU_MAX_ENTRIES 8

static struct {
  int state; /* 0 not opened, 1 ready, 2 failed */
  int rc;    /* exit code when failed */
  char why[256];
  char desc[192];
  kn_cuda *cu;
  kn_cu_deviceptr persist, work; /* the two device regions */
  kn_cu_handle module[KN_GPU_MAX_ENTRIES];
  kn_cu_handle *fn[KN_GPU_MAX_ENTRIES]; /* per launch, resolved with the module */
  uint8_t *host_persist;  /* the host region the device copy belongs to */
  bool host_newer;        /* host wrote persist since the last upload */
  bool device_newer;      /* a training step changed the device copy since the last download */
  int pending;            /* entry index + 1 of a call queued but not completed (staged inputs) */
  uint8_t *pending_work;  /* its host work region */
} g;

void kn_gpu_die(void) {
  fprintf(stderr, "error: CUDA: %s\n", g.cu ? g.cu->error : g.why);
  exit(1);
}
#define die kn_gpu_die

static void close_device(void) {
  if (g.state != 1) return;
  kn_gpu_prefetch_free(g.cu);
  for (int i = 0; i < KN_GPU_MAX_ENTRIES; i++) {
    if (g.module[i]) g.cu->api.cuModuleUnload(g.module[i]);
    free(g.fn[i]);
  }
  kn_cuda_release(g.cu, g.persist);
  kn_cuda_release(g.cu, g.work);
  kn_cuda_free(g.cu);
  memset(&g, 0, sizeof g);
}

int kn_gpu_open(char *why, int why_len) {
  if (g.state == 0) {
    g.state = 2;
    g.rc = 1;
    const char *dev = getenv("KN_CUDA_DEVICE");
    int st = kn_cuda_init(&g.cu, dev ? atoi(dev) : 0, g.why, sizeof g.why);
    if (st == KN_CUDA_OK) {
      int64_t work = 0;
      for (int i = 0; i < kn_model.n_entries; i++)
        if (kn_model.entries[i].work_size > work) work = kn_model.entries[i].work_size;
      bool ok = kn_gpu_model.version == KN_GPU_MODEL_VERSION && kn_gpu_model.n_entries == kn_model.n_entries &&
                kn_model.n_entries <= KN_GPU_MAX_ENTRIES;
      if (!ok) snprintf(g.why, sizeof g.why, "the executable's GPU tables do not match its model (version %d)", kn_gpu_model.version);
      ok = ok && kn_cuda_alloc(g.cu, &g.persist, (size_t)kn_model.persist_size) &&
           kn_cuda_alloc(g.cu, &g.work, (size_t)work) &&
           kn_cuda_zero(g.cu, g.work, (size_t)work);
      if (ok) {
        g.state = 1;
        g.rc = 0;
        snprintf(g.desc, sizeof g.desc, "%s (sm_%d%d), PTX for %s", g.cu->name, g.cu->sm_major, g.cu->sm_minor,
                 kn_gpu_model.arch);
        atexit(close_device);
      } else {
        if (g.cu->error[0]) snprintf(g.why, sizeof g.why, "%s", g.cu->error);
        kn_cuda_release(g.cu, g.persist);
        kn_cuda_free(g.cu);
        g.cu = NULL;
        g.persist = 0;
      }
    } else {
      g.rc = st == KN_CUDA_NO_DEVICE ? KN_EXIT_NO_DEVICE : 1;
    }
  }
  if (why && why_len > 0) snprintf(why, (size_t)why_len, "%s", g.state == 1 ? "" : g.why);
  return g.rc;
}

static const char *dev_describe(void) { return g.state == 1 ? g.desc : "not opened"; }

static void dev_report(const char *why) {
  if (g.rc == KN_EXIT_NO_DEVICE) kn_cuda_print_no_device(stderr, why);
  else fprintf(stderr, "error: cannot use the CUDA device: %s\n", why);
}

kn_cuda *kn_gpu_cuda(void) { return g.state == 1 ? g.cu : NULL; }

static bool is_input(int role) {
  return role == KN_ROLE_INPUT || role == KN_ROLE_LABELS || role == KN_ROLE_LR || role == KN_ROLE_STEP ||
         role == KN_ROLE_DATA;
}
bool kn_gpu_is_input(const kn_tensor_desc *t) { return is_input(t->role) && t->region == KN_REGION_WORK; }

/* Waits for entry `index`'s launches, then copies its results (not its inputs) to the host. */
static void complete(int index, uint8_t *work) {
  const kn_entry_desc *me = &kn_model.entries[index];
  if (!kn_cuda_sync(g.cu)) die(); /* kernel faults surface here */
  for (int i = 0; i < me->n_tensors; i++) {
    const kn_tensor_desc *t = &me->tensors[i];
    if (is_input(t->role) || t->region != KN_REGION_WORK) continue;
    if (!kn_cuda_download(g.cu, work + t->offset, g.work + (kn_cu_deviceptr)t->offset, (size_t)kn_tensor_bytes(t))) die();
  }
}

void kn_gpu_complete_pending(void) {
  if (g.state != 1 || !g.pending) return;
  int index = g.pending - 1;
  g.pending = 0;
  if (!kn_cuda_check(g.cu, "cuCtxSetCurrent", g.cu->api.cuCtxSetCurrent(g.cu->ctx))) die();
  complete(index, g.pending_work);
}

static void dev_to_host(uint8_t *persist) {
  kn_gpu_complete_pending();
  if (g.state != 1 || !g.device_newer || persist != g.host_persist) return;
  if (!kn_cuda_check(g.cu, "cuCtxSetCurrent", g.cu->api.cuCtxSetCurrent(g.cu->ctx)) || !kn_cuda_sync(g.cu) ||
      !kn_cuda_download(g.cu, persist, g.persist, (size_t)kn_model.persist_size))
    die();
  g.device_newer = false;
}

static void dev_to_device(uint8_t *persist) {
  g.host_persist = persist;
  g.host_newer = true;
  g.device_newer = false;
}

const kn_model_device_desc kn_model_device = {"cuda", kn_gpu_open, dev_describe, dev_report, dev_to_host, dev_to_device};

/* Loads entry k's module (the driver JIT-compiles the PTX for this GPU) and resolves its launches. */
static void load_entry(int k) {
  const kn_gpu_model_entry *e = &kn_gpu_model.entries[k];
  if (!kn_cuda_check(g.cu, "cuModuleLoadData", g.cu->api.cuModuleLoadData(&g.module[k], e->ptx))) die();
  g.fn[k] = calloc((size_t)e->n_launches + 1, sizeof *g.fn[k]);
  if (!g.fn[k]) {
    snprintf(g.cu->error, sizeof g.cu->error, "out of host memory");
    die();
  }
  for (int i = 0; i < e->n_launches; i++) {
    char what[96];
    snprintf(what, sizeof what, "cuModuleGetFunction(%s)", e->launches[i].entry);
    if (!kn_cuda_check(g.cu, what, g.cu->api.cuModuleGetFunction(&g.fn[k][i], g.module[k], e->launches[i].entry))) die();
  }
}

void kn_gpu_model_run(int index, uint8_t *persist, uint8_t *work) {
  char why[256];
  if (kn_gpu_open(why, (int)sizeof why)) {
    dev_report(why);
    exit(g.rc);
  }
  const kn_gpu_model_entry *e = &kn_gpu_model.entries[index];
  const kn_entry_desc *me = &kn_model.entries[index];
  kn_cuda *cu = g.cu;
  /* The context is current per thread: the caller may not be the thread that opened the device. */
  if (!kn_cuda_check(cu, "cuCtxSetCurrent", cu->api.cuCtxSetCurrent(cu->ctx))) die();
  kn_gpu_complete_pending();
  if (!g.module[index]) load_entry(index);
  if (persist != g.host_persist || g.host_newer) {
    if (!kn_cuda_sync(cu) || !kn_cuda_upload(cu, g.persist, persist, (size_t)kn_model.persist_size)) die();
    g.host_persist = persist;
    g.host_newer = g.device_newer = false;
  }
  /* Inputs: staged ones (kn_gpu_prefetch.c) are already on the device, else they go up on the
   * stream ahead of the launches (the host goes on queuing kernels meanwhile). */
  bool staged = kn_gpu_prefetch_take(cu, index, g.work);
  for (int i = 0; i < me->n_tensors && !staged; i++) {
    const kn_tensor_desc *t = &me->tensors[i];
    if (!is_input(t->role) || t->region != KN_REGION_WORK) continue;
    if (!kn_cuda_upload_async(cu, g.work + (kn_cu_deviceptr)t->offset, work + t->offset, (size_t)kn_tensor_bytes(t))) die();
  }
  for (int k = 0; k < e->n_launches; k++) {
    const kn_gpu_model_launch *l = &e->launches[k];
    kn_cu_deviceptr ptrs[KN_GPU_MODEL_MAX_ARGS];
    void *params[KN_GPU_MODEL_MAX_ARGS];
    for (int a = 0; a < l->n_args; a++) {
      int64_t v = l->args[a];
      ptrs[a] = ((v & 1) ? g.work : g.persist) + (kn_cu_deviceptr)(v >> 1);
      params[a] = &ptrs[a];
    }
    char what[96];
    snprintf(what, sizeof what, "cuLaunchKernel(%s)", l->entry);
    if (!kn_cuda_check(cu, what, cu->api.cuLaunchKernel(g.fn[index][k], l->grid, 1, 1, l->block, 1, 1, 0, cu->stream, params, NULL)))
      die();
  }
  if (e->writes_persist) g.device_newer = true;
  if (staged) { /* the caller stages the next batch, then calls kn_model_prefetch.wait() */
    g.pending = index + 1;
    g.pending_work = work;
    return;
  }
  complete(index, work);
}
