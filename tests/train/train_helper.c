/* train_helper.c — files for the end-to-end training tests (test_train.sh):
 *   train_helper images DIR CLASS SIZE     DIR/img.png, DIR/img.jpg, DIR/img.ppm: synthetic image of
 *                                          CLASS (kn_synth patterns) at SIZE x SIZE, the same pixels
 *   train_helper st-edit IN OUT drop NAME  a copy of a safetensors file without tensor NAME
 *   train_helper st-edit IN OUT add NAME   ... with an extra 1-element tensor NAME
 *   train_helper st-edit IN OUT reshape NAME  ... with NAME flattened to one dimension
 *   train_helper st-edit IN OUT nan NAME   ... with every value of NAME set to NaN
 *   train_helper st-edit IN OUT meta KEY=VALUE  ... with metadata KEY set to VALUE
 *   train_helper st-edit IN OUT int NAME   ... with NAME's F32 bytes relabelled I32
 *   train_helper folder DIR                DIR/{disk,hstripes,vstripes}/ of PNG and JPEG images (synthetic
 *                                          classes 0..2, 20x24 and 24x20), one corrupt .jpg, a notes.txt
 *   train_helper st-same A B SKIP          every F32 tensor of A that B holds with the same name and
 *                                          shape, except names starting with SKIP or holding
 *                                          "running_", is bit-equal in B; prints the count compared
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kn_image.h"
#include "kn_safetensors.h"
#include "kn_synth.h"
#include "kn_test_jpeg.h"

static int images(const char *dir, int cls, int size) {
  uint8_t *px = malloc((size_t)size * (size_t)size * 3);
  /* Image i of the synthetic test split has label i % 10. */
  int label = kn_synth_draw(px, size, size, 3, 99, KN_SYNTH_TEST, 1000 + cls);
  if (label != cls) return 1;
  char path[1024];
  kn_error err = {{0}};
  kn_image im = {.h = size, .w = size, .c = 3, .pixels = px};
  snprintf(path, sizeof path, "%s/img.png", dir);
  if (!kn_image_write_png(&im, path, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  snprintf(path, sizeof path, "%s/img.jpg", dir);
  if (kn_test_write_jpeg(path, px, size, size, 3, 95)) return 1;
  snprintf(path, sizeof path, "%s/img.ppm", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return 1;
  fprintf(f, "P6\n%d %d\n255\n", size, size);
  fwrite(px, 1, (size_t)size * (size_t)size * 3, f);
  fclose(f);
  free(px);
  return 0;
}

static int st_edit(const char *in, const char *out, const char *op, const char *name) {
  kn_st_file f;
  kn_error err = {{0}};
  if (!kn_st_read(&f, in, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  kn_st_writer w;
  kn_st_writer_init(&w);
  static const float one = 1.0f;
  float *nans = NULL; /* borrowed by the writer until it has written */
  int rc = 0;
  for (int i = 0; i < f.n && !rc; i++) {
    const kn_st_tensor *t = &f.tensors[i];
    if (!strcmp(op, "drop") && !strcmp(t->name, name)) continue;
    int64_t flat = t->numel;
    bool reshape = !strcmp(op, "reshape") && !strcmp(t->name, name);
    const void *data = t->data;
    if (!nans && !strcmp(op, "nan") && !strcmp(t->name, name) && t->dtype == KN_ST_F32) {
      nans = malloc(sizeof(float) * (size_t)t->numel);
      for (int64_t k = 0; nans && k < t->numel; k++) nans[k] = NAN;
      data = nans;
    }
    kn_st_dtype dt = !strcmp(op, "int") && !strcmp(t->name, name) ? KN_ST_I32 : t->dtype;
    if (!kn_st_writer_add(&w, t->name, dt, reshape ? 1 : t->ndim, reshape ? &flat : t->shape, data, &err)) rc = 1;
  }
  if (!rc && !strcmp(op, "add") && !kn_st_writer_add(&w, name, KN_ST_F32, 1, (int64_t[]){1}, &one, &err)) rc = 1;
  for (int i = 0; i < f.n_meta; i++) kn_st_writer_set_meta(&w, f.meta_keys[i], f.meta_vals[i]);
  const char *eq = strchr(name, '=');
  if (!strcmp(op, "meta") && eq) {
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(eq - name), name);
    kn_st_writer_set_meta(&w, key, eq + 1);
  }
  if (!rc && !kn_st_writer_write(&w, out, &err)) rc = 1;
  if (rc) fprintf(stderr, "%s\n", err.msg);
  free(nans);
  kn_st_writer_free(&w);
  kn_st_free(&f);
  return rc;
}

static int st_same(const char *a, const char *b, const char *skip) {
  kn_st_file fa, fb;
  kn_error err = {{0}};
  if (!kn_st_read(&fa, a, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
  if (!kn_st_read(&fb, b, &err)) return kn_st_free(&fa), fprintf(stderr, "%s\n", err.msg), 1;
  int same = 0, differ = 0;
  for (int i = 0; i < fa.n; i++) {
    const kn_st_tensor *x = &fa.tensors[i], *y = kn_st_find(&fb, x->name);
    if (!y || x->dtype != KN_ST_F32 || y->dtype != KN_ST_F32 || x->nbytes != y->nbytes) continue;
    if (!strncmp(x->name, skip, strlen(skip)) || strstr(x->name, "running_")) continue;
    if (memcmp(x->data, y->data, x->nbytes)) {
      if (differ++ < 5) fprintf(stderr, "differs: %s\n", x->name);
    } else {
      same++;
    }
  }
  printf("%d equal, %d different\n", same, differ);
  kn_st_free(&fa);
  kn_st_free(&fb);
  return differ || !same;
}

static int folder(const char *dir) {
  static const char *const names[] = {"disk", "hstripes", "vstripes"}; /* folder names; labels are their order */
  char path[1024];
  kn_error err = {{0}};
  mkdir(dir, 0777);
  int made = 0;
  for (int i = 0; made < 3 * 12 && i < 1000; i++) {
    int h = i % 2 ? 20 : 24, w = i % 2 ? 24 : 20;
    uint8_t px[24 * 24 * 3];
    int label = kn_synth_draw(px, h, w, 3, 5, KN_SYNTH_TRAIN, i);
    int k = label == 4 ? 0 : label == 0 ? 1 : label == 1 ? 2 : -1; /* synthetic disk, hstripes, vstripes */
    if (k < 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, names[k]);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/%s/img%03d.%s", dir, names[k], i, i % 3 ? "png" : "jpg");
    kn_image im = {.h = h, .w = w, .c = 3, .pixels = px};
    if (i % 3 ? !kn_image_write_png(&im, path, &err) : kn_test_write_jpeg(path, px, h, w, 3, 95) != 0)
      return fprintf(stderr, "%s\n", err.msg), 1;
    made++;
  }
  snprintf(path, sizeof path, "%s/disk/broken.jpg", dir);
  FILE *f = fopen(path, "wb");
  if (!f) return 1;
  fputs("not a jpeg", f);
  fclose(f);
  snprintf(path, sizeof path, "%s/disk/notes.txt", dir);
  if (!(f = fopen(path, "wb"))) return 1;
  fclose(f);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "folder")) return folder(argv[2]);
  if (argc == 5 && !strcmp(argv[1], "images")) return images(argv[2], atoi(argv[3]), atoi(argv[4]));
  if (argc == 6 && !strcmp(argv[1], "st-edit")) return st_edit(argv[2], argv[3], argv[4], argv[5]);
  if (argc == 5 && !strcmp(argv[1], "st-same")) return st_same(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: train_helper images DIR CLASS SIZE | st-edit IN OUT drop|add|reshape|int|nan NAME | "
                  "st-edit IN OUT meta KEY=VALUE | st-same A B SKIP\n");
  return 2;
}
