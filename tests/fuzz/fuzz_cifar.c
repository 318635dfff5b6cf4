/* fuzz_cifar.c — libFuzzer harness for the CIFAR-10 reader: the input is split into a binary
 * batch file and a batches.meta.txt (first byte: how much goes to the meta file, in 16-byte
 * units), both written to a private temporary directory and loaded as `--data` loads them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kn_cifar.h"

static char dir[64], batch_path[96], meta_path[96];

static void write_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) abort();
  if (n && fwrite(p, 1, n, f) != n) abort();
  fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/kn_fuzz_cifar.XXXXXX");
    if (!mkdtemp(dir)) abort();
    snprintf(batch_path, sizeof batch_path, "%s/data_batch.bin", dir);
    snprintf(meta_path, sizeof meta_path, "%s/batches.meta.txt", dir);
  }
  if (size < 1) return 0;
  size_t meta = (size_t)data[0] * 16;
  if (meta > size - 1) meta = size - 1;
  write_file(meta_path, data + 1, meta);
  write_file(batch_path, data + 1 + meta, size - 1 - meta);
  const char *paths[] = {batch_path};
  kn_dataset ds;
  kn_error err = {{0}};
  if (kn_cifar_load_files(&ds, paths, 1, meta_path, &err)) {
    for (int i = 0; i < ds.n; i++)
      if (ds.labels[i] >= ds.num_classes) abort();
    kn_dataset_free(&ds);
  }
  return 0;
}
