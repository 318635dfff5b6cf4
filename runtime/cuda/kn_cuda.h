/* kn_cuda.h — the CUDA driver as the generated GPU executables use it: loaded at run time with
 * dlopen (never linked, so a binary starts on a machine without a GPU), every call checked, and
 * failures reported with the CUDA error name.
 *
 *   char why[256];
 *   kn_cuda *cu;
 *   int st = kn_cuda_init(&cu, 0, why, sizeof why);
 *   if (st == KN_CUDA_NO_DEVICE) {                 // no driver, stub driver, no device, old driver
 *     kn_cuda_print_no_device(stderr, why);        // "no CUDA device available (<why>)" + hint
 *     return KN_CUDA_EXIT_NO_DEVICE;               // 69 (EX_UNAVAILABLE)
 *   }
 *   CUdeviceptr p; kn_cuda_alloc(cu, &p, bytes); ...
 *   kn_cuda_free(cu);
 *
 * The library is looked up as $KN_CUDA_LIBRARY when set, else libcuda.so.1, then libcuda.so.
 * Errors are kept in cu->error ("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2)"); calls return false.
 */
#ifndef KN_CUDA_H
#define KN_CUDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit code of a GPU executable started where no usable CUDA device exists (sysexits.h). */
#define KN_CUDA_EXIT_NO_DEVICE 69

enum { KN_CUDA_OK = 0, KN_CUDA_NO_DEVICE = 1, KN_CUDA_ERROR = 2 };

typedef int kn_cu_result;
typedef unsigned long long kn_cu_deviceptr;
typedef struct kn_cu_opaque *kn_cu_handle; /* CUcontext, CUmodule, CUfunction, CUstream */

/* The driver entry points kiln uses, resolved by their exact (versioned) names. */
typedef struct kn_cuda_api {
  kn_cu_result (*cuInit)(unsigned);
  kn_cu_result (*cuDeviceGetCount)(int *);
  kn_cu_result (*cuDeviceGet)(int *, int);
  kn_cu_result (*cuDeviceGetName)(char *, int, int);
  kn_cu_result (*cuDeviceGetAttribute)(int *, int, int);
  kn_cu_result (*cuDevicePrimaryCtxRetain)(kn_cu_handle *, int);
  kn_cu_result (*cuDevicePrimaryCtxRelease)(int);
  kn_cu_result (*cuCtxSetCurrent)(kn_cu_handle);
  kn_cu_result (*cuModuleLoadData)(kn_cu_handle *, const void *);
  kn_cu_result (*cuModuleUnload)(kn_cu_handle);
  kn_cu_result (*cuModuleGetFunction)(kn_cu_handle *, kn_cu_handle, const char *);
  kn_cu_result (*cuLaunchKernel)(kn_cu_handle, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                 unsigned, kn_cu_handle, void **, void **);
  kn_cu_result (*cuMemAlloc_v2)(kn_cu_deviceptr *, size_t);
  kn_cu_result (*cuMemFree_v2)(kn_cu_deviceptr);
  kn_cu_result (*cuMemcpyHtoD_v2)(kn_cu_deviceptr, const void *, size_t);
  kn_cu_result (*cuMemcpyDtoH_v2)(void *, kn_cu_deviceptr, size_t);
  kn_cu_result (*cuMemcpyHtoDAsync_v2)(kn_cu_deviceptr, const void *, size_t, kn_cu_handle);
  kn_cu_result (*cuMemsetD8_v2)(kn_cu_deviceptr, unsigned char, size_t);
  kn_cu_result (*cuStreamCreate)(kn_cu_handle *, unsigned);
  kn_cu_result (*cuStreamDestroy_v2)(kn_cu_handle);
  kn_cu_result (*cuStreamSynchronize)(kn_cu_handle);
  kn_cu_result (*cuGetErrorName)(kn_cu_result, const char **); /* optional */
  /* Optional as a group (kn_cuda_async_missing): pinned host memory, events and a second stream,
   * for prefetching the next batch (kn_gpu_model.c). Every NVIDIA driver since CUDA 4 has them. */
  kn_cu_result (*cuMemAllocHost_v2)(void **, size_t);
  kn_cu_result (*cuMemFreeHost)(void *);
  kn_cu_result (*cuMemcpyDtoDAsync_v2)(kn_cu_deviceptr, kn_cu_deviceptr, size_t, kn_cu_handle);
  kn_cu_result (*cuEventCreate)(kn_cu_handle *, unsigned);
  kn_cu_result (*cuEventDestroy_v2)(kn_cu_handle);
  kn_cu_result (*cuEventRecord)(kn_cu_handle, kn_cu_handle);
  kn_cu_result (*cuEventSynchronize)(kn_cu_handle);
  kn_cu_result (*cuStreamWaitEvent)(kn_cu_handle, kn_cu_handle, unsigned);
} kn_cuda_api;

typedef struct kn_cuda {
  void *lib;            /* dlopen handle */
  kn_cuda_api api;
  int device;
  kn_cu_handle ctx;     /* primary context, current on the calling thread */
  kn_cu_handle stream;  /* the one stream every launch and copy goes to */
  char name[128];       /* device name */
  int sm_major, sm_minor;
  char error[256];      /* last failure, "" if none */
  const char *async_missing; /* the first absent function of the optional async group, or NULL */
} kn_cuda;

/* Loads the driver, picks `device`, makes its primary context current and creates a stream.
 * Returns KN_CUDA_OK, KN_CUDA_NO_DEVICE (why: the reason, e.g. "libcuda.so.1: cannot open shared
 * object file" or "cuInit: CUDA_ERROR_NO_DEVICE (100)"), or KN_CUDA_ERROR. *out is set only on OK. */
int kn_cuda_init(kn_cuda **out, int device, char *why, size_t why_len);
void kn_cuda_free(kn_cuda *cu);

/* "CUDA_ERROR_NO_DEVICE" for 100; our own table, so it works without cuGetErrorName. */
const char *kn_cuda_error_name(kn_cu_result r);
/* True for the results that mean "there is no usable GPU here": 34 (stub library),
 * 35 (driver older than the runtime needs), 100 (no device), 46 (device unavailable). */
bool kn_cuda_is_no_device(kn_cu_result r);
/* Prints "error: no CUDA device available (<why>)" and a hint to use the CPU build. */
void kn_cuda_print_no_device(FILE *f, const char *why);

/* Checked wrappers: false with cu->error set on failure. */
bool kn_cuda_alloc(kn_cuda *cu, kn_cu_deviceptr *p, size_t bytes);
bool kn_cuda_release(kn_cuda *cu, kn_cu_deviceptr p);
bool kn_cuda_upload(kn_cuda *cu, kn_cu_deviceptr dst, const void *src, size_t bytes);
bool kn_cuda_upload_async(kn_cuda *cu, kn_cu_deviceptr dst, const void *src, size_t bytes);
bool kn_cuda_download(kn_cuda *cu, void *dst, kn_cu_deviceptr src, size_t bytes);
bool kn_cuda_zero(kn_cuda *cu, kn_cu_deviceptr p, size_t bytes);
bool kn_cuda_sync(kn_cuda *cu);
/* The optional async group (pinned memory, events, cuStreamWaitEvent, cuMemcpyDtoDAsync): NULL
 * when the driver has all of it, else the name of the first function it lacks. */
const char *kn_cuda_async_missing(const kn_cuda *cu);
/* True when r is 0; else sets cu->error to "<what>: <CUDA error name> (<r>)" and returns false. */
bool kn_cuda_check(kn_cuda *cu, const char *what, kn_cu_result r);

#endif
