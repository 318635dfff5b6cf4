/* test_aug.c — augmentation steps against hand-computed values: bilinear resize (2x2 -> 4x4 and
 * 4 -> 2, uint8 rounding half-to-even), flip, RandomResizedCrop box sampling vs an independent
 * computation on the same random stream and its fallback, ToTensor + Normalize, pipeline layout
 * and validation, and the struct layout shared with compiler/ir/train.h. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kn_check.h"
#include "kn_aug.h"
#include "train.h" /* compiler/ir/train.h, only to compare layouts */

_Static_assert(sizeof(kn_rt_aug_step) == sizeof(kn_aug_step), "kn_rt_aug_step size");
_Static_assert(offsetof(kn_rt_aug_step, size) == offsetof(kn_aug_step, size), "size");
_Static_assert(offsetof(kn_rt_aug_step, p) == offsetof(kn_aug_step, p), "p");
_Static_assert(offsetof(kn_rt_aug_step, scale) == offsetof(kn_aug_step, scale), "scale");
_Static_assert(offsetof(kn_rt_aug_step, ratio) == offsetof(kn_aug_step, ratio), "ratio");
_Static_assert(offsetof(kn_rt_aug_step, mean) == offsetof(kn_aug_step, mean), "mean");
_Static_assert(offsetof(kn_rt_aug_step, std) == offsetof(kn_aug_step, std), "std");
_Static_assert((int)KN_RT_AUG_NORMALIZE == (int)KN_AUG_NORMALIZE && (int)KN_RT_AUG_HFLIP == (int)KN_AUG_HFLIP &&
                   (int)KN_RT_AUG_RANDOM_RESIZED_CROP == (int)KN_AUG_RANDOM_RESIZED_CROP &&
                   (int)KN_RT_AUG_TO_TENSOR == (int)KN_AUG_TO_TENSOR,
               "kind values");

static void test_resize(void) {
  /* 2x2 -> 4x4: source coordinates (d + 0.5) / 2 - 0.5 clamped = 0, 0.25, 0.75, 1 (the last
   * clamps to the edge pixel), so out = bilinear at t in {0, .25, .75, 1} of [[0,100],[200,50]]. */
  const float in[4] = {0, 100, 200, 50};
  const float want[16] = {0,   25,      75,     100,  50,  59.375f, 78.125f, 87.5f,
                          150, 128.125f, 84.375f, 62.5f, 200, 162.5f,  87.5f,   50};
  float out[16];
  kn_aug_resize(in, 2, 2, 1, 0, 0, 2, 2, out, 4, 4, false);
  for (int i = 0; i < 16; i++) CHECK(fabsf(out[i] - want[i]) < 1e-5f);
  /* uint8 path: round half to even (87.5 -> 88, 162.5 -> 162, 62.5 -> 62) */
  const float want_u8[16] = {0, 25, 75, 100, 50, 59, 78, 88, 150, 128, 84, 62, 200, 162, 88, 50};
  kn_aug_resize(in, 2, 2, 1, 0, 0, 2, 2, out, 4, 4, true);
  for (int i = 0; i < 16; i++) CHECK(out[i] == want_u8[i]);
  /* 1x4 -> 1x2 downscale without antialias: src = 0.5 and 2.5, the mean of pixel pairs */
  const float row[4] = {10, 20, 40, 80};
  kn_aug_resize(row, 1, 4, 1, 0, 0, 1, 4, out, 1, 2, false);
  CHECK(out[0] == 15 && out[1] == 60);
  /* a window: columns 1..2 of the row resized to 1 pixel = their mean; channels stay apart */
  const float rgb[6] = {1, 2, 3, 4, 5, 6}; /* 1x2x3 */
  kn_aug_resize(rgb, 1, 2, 3, 0, 0, 1, 2, out, 1, 1, false);
  CHECK(out[0] == 2.5f && out[1] == 3.5f && out[2] == 4.5f);
  kn_aug_resize(row, 1, 4, 1, 0, 1, 1, 2, out, 1, 1, false);
  CHECK(out[0] == 30);
  /* same size: identity */
  kn_aug_resize(row, 1, 4, 1, 0, 0, 1, 4, out, 1, 4, true);
  CHECK(memcmp(out, row, sizeof row) == 0);
}

static void test_flip(void) {
  float img[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}; /* 2x3x2 */
  const float want[12] = {5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8};
  kn_aug_hflip(img, 2, 3, 2);
  CHECK(memcmp(img, want, sizeof want) == 0);
  /* in a pipeline: flip when u < p, one uniform drawn per image */
  kn_rt_aug_step st[1] = {{.kind = KN_RT_AUG_HFLIP, .p = 0.5}};
  kn_aug_pipeline p;
  kn_error err;
  CHECK(kn_aug_pipeline_init(&p, st, 1, 1, 2, 1, &err) && !p.deterministic);
  float scratch[4], out[2];
  const uint8_t px[2] = {7, 9};
  int flips = 0;
  for (int i = 0; i < 1000; i++) {
    kn_rng r, copy;
    kn_rng_init3(&r, 1, 2, (uint64_t)i);
    copy = r;
    kn_aug_run(&p, px, &r, out, scratch);
    bool flipped = out[0] == 9;
    CHECK(flipped == (kn_rng_uniform(&copy) < 0.5));
    CHECK(memcmp(&r, &copy, sizeof r) == 0); /* exactly one draw */
    flips += flipped;
  }
  CHECK(flips > 430 && flips < 570);
}

/* Python's round(): nearest, ties to even — written independently of nearbyint. */
static double py_round(double x) {
  double f = floor(x), d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return fmod(f, 2.0) == 0 ? f : f + 1;
}

/* torchvision RandomResizedCrop.get_params, transcribed line by line. */
static void ref_crop_box(kn_rng *g, int height, int width, const double scale[2], const double ratio[2], int box[4]) {
  double area = height * width;
  double log_ratio[2] = {log(ratio[0]), log(ratio[1])};
  for (int t = 0; t < 10; t++) {
    double target_area = area * (scale[0] + (scale[1] - scale[0]) * kn_rng_uniform(g));
    double aspect_ratio = exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * kn_rng_uniform(g));
    int w = (int)py_round(sqrt(target_area * aspect_ratio));
    int h = (int)py_round(sqrt(target_area / aspect_ratio));
    if (0 < w && w <= width && 0 < h && h <= height) {
      box[0] = (int)kn_rng_int(g, height - h + 1);
      box[1] = (int)kn_rng_int(g, width - w + 1);
      box[2] = h, box[3] = w;
      return;
    }
  }
  double in_ratio = (double)width / height;
  int w, h;
  if (in_ratio < fmin(ratio[0], ratio[1])) {
    w = width;
    h = (int)py_round(w / fmin(ratio[0], ratio[1]));
  } else if (in_ratio > fmax(ratio[0], ratio[1])) {
    h = height;
    w = (int)py_round(h * fmax(ratio[0], ratio[1]));
  } else {
    w = width, h = height;
  }
  box[0] = (height - h) / 2, box[1] = (width - w) / 2, box[2] = h, box[3] = w;
}

static void test_crop_box(void) {
  const double scales[3][2] = {{0.8, 1.0}, {0.08, 1.0}, {0.5, 0.9}};
  const double ratios[3][2] = {{1.0, 1.0}, {3.0 / 4, 4.0 / 3}, {0.25, 4.0}};
  const int sizes[3][2] = {{224, 224}, {32, 32}, {40, 17}};
  int mismatches = 0, in_bounds = 1;
  for (int c = 0; c < 27; c++) {
    const double *s = scales[c % 3], *ra = ratios[(c / 3) % 3];
    int H = sizes[c / 9][0], W = sizes[c / 9][1];
    for (int i = 0; i < 200; i++) {
      kn_rng a, b;
      kn_rng_init3(&a, 99, (uint64_t)c, (uint64_t)i);
      b = a;
      int x[4], y[4];
      kn_aug_crop_box(&a, H, W, s, ra, x);
      ref_crop_box(&b, H, W, s, ra, y);
      mismatches += memcmp(x, y, sizeof x) != 0 || memcmp(&a, &b, sizeof a) != 0;
      in_bounds &= x[0] >= 0 && x[1] >= 0 && x[2] > 0 && x[3] > 0 && x[0] + x[2] <= H && x[1] + x[3] <= W;
    }
  }
  CHECK(mismatches == 0);
  CHECK(in_bounds);
  /* write-up settings: square crops with side in [round(sqrt(.8) * 224), 224] = [200, 224] */
  kn_rng r;
  kn_rng_init(&r, 5);
  int ok = 1;
  for (int i = 0; i < 500; i++) {
    int x[4];
    kn_aug_crop_box(&r, 224, 224, scales[0], ratios[0], x);
    ok &= x[2] == x[3] && x[2] >= 200 && x[2] <= 224;
  }
  CHECK(ok);
  /* fallback: a scale above 1 never fits, so after 10 attempts (20 uniforms) the central crop */
  const double big[2] = {1.5, 2.0}, sq[2] = {1, 1}, tall[2] = {3, 4};
  kn_rng_init(&r, 7);
  kn_rng copy = r;
  int x[4];
  kn_aug_crop_box(&r, 10, 20, big, sq, x); /* in_ratio 2 > 1: h = 10, w = round(10 * 1) */
  CHECK(x[0] == 0 && x[1] == 5 && x[2] == 10 && x[3] == 10);
  for (int i = 0; i < 20; i++) kn_rng_uniform(&copy);
  CHECK(memcmp(&r, &copy, sizeof r) == 0);
  kn_aug_crop_box(&r, 10, 10, big, tall, x); /* in_ratio 1 < 3: w = 10, h = round(10 / 3) = 3 */
  CHECK(x[0] == 3 && x[1] == 0 && x[2] == 3 && x[3] == 10);
  kn_aug_crop_box(&r, 9, 13, big, (const double[2]){1, 2}, x); /* ratio 13/9 inside [1, 2]: whole image */
  CHECK(x[0] == 0 && x[1] == 0 && x[2] == 9 && x[3] == 13);
  kn_aug_crop_box(&r, 8, 30, big, (const double[2]){0.5, 2.5}, x); /* 3.75 > 2.5: w = round(8 * 2.5) = 20 */
  CHECK(x[0] == 0 && x[1] == 5 && x[2] == 8 && x[3] == 20);
}

static void test_tensor_normalize(void) {
  const uint8_t img[12] = {255, 0, 128, 10, 20, 30, 1, 2, 3, 200, 100, 50}; /* 2x2x3 */
  kn_rt_aug_step st[2] = {{.kind = KN_RT_AUG_TO_TENSOR},
                          {.kind = KN_RT_AUG_NORMALIZE, .mean = {0.485, 0.456, 0.406}, .std = {0.229, 0.224, 0.225}}};
  kn_aug_pipeline p;
  kn_error err;
  CHECK(kn_aug_pipeline_init(&p, st, 1, 2, 2, 3, &err) && p.deterministic);
  float *scratch = malloc(kn_aug_scratch_bytes(&p)), out[12];
  kn_aug_run(&p, img, NULL, out, scratch);
  for (int k = 0; k < 3; k++) /* CHW: channel k plane, pixels in row-major order */
    for (int i = 0; i < 4; i++) CHECK(out[k * 4 + i] == img[i * 3 + k] / 255.0f);
  CHECK(kn_aug_pipeline_init(&p, st, 2, 2, 2, 3, &err));
  kn_aug_run(&p, img, NULL, out, scratch);
  CHECK(fabsf(out[0] - (1.0f - 0.485f) / 0.229f) < 1e-6f);      /* R of pixel 0 */
  CHECK(fabsf(out[4] - (0.0f - 0.456f) / 0.224f) < 1e-6f);      /* G of pixel 0 */
  CHECK(fabsf(out[8 + 3] - (50 / 255.0f - 0.406f) / 0.225f) < 1e-6f); /* B of pixel 3 */
  CHECK(out[8] == (128 / 255.0f - 0.406f) / 0.225f);
  free(scratch);
}

static void test_pipeline(void) {
  kn_rt_aug_step wu[5] = {{.kind = KN_RT_AUG_RESIZE, .size = {224, 224}},
                          {.kind = KN_RT_AUG_HFLIP, .p = 0.5},
                          {.kind = KN_RT_AUG_RANDOM_RESIZED_CROP, .size = {224, 224}, .scale = {0.8, 1}, .ratio = {1, 1}},
                          {.kind = KN_RT_AUG_TO_TENSOR},
                          {.kind = KN_RT_AUG_NORMALIZE, .mean = {0.485, 0.456, 0.406}, .std = {0.229, 0.224, 0.225}}};
  kn_aug_pipeline p;
  kn_error err;
  CHECK(kn_aug_pipeline_init(&p, wu, 5, 32, 32, 3, &err));
  CHECK(p.out_c == 3 && p.out_h == 224 && p.out_w == 224 && !p.deterministic);
  uint8_t *img = malloc(32 * 32 * 3);
  for (int i = 0; i < 32 * 32 * 3; i++) img[i] = (uint8_t)(i * 37 % 251);
  float *scratch = malloc(kn_aug_scratch_bytes(&p));
  size_t n = 3 * 224 * 224;
  float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
  kn_rng r;
  kn_rng_init3(&r, 1, 0, 5);
  kn_aug_run(&p, img, &r, a, scratch);
  kn_rng_init3(&r, 1, 0, 5);
  kn_aug_run(&p, img, &r, b, scratch);
  CHECK(memcmp(a, b, n * sizeof(float)) == 0);
  kn_rng_init3(&r, 1, 0, 6);
  kn_aug_run(&p, img, &r, b, scratch);
  CHECK(memcmp(a, b, n * sizeof(float)) != 0);
  float lo = 1e9f, hi = -1e9f;
  for (size_t i = 0; i < n; i++) lo = fminf(lo, a[i]), hi = fmaxf(hi, a[i]);
  CHECK(lo >= -0.485f / 0.229f - 1e-5f && hi <= (1 - 0.406f) / 0.225f + 1e-5f);
  /* Resize alone, no ToTensor: 0..255 integers (the uint8 stage) */
  CHECK(kn_aug_pipeline_init(&p, wu, 1, 32, 32, 3, &err));
  kn_aug_run(&p, img, NULL, a, scratch);
  int integral = 1;
  for (size_t i = 0; i < n; i++) integral &= a[i] == floorf(a[i]) && a[i] >= 0 && a[i] <= 255;
  CHECK(integral);
  free(img), free(scratch), free(a), free(b);
  /* validation */
  CHECK(!kn_aug_pipeline_init(&p, wu + 4, 1, 32, 32, 3, &err) && strstr(err.msg, "Normalize needs ToTensor"));
  kn_rt_aug_step bad = {.kind = KN_RT_AUG_HFLIP, .p = 1.5};
  CHECK(!kn_aug_pipeline_init(&p, &bad, 1, 32, 32, 3, &err) && strstr(err.msg, "p = 1.5"));
  bad = wu[2];
  bad.scale[0] = 0.9, bad.scale[1] = 0.1;
  CHECK(!kn_aug_pipeline_init(&p, &bad, 1, 32, 32, 3, &err) && strstr(err.msg, "scale"));
  bad = wu[0];
  bad.size[1] = 0;
  CHECK(!kn_aug_pipeline_init(&p, &bad, 1, 32, 32, 3, &err) && strstr(err.msg, "size"));
  kn_rt_aug_step twice[2] = {{.kind = KN_RT_AUG_TO_TENSOR}, {.kind = KN_RT_AUG_TO_TENSOR}};
  CHECK(!kn_aug_pipeline_init(&p, twice, 2, 32, 32, 3, &err) && strstr(err.msg, "twice"));
  kn_rt_aug_step zs = wu[4];
  zs.std[1] = 0;
  kn_rt_aug_step zpipe[2] = {wu[3], zs};
  CHECK(!kn_aug_pipeline_init(&p, zpipe, 2, 32, 32, 3, &err) && strstr(err.msg, "std[1]"));
}

int main(void) {
  test_resize();
  test_flip();
  test_crop_box();
  test_tensor_normalize();
  test_pipeline();
  return kn_check_summary();
}
