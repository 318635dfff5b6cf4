/* test_preprocess.c — kiln's preprocessing against torchvision: the golden file
 * tests/runtime/golden/preprocess.bin (written by make_preprocess_golden.py with torchvision's
 * transforms.v2, antialias=True) holds an input image and the outputs of shorter-edge Resize(n),
 * exact downscales, a mixed down/up resize, an upscale, CenterCrop, and the evaluation pipeline
 * Resize + CenterCrop + ToTensor + Normalize. Each is run through kn_aug_pipeline and compared.
 *
 * kiln's uint8 path weighs in torch's fixed point (kn_aug.c), so uint8 results must be equal
 * (measured: bit for bit); after ToTensor + Normalize the floats may differ by float rounding
 * (tolerance 1e-5, measured 3.6e-7). Shapes must be equal. Exits non-zero on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_aug.h"

#ifndef KN_PREPROCESS_GOLDEN
#error "define KN_PREPROCESS_GOLDEN to the golden file's path"
#endif

typedef struct {
  char name[32];
  int f32, c, h, w;
  float *v; /* CHW */
} golden;

static int pass, fail;

static bool read_u32(FILE *f, unsigned *v) {
  unsigned char b[4];
  if (fread(b, 1, 4, f) != 4) return false;
  *v = b[0] | b[1] << 8 | b[2] << 16 | (unsigned)b[3] << 24;
  return true;
}

static int load(const char *path, golden *g, int max) {
  FILE *f = fopen(path, "rb");
  char magic[8];
  unsigned ver, n;
  if (!f || fread(magic, 1, 8, f) != 8 || memcmp(magic, "KNPREP\0\0", 8) || !read_u32(f, &ver) || ver != 1 ||
      !read_u32(f, &n) || (int)n > max) {
    if (f) fclose(f);
    return -1;
  }
  for (unsigned i = 0; i < n; i++) {
    unsigned len, dt, c, h, w;
    if (!read_u32(f, &len) || len >= sizeof g[i].name || fread(g[i].name, 1, len, f) != len || !read_u32(f, &dt) ||
        !read_u32(f, &c) || !read_u32(f, &h) || !read_u32(f, &w) || c * h * w > 1u << 20) {
      fclose(f);
      return -1;
    }
    g[i].name[len] = 0;
    g[i].f32 = (int)dt, g[i].c = (int)c, g[i].h = (int)h, g[i].w = (int)w;
    size_t count = (size_t)c * h * w;
    g[i].v = malloc(sizeof(float) * count);
    for (size_t k = 0; k < count; k++) {
      if (dt) {
        float x;
        if (fread(&x, 4, 1, f) != 1) return fclose(f), -1;
        g[i].v[k] = x;
      } else {
        int ch = fgetc(f);
        if (ch == EOF) return fclose(f), -1;
        g[i].v[k] = (float)ch;
      }
    }
  }
  fclose(f);
  return (int)n;
}

static const golden *find(const golden *g, int n, const char *name) {
  for (int i = 0; i < n; i++)
    if (!strcmp(g[i].name, name)) return &g[i];
  return NULL;
}

/* Runs steps on the input image and compares with golden `name` (max |difference| <= tol). */
static void check(const golden *g, int n, const char *name, const kn_rt_aug_step *steps, int ns, double tol) {
  const golden *in = find(g, n, "input"), *want = find(g, n, name);
  if (!in || !want) {
    printf("FAIL %s: missing from the golden file\n", name);
    fail++;
    return;
  }
  int h = in->h, w = in->w, c = in->c;
  uint8_t *img = malloc((size_t)h * w * c); /* CHW -> HWC uint8 */
  for (int k = 0; k < c; k++)
    for (int i = 0; i < h * w; i++) img[(size_t)i * c + k] = (uint8_t)in->v[(size_t)k * h * w + i];
  kn_aug_pipeline p;
  kn_error err = {{0}};
  if (!kn_aug_pipeline_init(&p, steps, ns, h, w, c, &err)) {
    printf("FAIL %s: %s\n", name, err.msg);
    fail++;
    free(img);
    return;
  }
  if (p.out_h != want->h || p.out_w != want->w || p.out_c != want->c) {
    printf("FAIL %s: shape %dx%dx%d, torchvision %dx%dx%d\n", name, p.out_c, p.out_h, p.out_w, want->c, want->h,
           want->w);
    fail++;
  } else {
    float *scratch = malloc(kn_aug_scratch_bytes(&p)), *out = malloc(sizeof(float) * (size_t)p.out_c * p.out_h * p.out_w);
    kn_rng r;
    kn_rng_init(&r, 0);
    kn_aug_run(&p, img, &r, out, scratch);
    size_t count = (size_t)want->c * want->h * want->w, differ = 0;
    double worst = 0;
    for (size_t k = 0; k < count; k++) {
      double d = fabs((double)out[k] - want->v[k]);
      if (d > worst) worst = d;
      if (d > 0) differ++;
    }
    bool ok = worst <= tol;
    printf("%s %s: %dx%dx%d, max |kiln - torchvision| %.3g (tolerance %.3g), %zu of %zu values differ\n",
           ok ? "ok  " : "FAIL", name, want->c, want->h, want->w, worst, tol, differ, count);
    ok ? pass++ : fail++;
    free(scratch);
    free(out);
  }
  kn_aug_pipeline_free(&p);
  free(img);
}

int main(void) {
  golden g[16];
  int n = load(KN_PREPROCESS_GOLDEN, g, 16);
  if (n < 0) {
    printf("FAIL cannot read %s\n0 passed, 1 failed\n", KN_PREPROCESS_GOLDEN);
    return 1;
  }
  typedef kn_rt_aug_step S;
  S shorter = {.kind = KN_RT_AUG_RESIZE_SHORTER, .size = {20, 20}};
  check(g, n, "shorter_20", &shorter, 1, 0);
  S exact = {.kind = KN_RT_AUG_RESIZE, .size = {17, 23}};
  check(g, n, "exact_17x23", &exact, 1, 0);
  S mixed = {.kind = KN_RT_AUG_RESIZE, .size = {30, 90}};
  check(g, n, "mixed_30x90", &mixed, 1, 0);
  S up = {.kind = KN_RT_AUG_RESIZE, .size = {80, 100}};
  check(g, n, "up_80x100", &up, 1, 0);
  S crop = {.kind = KN_RT_AUG_CENTER_CROP, .size = {13, 20}};
  check(g, n, "crop_odd_13x20", &crop, 1, 0);
  S eval[4] = {{.kind = KN_RT_AUG_RESIZE_SHORTER, .size = {32, 32}},
               {.kind = KN_RT_AUG_CENTER_CROP, .size = {24, 24}},
               {.kind = KN_RT_AUG_TO_TENSOR},
               {.kind = KN_RT_AUG_NORMALIZE, .mean = {0.485, 0.456, 0.406}, .std = {0.229, 0.224, 0.225}}};
  check(g, n, "eval_32_24", eval, 4, 1e-5);
  for (int i = 0; i < n; i++) free(g[i].v);
  printf("%d passed, %d failed\n", pass, fail);
  return fail ? 1 : 0;
}
