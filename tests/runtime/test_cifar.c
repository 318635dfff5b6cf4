/* test_cifar.c — the CIFAR-10 binary reader on small synthetic batch files (valid, truncated,
 * bad label, missing file, short meta) and, with --real SRC_DIR, a smoke test on the real
 * test_batch.bin when ../shared/cifar10 (relative to SRC_DIR) or /work/shared/cifar10 exists. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kn_check.h"
#include "kn_cifar.h"

static char dir[64];

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* Record r of file f: label (f + r) % 10 unless bad_label >= 0; pixel plane p byte i = (f*7 + r*3 + p*50 + i) & 255. */
static void write_batch(const char *name, int f, int records, int bad_label, long extra_bytes) {
  char p[128];
  path_of(p, sizeof p, name);
  FILE *fp = fopen(p, "wb");
  for (int r = 0; r < records; r++) {
    unsigned char rec[KN_CIFAR_RECORD];
    rec[0] = (unsigned char)(bad_label >= 0 && r == records - 1 ? bad_label : (f + r) % 10);
    for (int pl = 0; pl < 3; pl++)
      for (int i = 0; i < 1024; i++) rec[1 + pl * 1024 + i] = (unsigned char)((f * 7 + r * 3 + pl * 50 + i) & 255);
    fwrite(rec, 1, sizeof rec, fp);
  }
  for (long i = 0; i < extra_bytes; i++) fputc(0, fp);
  fclose(fp);
}

static void write_meta(int names) {
  char p[128];
  path_of(p, sizeof p, "batches.meta.txt");
  FILE *fp = fopen(p, "w");
  for (int k = 0; k < names; k++) fprintf(fp, "name%d\r\n", k);
  fprintf(fp, "\n");
  fclose(fp);
}

static void write_all(void) {
  char name[32];
  for (int f = 1; f <= 5; f++) {
    snprintf(name, sizeof name, "data_batch_%d.bin", f);
    write_batch(name, f, 2, -1, 0);
  }
  write_batch("test_batch.bin", 0, 3, -1, 0);
  write_meta(10);
}

static void test_valid(void) {
  write_all();
  kn_dataset ds;
  kn_error err = {{0}};
  CHECK(kn_cifar_load(&ds, dir, KN_CIFAR_TRAIN, &err));
  CHECK(ds.n == 10 && ds.h == 32 && ds.w == 32 && ds.c == 3 && ds.num_classes == 10);
  /* image 5 = file 3, record 1: label 4; HWC pixel (y=2, x=5) channel 1 = plane 1 byte 69 */
  CHECK(ds.labels[5] == 4);
  const uint8_t *img = kn_dataset_image(&ds, 5);
  CHECK(img[(2 * 32 + 5) * 3 + 1] == ((3 * 7 + 1 * 3 + 50 + 69) & 255));
  CHECK(img[(31 * 32 + 31) * 3 + 2] == ((3 * 7 + 3 + 100 + 1023) & 255));
  CHECK(strcmp(ds.class_names[3], "name3") == 0);
  kn_dataset_free(&ds);
  CHECK(kn_cifar_load(&ds, dir, KN_CIFAR_TEST, &err));
  CHECK(ds.n == 3 && ds.labels[2] == 2);
  kn_dataset_free(&ds);
  /* no meta file: the standard names */
  char p[128];
  path_of(p, sizeof p, "batches.meta.txt");
  unlink(p);
  CHECK(kn_cifar_load(&ds, dir, KN_CIFAR_TEST, &err));
  CHECK(strcmp(ds.class_names[9], "truck") == 0 && strcmp(ds.class_names[0], "airplane") == 0);
  kn_dataset_free(&ds);
}

static void test_errors(void) {
  kn_dataset ds;
  kn_error err = {{0}};
  write_all();
  write_batch("test_batch.bin", 0, 2, -1, 100); /* truncated / padded */
  CHECK(!kn_cifar_load(&ds, dir, KN_CIFAR_TEST, &err));
  CHECK(strstr(err.msg, "test_batch.bin") && strstr(err.msg, "6246 bytes") && strstr(err.msg, "multiple"));
  CHECK(ds.pixels == NULL && ds.n == 0);
  write_batch("test_batch.bin", 0, 0, -1, 0); /* empty */
  CHECK(!kn_cifar_load(&ds, dir, KN_CIFAR_TEST, &err) && strstr(err.msg, "0 bytes"));
  write_batch("data_batch_4.bin", 4, 3, 10, 0); /* bad label in record 2 */
  CHECK(!kn_cifar_load(&ds, dir, KN_CIFAR_TRAIN, &err));
  CHECK(strstr(err.msg, "data_batch_4.bin") && strstr(err.msg, "record 2") && strstr(err.msg, "label 10"));
  write_all();
  char p[128];
  path_of(p, sizeof p, "data_batch_3.bin");
  unlink(p);
  CHECK(!kn_cifar_load(&ds, dir, KN_CIFAR_TRAIN, &err));
  CHECK(strstr(err.msg, "data_batch_3.bin") && strstr(err.msg, "No such file"));
  CHECK(!kn_cifar_load(&ds, "/nonexistent/dir", KN_CIFAR_TEST, &err) && strstr(err.msg, "/nonexistent/dir/test_batch.bin"));
  write_meta(5);
  CHECK(!kn_cifar_load(&ds, dir, KN_CIFAR_TEST, &err) && strstr(err.msg, "names 5 classes"));
}

static void cleanup(void) {
  const char *names[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                         "data_batch_5.bin", "test_batch.bin", "batches.meta.txt"};
  char p[128];
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    path_of(p, sizeof p, names[i]);
    unlink(p);
  }
  rmdir(dir);
}

static int test_real(const char *src) {
  char cand[2][1024];
  snprintf(cand[0], sizeof cand[0], "%s/../shared/cifar10", src);
  snprintf(cand[1], sizeof cand[1], "/work/shared/cifar10");
  const char *found = NULL;
  for (int i = 0; i < 2 && !found; i++) {
    char t[1100];
    if (snprintf(t, sizeof t, "%s/test_batch.bin", cand[i]) >= (int)sizeof t) continue;
    if (access(t, R_OK) == 0) found = cand[i];
  }
  if (!found) {
    printf("SKIP: no CIFAR-10 copy at %s or %s\n", cand[0], cand[1]);
    return 77;
  }
  kn_dataset ds;
  kn_error err = {{0}};
  CHECK(kn_cifar_load(&ds, found, KN_CIFAR_TEST, &err));
  if (!kn_check_failed) {
    CHECK(ds.n == 10000);
    int counts[10] = {0};
    long sum = 0;
    for (int i = 0; i < ds.n; i++) counts[ds.labels[i]]++;
    for (size_t i = 0; i < (size_t)ds.n * 3072; i++) sum += ds.pixels[i];
    for (int k = 0; k < 10; k++) CHECK(counts[k] == 1000);
    double mean = (double)sum / ((double)ds.n * 3072);
    CHECK(mean > 90 && mean < 160); /* CIFAR's mean grey level is about 120 */
    CHECK(strcmp(ds.class_names[1], "automobile") == 0);
    kn_dataset_free(&ds);
  } else {
    fprintf(stderr, "error: %s\n", err.msg);
  }
  return kn_check_summary();
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--real") == 0) return test_real(argv[2]);
  snprintf(dir, sizeof dir, "/tmp/kn_cifar_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_valid();
  test_errors();
  cleanup();
  return kn_check_summary();
}
