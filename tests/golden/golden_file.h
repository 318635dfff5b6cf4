/* golden_file.h — reading the KNGOLD files written by make_golden.py.
 *
 *   kn_golden *gf = kn_golden_load("tests/golden/tiny_cbam.bin");   // NULL + message on error
 *   const kn_golden_tensor *t = kn_golden_find(gf, "loss");
 *   kn_golden_dispose(gf);
 *
 * Format (little endian): "KNGOLD\0\0", u32 version (1), u32 count, then per tensor u32 name
 * length, name, u32 dtype (0 f32, 1 i32), u32 rank, u32 dims[rank], elements.
 */
#ifndef KN_GOLDEN_FILE_H
#define KN_GOLDEN_FILE_H

#include <stdint.h>

#include "ir.h"

typedef struct kn_golden_tensor {
  char *name;
  int dtype;      /* 0 f32, 1 i32 */
  kn_shape shape;
  void *data;     /* numel elements of 4 bytes */
} kn_golden_tensor;

typedef struct kn_golden {
  kn_golden_tensor *t;
  int n;
} kn_golden;

kn_golden *kn_golden_load(const char *path);
const kn_golden_tensor *kn_golden_find(const kn_golden *gf, const char *name); /* NULL if absent */
void kn_golden_dispose(kn_golden *gf);

#endif
