/* kn_cifar.h — reader for the official CIFAR-10 "binary version" (cifar-10-batches-bin):
 * data_batch_1.bin .. data_batch_5.bin (train, 50000 images), test_batch.bin (10000 images),
 * batches.meta.txt (class names, one per line; line i names label i).
 *
 * Each record is 3073 bytes: 1 label byte (0..9), then the 32x32 red, green and blue planes
 * (CHW, row-major). The reader validates every file (size a positive multiple of 3073, every
 * label 0..9; missing or unreadable files are named in the error) and stores images as HWC uint8
 * in a kn_dataset (the planes are interleaved on load). Without batches.meta.txt the standard
 * names (airplane .. truck) are used; a meta file with fewer than 10 names is an error.
 *
 *   kn_dataset train; kn_error err;
 *   if (!kn_cifar_load(&train, "data/cifar-10-batches-bin", KN_CIFAR_TRAIN, &err))
 *     fprintf(stderr, "error: %s\n", err.msg);
 */
#ifndef KN_CIFAR_H
#define KN_CIFAR_H

#include "kn_dataset.h"

#define KN_CIFAR_RECORD 3073
#define KN_CIFAR_SIDE 32
#define KN_CIFAR_CLASSES 10

typedef enum { KN_CIFAR_TRAIN, KN_CIFAR_TEST } kn_cifar_split;

/* Loads a split from a directory holding the official file names. On failure ds is left empty
 * (nothing to free) and err names the file and the problem. */
bool kn_cifar_load(kn_dataset *ds, const char *dir, kn_cifar_split split, kn_error *err);
/* Loads and concatenates the given batch files; meta_path may be NULL (standard names) or a
 * batches.meta.txt path (missing file -> standard names). */
bool kn_cifar_load_files(kn_dataset *ds, const char *const *paths, int n_paths, const char *meta_path,
                         kn_error *err);
/* The standard name of label k (0..9). */
const char *kn_cifar_class_name(int k);

#endif
