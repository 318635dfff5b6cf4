/* fuzz_safetensors.c — libFuzzer harness for the safetensors reader (header JSON, metadata,
 * offsets and dtypes): parse an in-memory file, then read every tensor back as F32 the way
 * weight import does (F16/BF16/F64 conversions included). */
#include <stdint.h>
#include <stdlib.h>

#include "kn_safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kn_st_file f;
  kn_error err = {{0}};
  if (!kn_st_parse(&f, data, size, "fuzz", &err)) return 0;
  for (int i = 0; i < f.n; i++) {
    const kn_st_tensor *t = &f.tensors[i];
    if (kn_st_find(&f, t->name) == NULL) abort(); /* every listed tensor is found by name */
    if (t->numel > (1 << 20)) continue;
    float *dst = malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
    if (dst) kn_st_copy_f32(&f, t->name, t->ndim, t->shape, dst, &err);
    free(dst);
  }
  kn_st_meta(&f, "format");
  kn_st_free(&f);
  return 0;
}
