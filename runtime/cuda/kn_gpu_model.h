/* kn_gpu_model.h — the tables a `kiln compile --target=cuda` executable carries next to its
 * `kn_model` descriptor, and the function its entry points call. The generated object pastes this
 * header (with kilnrt.h) verbatim, so it includes nothing but <stdint.h>.
 *
 * Every entry point of the model is one PTX module with its launches in order. A launch argument
 * is a device pointer given as (offset << 1) | region: region 0 is the persist region, 1 the work
 * region, laid out exactly as the CPU build lays out its host regions (same memory plan), so the
 * host and device copies of a tensor sit at the same offset.
 *
 *   void kn_model_train_step(uint8_t *persist, uint8_t *work) { kn_gpu_model_run(1, persist, work); }
 *
 * kn_gpu_model_run opens the device on first use (driver loaded with dlopen, primary context, one
 * stream; one device allocation for persist and one for the largest work region), JIT-loads the
 * entry's module on its first call, uploads persist when the host copy is newer, copies the
 * entry's inputs host->device asynchronously on the stream, queues every launch, waits, and copies
 * back the entry's results. On a CUDA failure it prints the call and the CUDA error name and exits
 * 1; without a usable device it prints "no CUDA device available (<reason>)" and exits 69.
 * runtime/cuda/kn_gpu_model.c also defines kn_model_device (kilnrt.h) for the runtime, and
 * kn_gpu_prefetch.c kn_model_prefetch: when the runtime staged the entry's inputs beforehand, the
 * call waits for their upload on the device instead of uploading, and returns once its launches
 * are queued (kn_model_prefetch.wait() or the next device call synchronises and copies back).
 */
#ifndef KN_GPU_MODEL_H
#define KN_GPU_MODEL_H

#include <stdint.h>

#define KN_GPU_MODEL_VERSION 1
#define KN_GPU_MODEL_MAX_ARGS 10

typedef struct kn_gpu_model_launch {
  const char *entry;                    /* PTX .entry name */
  uint32_t grid, block;                 /* 1-d */
  int32_t n_args, pad_;
  int64_t args[KN_GPU_MODEL_MAX_ARGS];  /* (byte offset << 1) | region */
} kn_gpu_model_launch;

typedef struct kn_gpu_model_entry {
  const char *name;                     /* the kn_model entry at the same index */
  const char *ptx;                      /* NUL-terminated module text */
  int32_t n_launches;
  int32_t writes_persist;               /* updates parameters or running statistics */
  const kn_gpu_model_launch *launches;
} kn_gpu_model_entry;

typedef struct kn_gpu_model_desc {
  int32_t version;                      /* KN_GPU_MODEL_VERSION */
  int32_t n_entries;
  const char *arch;                     /* "sm_80" */
  const kn_gpu_model_entry *entries;
} kn_gpu_model_desc;

/* Defined by the generated object. */
extern const kn_gpu_model_desc kn_gpu_model;

/* Runs entry `index` of kn_gpu_model (and of kn_model) over the host regions (see above). */
void kn_gpu_model_run(int index, uint8_t *persist, uint8_t *work);

#endif
