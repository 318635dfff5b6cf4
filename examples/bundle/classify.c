/* classify.c — a C program that calls a classifier compiled by kiln as a bundle: one object file
 * with the network, its trained weights and the preprocessing, and the header declaring its API.
 *
 *   kiln compile models/sample_resnet.yaml --input 32x32 --emit=bundle --weights best.safetensors \
 *       -o classifier.o                       # writes classifier.o and classifier.h
 *   cc -I. examples/bundle/classify.c classifier.o -lm -lpthread -o classify
 *   ./classify cat.ppm                        # binary PPM (P6, 8-bit RGB)
 *
 * It prints the most likely class and its probability, then every class's probability. To keep
 * the example free of image libraries it reads PPM; a program with libpng would pass the decoded
 * RGB rows the same way.
 */
#include <stdio.h>
#include <stdlib.h>

#include "classifier.h"

/* Reads a binary PPM (P6, maxval 255) into a malloc'ed RGB buffer. */
static unsigned char *read_ppm(const char *path, int *h, int *w) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  int maxval = 0;
  unsigned char *rgb = NULL;
  if (fscanf(f, "P6 %d %d %d", w, h, &maxval) == 3 && maxval == 255 && fgetc(f) != EOF && *w > 0 && *h > 0) {
    size_t n = (size_t)*w * (size_t)*h * 3;
    rgb = malloc(n);
    if (rgb && fread(rgb, 1, n, f) != n) {
      free(rgb);
      rgb = NULL;
    }
  }
  fclose(f);
  return rgb;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s IMAGE.ppm\n", argv[0]);
    return 2;
  }
  int h, w;
  unsigned char *rgb = read_ppm(argv[1], &h, &w);
  if (!rgb) {
    fprintf(stderr, "error: cannot read '%s' as a binary PPM (P6, maxval 255)\n", argv[1]);
    return 1;
  }
  char err[512];
  if (kn_bundle_init(err, sizeof err) != 0) {
    fprintf(stderr, "error: %s\n", err);
    free(rgb);
    return 1;
  }
  float probs[KN_BUNDLE_CLASSES];
  int k = kn_bundle_classify(rgb, h, w, probs);
  if (k < 0) {
    fprintf(stderr, "error: classification failed\n");
  } else {
    printf("%s: %s (%.4f)\n", argv[1], kn_bundle_class_name(k), probs[k]);
    for (int i = 0; i < KN_BUNDLE_CLASSES; i++) printf("  %-12s %.4f\n", kn_bundle_class_name(i), probs[i]);
  }
  kn_bundle_free();
  free(rgb);
  return k < 0;
}
