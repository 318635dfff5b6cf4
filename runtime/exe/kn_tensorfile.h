/* kn_tensorfile.h — a minimal named-tensor file used to move inputs, weights and results
 * between tests and generated executables ("KNTF" files).
 *
 * Layout (little endian): "KNTF", u32 version (1), u32 count; then per tensor: u32 name length,
 * name bytes, u32 dtype (0 f32, 1 i32), u32 rank (<= 4), i64 dims[rank], numel * 4 data bytes.
 *
 *   kn_tfile f = {0};
 *   kn_tfile_add(&f, "input", 0, 4, dims, data);   // copies data
 *   kn_tfile_write(&f, "in.kt");                   // temp file + rename
 *   kn_tfile_free(&f);
 *   if (!kn_tfile_read(&f, "out.kt", err, sizeof err)) ...; kn_tfile_find(&f, "loss");
 */
#ifndef KN_TENSORFILE_H
#define KN_TENSORFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kn_tfile_tensor {
  char *name;
  int dtype, rank;
  int64_t dims[4];
  void *data; /* numel * 4 bytes, owned */
} kn_tfile_tensor;

typedef struct kn_tfile {
  kn_tfile_tensor *t;
  int n, cap;
} kn_tfile;

int64_t kn_tfile_numel(const kn_tfile_tensor *t);
void kn_tfile_add(kn_tfile *f, const char *name, int dtype, int rank, const int64_t *dims, const void *data);
const kn_tfile_tensor *kn_tfile_find(const kn_tfile *f, const char *name);
bool kn_tfile_write(const kn_tfile *f, const char *path);
/* Bounds-checked; on failure fills err and leaves f empty. */
bool kn_tfile_read(kn_tfile *f, const char *path, char *err, size_t errlen);
void kn_tfile_free(kn_tfile *f);

#endif
