/* two_bundles.c — one program linking two kiln bundles of different models (sample_resnet_tiny
 * and activations_tiny, `kiln compile --emit=bundle`) and classifying one image with both through
 * their model-prefixed APIs. Prints "<model> <class> <probabilities...>" per bundle, which
 * test_two_bundles.sh compares with each bundle linked alone. Exits 1 when a call fails. */
#include <math.h>
#include <stdio.h>

#include "activations_tiny.h"
#include "sample_resnet_tiny.h"

/* A fixed 20x24 RGB image (not the input size: the bundle resizes). */
static void image(unsigned char *rgb, int h, int w) {
  for (int i = 0; i < h * w * 3; i++) rgb[i] = (unsigned char)((i * 37 + i / 7) % 251);
}

static int report(const char *name, int k, const float *p, int n) {
  double s = 0;
  printf("%s %d", name, k);
  for (int i = 0; i < n; i++) printf(" %.6f", p[i]), s += p[i];
  printf("\n");
  return k >= 0 && k < n && fabs(s - 1.0) < 1e-4 ? 0 : 1;
}

int main(void) {
  char err[256];
  unsigned char rgb[20 * 24 * 3];
  image(rgb, 20, 24);
  if (sample_resnet_tiny_init(err, sizeof err) != 0 || activations_tiny_init(err, sizeof err) != 0) {
    fprintf(stderr, "init: %s\n", err);
    return 1;
  }
  float pa[SAMPLE_RESNET_TINY_CLASSES], pb[ACTIVATIONS_TINY_CLASSES];
  int ka = sample_resnet_tiny_classify(rgb, 20, 24, pa), kb = activations_tiny_classify(rgb, 20, 24, pb);
  int bad = report("sample_resnet_tiny", ka, pa, SAMPLE_RESNET_TINY_CLASSES);
  bad |= report("activations_tiny", kb, pb, ACTIVATIONS_TINY_CLASSES);
  if (!sample_resnet_tiny_class_name(ka) || !activations_tiny_class_name(kb)) bad = 1;
  sample_resnet_tiny_free();
  activations_tiny_free();
  return bad;
}
