/* test_synth.c — the synthetic data set: deterministic under a seed, distinct splits and seeds,
 * balanced labels, any resolution, and learnable: a nearest-class-mean classifier on 8x8
 * downsampled images (a much weaker model than a CNN) already scores far above chance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kn_check.h"
#include "kn_synth.h"

/* 8x8x3 block-mean features of a 32x32x3 image. */
static void features(const uint8_t *img, float *f) {
  memset(f, 0, 192 * sizeof(float));
  for (int y = 0; y < 32; y++)
    for (int x = 0; x < 32; x++)
      for (int k = 0; k < 3; k++) f[((y / 4) * 8 + x / 4) * 3 + k] += img[(y * 32 + x) * 3 + k] / 16.f;
}

int main(void) {
  kn_error err;
  kn_dataset a, b, t, g;
  CHECK(kn_synth_init(&a, 2000, 32, 32, 3, 42, KN_SYNTH_TRAIN, &err));
  CHECK(kn_synth_init(&b, 2000, 32, 32, 3, 42, KN_SYNTH_TRAIN, &err));
  CHECK(memcmp(a.pixels, b.pixels, kn_dataset_image_bytes(&a) * 2000) == 0);
  CHECK(memcmp(a.labels, b.labels, 2000 * sizeof(int32_t)) == 0);
  kn_dataset_free(&b);
  CHECK(kn_synth_init(&b, 10, 32, 32, 3, 43, KN_SYNTH_TRAIN, &err));
  CHECK(memcmp(a.pixels, b.pixels, kn_dataset_image_bytes(&a) * 10) != 0);
  kn_dataset_free(&b);
  CHECK(kn_synth_init(&t, 500, 32, 32, 3, 42, KN_SYNTH_TEST, &err));
  CHECK(memcmp(a.pixels, t.pixels, kn_dataset_image_bytes(&a)) != 0);
  int counts[10] = {0};
  for (int i = 0; i < a.n; i++) counts[a.labels[i]]++;
  for (int k = 0; k < 10; k++) CHECK(counts[k] == 200);
  CHECK(strcmp(a.class_names[4], "disk") == 0 && a.num_classes == 10);
  /* nearest class mean */
  float *mean = calloc(10 * 192, sizeof(float)), f[192];
  for (int i = 0; i < a.n; i++) {
    features(kn_dataset_image(&a, i), f);
    for (int j = 0; j < 192; j++) mean[a.labels[i] * 192 + j] += f[j] / 200.f;
  }
  int correct = 0;
  for (int i = 0; i < t.n; i++) {
    features(kn_dataset_image(&t, i), f);
    int best = -1;
    double bd = 1e30;
    for (int k = 0; k < 10; k++) {
      double d = 0;
      for (int j = 0; j < 192; j++) d += (f[j] - mean[k * 192 + j]) * (f[j] - mean[k * 192 + j]);
      if (d < bd) bd = d, best = k;
    }
    correct += best == t.labels[i];
  }
  printf("nearest-class-mean accuracy on the synthetic test split: %.3f\n", correct / (double)t.n);
  CHECK(correct > t.n / 2); /* chance is 10 % */
  free(mean);
  /* other resolutions and grey */
  CHECK(kn_synth_init(&g, 20, 224, 160, 1, 1, KN_SYNTH_TRAIN, &err));
  CHECK(g.h == 224 && g.w == 160 && g.c == 1);
  long sum = 0;
  for (size_t i = 0; i < kn_dataset_image_bytes(&g); i++) sum += kn_dataset_image(&g, 3)[i];
  CHECK(sum > 0);
  kn_dataset_free(&g);
  CHECK(!kn_synth_init(&g, 20, 32, 32, 2, 1, KN_SYNTH_TRAIN, &err) && strstr(err.msg, "2 channels"));
  CHECK(!kn_synth_init(&g, 20, 2, 32, 3, 1, KN_SYNTH_TRAIN, &err) && strstr(err.msg, "too small"));
  kn_dataset_free(&a);
  kn_dataset_free(&t);
  return kn_check_summary();
}
