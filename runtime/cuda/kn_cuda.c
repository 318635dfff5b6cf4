/* kn_cuda.c — loading the CUDA driver with dlopen, its error names, device/context/stream setup and
 * checked memory calls (see kn_cuda.h). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kn_cuda.h"

static const struct {
  int code;
  const char *name;
} kn_cuda_errors[] = {
    {0, "CUDA_SUCCESS"}, {1, "CUDA_ERROR_INVALID_VALUE"}, {2, "CUDA_ERROR_OUT_OF_MEMORY"},
    {3, "CUDA_ERROR_NOT_INITIALIZED"}, {4, "CUDA_ERROR_DEINITIALIZED"}, {34, "CUDA_ERROR_STUB_LIBRARY"},
    {35, "CUDA_ERROR_INSUFFICIENT_DRIVER"}, {36, "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER"},
    {46, "CUDA_ERROR_DEVICE_UNAVAILABLE"}, {100, "CUDA_ERROR_NO_DEVICE"}, {101, "CUDA_ERROR_INVALID_DEVICE"},
    {102, "CUDA_ERROR_DEVICE_NOT_LICENSED"}, {200, "CUDA_ERROR_INVALID_IMAGE"},
    {201, "CUDA_ERROR_INVALID_CONTEXT"}, {209, "CUDA_ERROR_NO_BINARY_FOR_GPU"},
    {218, "CUDA_ERROR_INVALID_PTX"}, {221, "CUDA_ERROR_JIT_COMPILER_NOT_FOUND"},
    {222, "CUDA_ERROR_UNSUPPORTED_PTX_VERSION"}, {223, "CUDA_ERROR_JIT_COMPILATION_DISABLED"},
    {300, "CUDA_ERROR_INVALID_SOURCE"}, {400, "CUDA_ERROR_INVALID_HANDLE"}, {500, "CUDA_ERROR_NOT_FOUND"},
    {600, "CUDA_ERROR_NOT_READY"}, {700, "CUDA_ERROR_ILLEGAL_ADDRESS"},
    {701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"}, {702, "CUDA_ERROR_LAUNCH_TIMEOUT"},
    {709, "CUDA_ERROR_CONTEXT_IS_DESTROYED"}, {714, "CUDA_ERROR_HARDWARE_STACK_ERROR"},
    {715, "CUDA_ERROR_ILLEGAL_INSTRUCTION"}, {716, "CUDA_ERROR_MISALIGNED_ADDRESS"},
    {719, "CUDA_ERROR_LAUNCH_FAILED"}, {800, "CUDA_ERROR_NOT_PERMITTED"}, {801, "CUDA_ERROR_NOT_SUPPORTED"},
    {802, "CUDA_ERROR_SYSTEM_NOT_READY"}, {803, "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH"},
    {804, "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE"}, {999, "CUDA_ERROR_UNKNOWN"},
};

const char *kn_cuda_error_name(kn_cu_result r) {
  for (size_t k = 0; k < sizeof kn_cuda_errors / sizeof kn_cuda_errors[0]; k++)
    if (kn_cuda_errors[k].code == r) return kn_cuda_errors[k].name;
  return "CUDA_ERROR_(unlisted)";
}

bool kn_cuda_is_no_device(kn_cu_result r) { return r == 34 || r == 35 || r == 46 || r == 100; }

void kn_cuda_print_no_device(FILE *f, const char *why) {
  fprintf(f,
          "error: no CUDA device available (%s)\n"
          "hint: this executable was compiled with --target=cuda; on a machine without an NVIDIA GPU\n"
          "      compile the model for the CPU instead: kiln compile MODEL.yaml -o MODEL\n",
          why);
}

static bool fail(kn_cuda *cu, const char *call, kn_cu_result r) {
  snprintf(cu->error, sizeof cu->error, "%s: %s (%d)", call, kn_cuda_error_name(r), r);
  return false;
}
static bool check(kn_cuda *cu, const char *call, kn_cu_result r) { return r == 0 || fail(cu, call, r); }
bool kn_cuda_check(kn_cuda *cu, const char *what, kn_cu_result r) { return check(cu, what, r); }
#define KN_CU(cu, call, ...) check(cu, #call, (cu)->api.call(__VA_ARGS__))

/* Resolves every entry point; false (why set) when one is missing. */
static bool resolve(kn_cuda *cu, char *why, size_t n) {
  struct {
    void **slot;
    const char *name;
    int optional; /* 1: may be absent; 2: the async group (kn_cuda_async_missing) */
  } syms[] = {
#define KN_SYM(s, opt) {(void **)&cu->api.s, #s, opt}
      KN_SYM(cuInit, 0), KN_SYM(cuDeviceGetCount, 0), KN_SYM(cuDeviceGet, 0), KN_SYM(cuDeviceGetName, 0),
      KN_SYM(cuDeviceGetAttribute, 0), KN_SYM(cuDevicePrimaryCtxRetain, 0),
      KN_SYM(cuDevicePrimaryCtxRelease, 0), KN_SYM(cuCtxSetCurrent, 0), KN_SYM(cuModuleLoadData, 0),
      KN_SYM(cuModuleUnload, 0), KN_SYM(cuModuleGetFunction, 0), KN_SYM(cuLaunchKernel, 0),
      KN_SYM(cuMemAlloc_v2, 0), KN_SYM(cuMemFree_v2, 0), KN_SYM(cuMemcpyHtoD_v2, 0),
      KN_SYM(cuMemcpyDtoH_v2, 0), KN_SYM(cuMemcpyHtoDAsync_v2, 0), KN_SYM(cuMemsetD8_v2, 0),
      KN_SYM(cuStreamCreate, 0), KN_SYM(cuStreamDestroy_v2, 0), KN_SYM(cuStreamSynchronize, 0),
      KN_SYM(cuGetErrorName, 1), KN_SYM(cuMemAllocHost_v2, 2), KN_SYM(cuMemFreeHost, 2),
      KN_SYM(cuMemcpyDtoDAsync_v2, 2), KN_SYM(cuEventCreate, 2), KN_SYM(cuEventDestroy_v2, 2),
      KN_SYM(cuEventRecord, 2), KN_SYM(cuEventSynchronize, 2), KN_SYM(cuStreamWaitEvent, 2),
#undef KN_SYM
  };
  for (size_t k = 0; k < sizeof syms / sizeof syms[0]; k++) {
    *syms[k].slot = dlsym(cu->lib, syms[k].name);
    if (!*syms[k].slot && syms[k].optional == 2 && !cu->async_missing) cu->async_missing = syms[k].name;
    if (!*syms[k].slot && !syms[k].optional) {
      snprintf(why, n, "the CUDA driver lacks %s; it is too old or not the NVIDIA driver", syms[k].name);
      return false;
    }
  }
  return true;
}

static void *open_driver(char *why, size_t n) {
  const char *env = getenv("KN_CUDA_LIBRARY");
  const char *names[] = {env && *env ? env : "libcuda.so.1", env && *env ? NULL : "libcuda.so"};
  void *lib = NULL;
  for (int k = 0; k < 2 && !lib && names[k]; k++) {
    lib = dlopen(names[k], RTLD_NOW | RTLD_LOCAL);
    if (!lib && k == 0) { /* report the first name: the one a driver install provides */
      const char *e = dlerror();
      snprintf(why, n, "%s", e ? e : names[0]);
    }
  }
  return lib;
}

int kn_cuda_init(kn_cuda **out, int device, char *why, size_t why_len) {
  *out = NULL;
  why[0] = 0;
  kn_cuda *cu = calloc(1, sizeof *cu);
  if (!cu) {
    snprintf(why, why_len, "out of memory");
    return KN_CUDA_ERROR;
  }
  cu->lib = open_driver(why, why_len);
  if (!cu->lib) {
    free(cu);
    return KN_CUDA_NO_DEVICE;
  }
  if (!resolve(cu, why, why_len)) {
    dlclose(cu->lib);
    free(cu);
    return KN_CUDA_NO_DEVICE;
  }
  int count = 0, st = KN_CUDA_OK;
  kn_cu_result r = cu->api.cuInit(0);
  const char *call = "cuInit";
  if (r == 0) {
    call = "cuDeviceGetCount";
    r = cu->api.cuDeviceGetCount(&count);
  }
  if (r == 0 && count <= device) {
    call = "cuDeviceGetCount";
    r = 100;
  }
  if (r == 0) {
    call = "cuDeviceGet";
    r = cu->api.cuDeviceGet(&cu->device, device);
  }
  if (r != 0) {
    snprintf(why, why_len, "%s: %s (%d)", call, kn_cuda_error_name(r), r);
    st = kn_cuda_is_no_device(r) ? KN_CUDA_NO_DEVICE : KN_CUDA_ERROR;
  } else {
    bool ok = KN_CU(cu, cuDeviceGetName, cu->name, (int)sizeof cu->name, cu->device) &&
              KN_CU(cu, cuDeviceGetAttribute, &cu->sm_major, 75 /* COMPUTE_CAPABILITY_MAJOR */, cu->device) &&
              KN_CU(cu, cuDeviceGetAttribute, &cu->sm_minor, 76 /* COMPUTE_CAPABILITY_MINOR */, cu->device) &&
              KN_CU(cu, cuDevicePrimaryCtxRetain, &cu->ctx, cu->device) && KN_CU(cu, cuCtxSetCurrent, cu->ctx) &&
              KN_CU(cu, cuStreamCreate, &cu->stream, 0);
    if (!ok) {
      snprintf(why, why_len, "%s", cu->error);
      st = KN_CUDA_ERROR;
    } else if (cu->sm_major < 8) {
      snprintf(why, why_len, "%s is sm_%d%d; kiln's PTX needs sm_80 or newer", cu->name, cu->sm_major, cu->sm_minor);
      st = KN_CUDA_NO_DEVICE;
    }
  }
  if (st != KN_CUDA_OK) {
    kn_cuda_free(cu);
    return st;
  }
  *out = cu;
  return KN_CUDA_OK;
}

void kn_cuda_free(kn_cuda *cu) {
  if (!cu) return;
  if (cu->stream) cu->api.cuStreamDestroy_v2(cu->stream);
  if (cu->ctx) cu->api.cuDevicePrimaryCtxRelease(cu->device);
  if (cu->lib) dlclose(cu->lib);
  free(cu);
}

bool kn_cuda_alloc(kn_cuda *cu, kn_cu_deviceptr *p, size_t bytes) {
  return KN_CU(cu, cuMemAlloc_v2, p, bytes ? bytes : 1);
}
bool kn_cuda_release(kn_cuda *cu, kn_cu_deviceptr p) { return !p || KN_CU(cu, cuMemFree_v2, p); }
bool kn_cuda_upload(kn_cuda *cu, kn_cu_deviceptr dst, const void *src, size_t bytes) {
  return !bytes || KN_CU(cu, cuMemcpyHtoD_v2, dst, src, bytes);
}
bool kn_cuda_upload_async(kn_cuda *cu, kn_cu_deviceptr dst, const void *src, size_t bytes) {
  return !bytes || KN_CU(cu, cuMemcpyHtoDAsync_v2, dst, src, bytes, cu->stream);
}
bool kn_cuda_download(kn_cuda *cu, void *dst, kn_cu_deviceptr src, size_t bytes) {
  return !bytes || KN_CU(cu, cuMemcpyDtoH_v2, dst, src, bytes);
}
bool kn_cuda_zero(kn_cuda *cu, kn_cu_deviceptr p, size_t bytes) { return !bytes || KN_CU(cu, cuMemsetD8_v2, p, 0, bytes); }
bool kn_cuda_sync(kn_cuda *cu) { return KN_CU(cu, cuStreamSynchronize, cu->stream); }
const char *kn_cuda_async_missing(const kn_cuda *cu) { return cu->async_missing; }
