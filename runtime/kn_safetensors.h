/* kn_safetensors.h — reading and writing safetensors files (weights, checkpoints).
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"epoch": "3", ...}, "conv1.weight": {"dtype": "F32", "shape": [64, 3, 7, 7],
 *    "data_offsets": [0, 37632]}, ...}
 * then the data region; offsets are relative to its start. The reader is bounds-checked: the
 * header length must fit the file, the JSON must parse completely (strings, escapes, integers),
 * every tensor needs a known dtype, a shape and [begin, end] offsets inside the data region with
 * end - begin == numel * element size, no two tensors may overlap and names must be unique.
 * Every failure is a message naming the file and the problem. Gaps between tensors are accepted.
 *
 *   kn_st_file f;
 *   if (!kn_st_read(&f, "best.safetensors", &err)) ...
 *   if (!kn_st_copy(&f, "fc.weight", KN_ST_F32, 2, (int64_t[]){10, 2048}, dst, &err)) ...
 *   const char *epoch = kn_st_meta(&f, "epoch");      // NULL when absent
 *   kn_st_free(&f);
 *
 *   kn_st_writer w;
 *   kn_st_writer_init(&w);
 *   kn_st_writer_add(&w, "fc.weight", KN_ST_F32, 2, (int64_t[]){10, 2048}, weights);  // borrowed
 *   kn_st_writer_set_meta(&w, "epoch", "3");                                          // copied
 *   ok = kn_st_writer_write(&w, "ckpt.safetensors", &err);  // temp file + fsync + rename
 *   kn_st_writer_free(&w);
 *
 * The host is assumed little-endian (x86-64, aarch64), like the format.
 */
#ifndef KN_SAFETENSORS_H
#define KN_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kn_error.h"

#define KN_ST_MAX_DIMS 8

typedef enum {
  KN_ST_F32, KN_ST_F64, KN_ST_F16, KN_ST_BF16, KN_ST_I64, KN_ST_I32, KN_ST_I16, KN_ST_I8, KN_ST_U8,
  KN_ST_BOOL
} kn_st_dtype;

typedef struct kn_st_tensor {
  char *name;                     /* owned by the file */
  kn_st_dtype dtype;
  int ndim;
  int64_t shape[KN_ST_MAX_DIMS];
  int64_t numel;
  const uint8_t *data;            /* inside the file buffer; may be unaligned (use kn_st_copy) */
  size_t nbytes;
} kn_st_tensor;

typedef struct kn_st_file {
  uint8_t *buf;       /* whole file (owned unless parsed with kn_st_parse) */
  size_t size;
  bool owned;
  kn_st_tensor *tensors; /* [n], in header order */
  int n;
  char **meta_keys, **meta_vals; /* [n_meta] */
  int n_meta;
} kn_st_file;

/* Element size in bytes and the format's name ("F32") of a dtype. */
size_t kn_st_dtype_size(kn_st_dtype t);
const char *kn_st_dtype_name(kn_st_dtype t);

/* Reads and validates a file. On failure nothing needs freeing. */
bool kn_st_read(kn_st_file *f, const char *path, kn_error *err);
/* Validates an in-memory image (e.g. weights embedded in an executable); buf is borrowed and must
 * outlive f. `what` names it in errors. */
bool kn_st_parse(kn_st_file *f, const uint8_t *buf, size_t size, const char *what, kn_error *err);
void kn_st_free(kn_st_file *f);
/* The tensor called name, or NULL. */
const kn_st_tensor *kn_st_find(const kn_st_file *f, const char *name);
/* A __metadata__ value, or NULL. */
const char *kn_st_meta(const kn_st_file *f, const char *key);
/* Copies tensor `name` into dst after checking it exists, has the dtype and (when shape is not
 * NULL) exactly the shape; errors name the tensor and both shapes/dtypes. */
bool kn_st_copy(const kn_st_file *f, const char *name, kn_st_dtype dtype, int ndim, const int64_t *shape, void *dst,
                kn_error *err);

/* As kn_st_copy into a float array, converting F16, BF16 and F64 tensors to F32 (pretrained
 * weights are often stored in half precision). Other dtypes are an error. */
bool kn_st_copy_f32(const kn_st_file *f, const char *name, int ndim, const int64_t *shape, float *dst, kn_error *err);

typedef struct kn_st_entry {
  char *name;
  kn_st_dtype dtype;
  int ndim;
  int64_t shape[KN_ST_MAX_DIMS];
  const void *data; /* borrowed until kn_st_writer_write returns */
} kn_st_entry;

typedef struct kn_st_writer {
  kn_st_entry *entries;
  int n, cap;
  char **meta_keys, **meta_vals;
  int n_meta, cap_meta;
} kn_st_writer;

void kn_st_writer_init(kn_st_writer *w);
void kn_st_writer_free(kn_st_writer *w);
/* Adds a tensor (name copied, data borrowed). Returns false on a duplicate name, bad ndim or a
 * name starting with "__". */
bool kn_st_writer_add(kn_st_writer *w, const char *name, kn_st_dtype dtype, int ndim, const int64_t *shape,
                      const void *data, kn_error *err);
/* Sets (or replaces) a metadata string. */
void kn_st_writer_set_meta(kn_st_writer *w, const char *key, const char *value);
/* Writes path atomically: path.tmp.<pid>, fsync, rename. */
bool kn_st_writer_write(const kn_st_writer *w, const char *path, kn_error *err);

#endif
