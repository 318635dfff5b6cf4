/* kn_imagefolder.c — ImageFolder-style data sets (see kn_imagefolder.h). */
#include "kn_imagefolder.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "kn_aug.h"
#include "kn_image.h"

typedef struct name_list {
  char **v;
  int n, cap;
} name_list;

static void names_free(name_list *l) {
  for (int i = 0; i < l->n; i++) free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static bool names_add(name_list *l, const char *s) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    char **v = realloc(l->v, sizeof *v * (size_t)cap);
    if (!v) return false;
    l->v = v, l->cap = cap;
  }
  return (l->v[l->n] = strdup(s)) != NULL && ++l->n;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_image_name(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* Sorted entries of dir: subfolders (want_dirs) or image files; hidden names skipped. */
static bool list_dir(const char *dir, bool want_dirs, name_list *out, kn_error *err) {
  DIR *d = opendir(dir);
  if (!d) return kn_error_set(err, "cannot open folder '%s'", dir);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue; /* too long to open */
    bool sub = is_dir(path);
    if ((want_dirs ? sub : !sub && is_image_name(e->d_name)) && !names_add(out, e->d_name)) {
      closedir(d);
      return kn_error_set(err, "out of memory");
    }
  }
  closedir(d);
  if (out->n) qsort(out->v, (size_t)out->n, sizeof *out->v, cmp_str);
  return true;
}

bool kn_imagefolder_detect(const char *dir) {
  name_list l = {0};
  kn_error err = {{0}};
  bool yes = list_dir(dir, true, &l, &err) && l.n > 0;
  names_free(&l);
  return yes;
}

/* Decodes path and stores it resized into dst (h x w x 3); false when it does not decode. */
static bool load_one(const char *path, uint8_t *dst, int h, int w) {
  kn_image im;
  kn_error err = {{0}};
  if (!kn_image_load(&im, path, &err)) return false;
  size_t n = (size_t)im.h * (size_t)im.w * 3;
  float *in = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * (size_t)h * (size_t)w * 3);
  size_t mid = (size_t)im.h * (size_t)w * 3;
  float *tmp = malloc(sizeof(float) * (mid > 1 ? mid : 1));
  bool ok = in && out && tmp;
  if (ok) {
    for (size_t i = 0; i < n; i++) in[i] = im.pixels[i];
    kn_aug_resize_aa(in, im.w, 3, 0, 0, im.h, im.w, out, h, w, true, tmp);
    for (size_t i = 0; i < (size_t)h * (size_t)w * 3; i++) dst[i] = (uint8_t)out[i];
  }
  free(in), free(out), free(tmp);
  kn_image_free(&im);
  return ok;
}

bool kn_imagefolder_load(kn_dataset *ds, const char *dir, bool train, double val_fraction, int h, int w, int *skipped,
                         kn_error *err) {
  memset(ds, 0, sizeof *ds);
  *skipped = 0;
  char root[4096];
  bool split_dirs = false;
  snprintf(root, sizeof root, "%s/train", dir);
  if (is_dir(root)) { /* DIR/train + DIR/val (or DIR/test) */
    split_dirs = true;
    if (!train) {
      snprintf(root, sizeof root, "%s/val", dir);
      if (!is_dir(root)) snprintf(root, sizeof root, "%s/test", dir);
    }
  } else {
    snprintf(root, sizeof root, "%s", dir);
  }
  name_list classes = {0}, files = {0}, paths = {0};
  int32_t *labels = NULL;
  bool ok = list_dir(root, true, &classes, err);
  if (ok && !classes.n) ok = kn_error_set(err, "'%s' has no class folders (want DIR/<class>/<image>.png|jpg)", root);
  if (ok && classes.n > KN_DATASET_MAX_CLASSES)
    ok = kn_error_set(err, "'%s' has %d class folders, at most %d", root, classes.n, KN_DATASET_MAX_CLASSES);
  for (int k = 0; ok && k < classes.n; k++) {
    char cdir[4096];
    if (snprintf(cdir, sizeof cdir, "%s/%s", root, classes.v[k]) >= (int)sizeof cdir) {
      ok = kn_error_set(err, "folder name too long in '%s'", root);
      break;
    }
    names_free(&files);
    if (!list_dir(cdir, false, &files, err)) ok = false;
    int n_test = split_dirs ? 0 : (int)lround(val_fraction * files.n);
    int from = split_dirs || train ? 0 : files.n - n_test, to = split_dirs || !train ? files.n : files.n - n_test;
    for (int i = from; ok && i < to; i++) {
      char path[8192];
      if (snprintf(path, sizeof path, "%s/%s", cdir, files.v[i]) >= (int)sizeof path) continue;
      int32_t *l = realloc(labels, sizeof *labels * (size_t)(paths.n + 1));
      if (l) labels = l;
      if (!l || !names_add(&paths, path)) ok = kn_error_set(err, "out of memory");
      else labels[paths.n - 1] = k;
    }
  }
  if (ok && !paths.n) ok = kn_error_set(err, "no PNG or JPEG images in the %s split of '%s'", train ? "train" : "test", dir);
  if (ok) ok = kn_dataset_init(ds, paths.n, h, w, 3, classes.n, err);
  int n = 0;
  for (int i = 0; ok && i < paths.n; i++) {
    if (!load_one(paths.v[i], kn_dataset_image(ds, n), h, w)) {
      if (++*skipped <= 3) fprintf(stderr, "warning: skipping %s: not a readable PNG or JPEG image\n", paths.v[i]);
      continue;
    }
    ds->labels[n++] = labels[i];
  }
  if (ok && !n) ok = kn_error_set(err, "none of the %d images in '%s' decodes", paths.n, root);
  if (ok) {
    kn_dataset_truncate(ds, n);
    for (int k = 0; k < classes.n; k++) kn_dataset_set_class_name(ds, k, classes.v[k]);
  } else {
    kn_dataset_free(ds);
  }
  names_free(&classes), names_free(&files), names_free(&paths);
  free(labels);
  return ok;
}
