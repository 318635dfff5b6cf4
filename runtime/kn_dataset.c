/* kn_dataset.c — allocation and accessors of the in-memory image set (see kn_dataset.h). */
#include "kn_dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool kn_dataset_init(kn_dataset *ds, int n, int h, int w, int c, int num_classes, kn_error *err) {
  memset(ds, 0, sizeof *ds);
  if (n < 0 || h <= 0 || w <= 0 || (c != 1 && c != 3 && c != 4))
    return kn_error_set(err, "dataset: bad shape n=%d h=%d w=%d c=%d", n, h, w, c);
  if (num_classes <= 0 || num_classes > KN_DATASET_MAX_CLASSES)
    return kn_error_set(err, "dataset: bad class count %d (1..%d)", num_classes, KN_DATASET_MAX_CLASSES);
  size_t per = (size_t)h * (size_t)w * (size_t)c;
  ds->pixels = calloc((size_t)n ? (size_t)n * per : 1, 1);
  ds->labels = calloc((size_t)n ? (size_t)n : 1, sizeof *ds->labels);
  ds->class_names = calloc((size_t)num_classes, sizeof *ds->class_names);
  if (!ds->pixels || !ds->labels || !ds->class_names) {
    kn_dataset_free(ds);
    return kn_error_set(err, "dataset: out of memory for %d images of %dx%dx%d", n, h, w, c);
  }
  ds->n = n;
  ds->h = h;
  ds->w = w;
  ds->c = c;
  ds->num_classes = num_classes;
  for (int k = 0; k < num_classes; k++) snprintf(ds->class_names[k], KN_DATASET_NAME_LEN, "class%d", k);
  return true;
}

void kn_dataset_free(kn_dataset *ds) {
  free(ds->pixels);
  free(ds->labels);
  free(ds->class_names);
  memset(ds, 0, sizeof *ds);
}

size_t kn_dataset_image_bytes(const kn_dataset *ds) { return (size_t)ds->h * (size_t)ds->w * (size_t)ds->c; }

uint8_t *kn_dataset_image(const kn_dataset *ds, int i) {
  return ds->pixels + (size_t)i * kn_dataset_image_bytes(ds);
}

void kn_dataset_truncate(kn_dataset *ds, int n) {
  if (n >= 0 && n < ds->n) ds->n = n;
}

void kn_dataset_set_class_name(kn_dataset *ds, int k, const char *name) {
  if (k < 0 || k >= ds->num_classes) return;
  snprintf(ds->class_names[k], KN_DATASET_NAME_LEN, "%s", name);
}
