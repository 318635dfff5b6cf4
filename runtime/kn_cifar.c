/* kn_cifar.c — validating reader of the CIFAR-10 binary format (see kn_cifar.h). */
#include "kn_cifar.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const kn_cifar_names[KN_CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

const char *kn_cifar_class_name(int k) { return k >= 0 && k < KN_CIFAR_CLASSES ? kn_cifar_names[k] : "?"; }

/* Size of one batch file in records, after checking it exists and is well sized. */
static long cifar_count_records(const char *path, kn_error *err) {
  struct stat st;
  if (stat(path, &st) != 0)
    return kn_error_set(err, "cifar: cannot open '%s': %s", path, strerror(errno)), -1;
  if (!S_ISREG(st.st_mode)) return kn_error_set(err, "cifar: '%s' is not a regular file", path), -1;
  if (st.st_size == 0 || st.st_size % KN_CIFAR_RECORD != 0)
    return kn_error_set(err,
                        "cifar: '%s' has %lld bytes, not a positive multiple of the %d-byte record "
                        "(truncated or not a CIFAR-10 binary batch?)",
                        path, (long long)st.st_size, KN_CIFAR_RECORD),
           -1;
  return (long)(st.st_size / KN_CIFAR_RECORD);
}

/* Reads `count` records of `path` into images [first, first+count) of ds. */
static bool cifar_read_file(kn_dataset *ds, const char *path, int first, long count, kn_error *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return kn_error_set(err, "cifar: cannot open '%s': %s", path, strerror(errno));
  enum { PLANE = KN_CIFAR_SIDE * KN_CIFAR_SIDE };
  unsigned char rec[KN_CIFAR_RECORD];
  for (long r = 0; r < count; r++) {
    if (fread(rec, 1, sizeof rec, f) != sizeof rec) {
      fclose(f);
      return kn_error_set(err, "cifar: '%s': short read at record %ld (file changed while reading?)", path, r);
    }
    if (rec[0] >= KN_CIFAR_CLASSES) {
      fclose(f);
      return kn_error_set(err, "cifar: '%s': record %ld has label %d, expected 0..9", path, r, rec[0]);
    }
    int i = first + (int)r;
    ds->labels[i] = rec[0];
    uint8_t *img = kn_dataset_image(ds, i);
    for (int p = 0; p < PLANE; p++) {
      img[3 * p + 0] = rec[1 + p];
      img[3 * p + 1] = rec[1 + PLANE + p];
      img[3 * p + 2] = rec[1 + 2 * PLANE + p];
    }
  }
  fclose(f);
  return true;
}

/* A class name: printable ASCII or UTF-8 text without commas (checkpoints join names with ','). */
static bool good_class_name(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f || *p == ',') return false;
    if (*p < 0x80) continue;
    int more = (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
    if (more < 0) return false;
    for (int i = 0; i < more; i++)
      if ((*++p & 0xC0) != 0x80) return false;
  }
  return true;
}

static bool cifar_read_meta(kn_dataset *ds, const char *path, kn_error *err) {
  struct stat st;
  if (stat(path, &st) != 0) return true; /* optional: the standard names stay */
  if (!S_ISREG(st.st_mode)) return kn_error_set(err, "cifar: '%s' is not a regular file", path);
  FILE *f = fopen(path, "rb");
  if (!f) return kn_error_set(err, "cifar: cannot open '%s': %s", path, strerror(errno));
  char line[256];
  int k = 0, lineno = 0;
  while (k < KN_CIFAR_CLASSES && fgets(line, sizeof line, f)) {
    lineno++;
    size_t n = strcspn(line, "\r\n");
    bool whole = line[n] || feof(f);
    line[n] = 0;
    if (n == 0) continue;
    if (!whole || n >= KN_DATASET_NAME_LEN || !good_class_name(line)) {
      fclose(f);
      return kn_error_set(err, "cifar: '%s' line %d is not a class name (printable text without ',', at most %d bytes)",
                          path, lineno, KN_DATASET_NAME_LEN - 1);
    }
    kn_dataset_set_class_name(ds, k++, line);
  }
  fclose(f);
  if (k < KN_CIFAR_CLASSES)
    return kn_error_set(err, "cifar: '%s' names %d classes, expected %d (one per line)", path, k, KN_CIFAR_CLASSES);
  return true;
}

bool kn_cifar_load_files(kn_dataset *ds, const char *const *paths, int n_paths, const char *meta_path,
                         kn_error *err) {
  memset(ds, 0, sizeof *ds);
  long total = 0;
  long *counts = calloc((size_t)(n_paths > 0 ? n_paths : 1), sizeof *counts);
  if (!counts) return kn_error_set(err, "cifar: out of memory");
  for (int i = 0; i < n_paths; i++) {
    counts[i] = cifar_count_records(paths[i], err);
    if (counts[i] < 0) {
      free(counts);
      return false;
    }
    total += counts[i];
  }
  if (total > 0x7fffffff / KN_CIFAR_RECORD) {
    free(counts);
    return kn_error_set(err, "cifar: %ld records is too many", total);
  }
  if (!kn_dataset_init(ds, (int)total, KN_CIFAR_SIDE, KN_CIFAR_SIDE, 3, KN_CIFAR_CLASSES, err)) {
    free(counts);
    return false;
  }
  for (int k = 0; k < KN_CIFAR_CLASSES; k++) kn_dataset_set_class_name(ds, k, kn_cifar_names[k]);
  long first = 0;
  bool ok = true;
  for (int i = 0; ok && i < n_paths; i++) {
    ok = cifar_read_file(ds, paths[i], (int)first, counts[i], err);
    first += counts[i];
  }
  free(counts);
  if (ok && meta_path) ok = cifar_read_meta(ds, meta_path, err);
  if (!ok) kn_dataset_free(ds);
  return ok;
}

bool kn_cifar_load(kn_dataset *ds, const char *dir, kn_cifar_split split, kn_error *err) {
  static const char *const train[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                      "data_batch_4.bin", "data_batch_5.bin"};
  static const char *const test[] = {"test_batch.bin"};
  const char *const *names = split == KN_CIFAR_TRAIN ? train : test;
  int n = split == KN_CIFAR_TRAIN ? 5 : 1;
  char *paths[5];
  size_t len = strlen(dir) + 32;
  char *meta = malloc(len);
  for (int i = 0; i < n; i++) {
    paths[i] = malloc(len);
    if (paths[i]) snprintf(paths[i], len, "%s/%s", dir, names[i]);
  }
  bool ok = meta != NULL;
  for (int i = 0; i < n; i++) ok = ok && paths[i];
  if (ok) {
    snprintf(meta, len, "%s/batches.meta.txt", dir);
    ok = kn_cifar_load_files(ds, (const char *const *)paths, n, meta, err);
  } else {
    memset(ds, 0, sizeof *ds);
    kn_error_set(err, "cifar: out of memory");
  }
  for (int i = 0; i < n; i++) free(paths[i]);
  free(meta);
  return ok;
}
