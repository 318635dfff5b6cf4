/* kn_dataset.h — an in-memory labelled image set, the common currency of the data side:
 * the CIFAR-10 reader (kn_cifar.h) and the synthetic generator (kn_synth.h) fill one, the batch
 * loader (kn_loader.h) reads from it.
 *
 * Layout: pixels are uint8, image-major, each image HWC (row-major rows, channels interleaved:
 * pixel (y, x) channel k of image i is pixels[((i * h + y) * w + x) * c + k]). This is the layout
 * of a PIL image / torchvision's input to ToTensor, and what the augmentation steps consume.
 *
 *   kn_dataset ds;
 *   if (!kn_cifar_load(&ds, "cifar-10-batches-bin", KN_CIFAR_TEST, &err)) ...
 *   const uint8_t *img = kn_dataset_image(&ds, 7);   // 32*32*3 bytes, HWC
 *   int label = ds.labels[7];                        // 0..num_classes-1
 *   kn_dataset_free(&ds);
 */
#ifndef KN_DATASET_H
#define KN_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kn_error.h"

#define KN_DATASET_MAX_CLASSES 1000
#define KN_DATASET_NAME_LEN 48

typedef struct kn_dataset {
  int n;           /* number of images */
  int h, w, c;     /* image height, width, channels (3 = RGB, 1 = gray) */
  uint8_t *pixels; /* [n][h][w][c], owned */
  int32_t *labels; /* [n], 0..num_classes-1, owned */
  int num_classes;
  char (*class_names)[KN_DATASET_NAME_LEN]; /* [num_classes], owned */
} kn_dataset;

/* Allocates an n-image set of the given shape with zeroed pixels and labels and class names
 * "class0".."classK-1". Returns false (with a message) on bad sizes or out of memory. */
bool kn_dataset_init(kn_dataset *ds, int n, int h, int w, int c, int num_classes, kn_error *err);
/* Frees what kn_dataset_init (or a loader) allocated and zeroes the struct; safe twice. */
void kn_dataset_free(kn_dataset *ds);
/* Bytes per image (h*w*c). */
size_t kn_dataset_image_bytes(const kn_dataset *ds);
/* Pointer to image i (HWC). */
uint8_t *kn_dataset_image(const kn_dataset *ds, int i);
/* Keeps only the first n images (n <= ds->n); for quick runs. */
void kn_dataset_truncate(kn_dataset *ds, int n);
/* Sets class name k (truncated to KN_DATASET_NAME_LEN-1 bytes). */
void kn_dataset_set_class_name(kn_dataset *ds, int k, const char *name);

#endif
