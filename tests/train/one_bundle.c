/* one_bundle.c — the same image and output as two_bundles.c through the unprefixed names
 * (kn_bundle_*, KN_BUNDLE_*) that a bundle header also defines, with one bundle linked alone;
 * bundle.h is the header of whichever bundle the test links. */
#include <math.h>
#include <stdio.h>

#include "bundle.h"

int main(int argc, char **argv) {
  char err[256];
  unsigned char rgb[20 * 24 * 3];
  for (int i = 0; i < 20 * 24 * 3; i++) rgb[i] = (unsigned char)((i * 37 + i / 7) % 251);
  if (argc != 2 || kn_bundle_init(err, sizeof err) != 0) return 1;
  float p[KN_BUNDLE_CLASSES];
  int k = kn_bundle_classify(rgb, 20, 24, p);
  printf("%s %d", argv[1], k);
  for (int i = 0; i < KN_BUNDLE_CLASSES; i++) printf(" %.6f", p[i]);
  printf("\n");
  kn_bundle_free();
  return k >= 0 ? 0 : 1;
}
