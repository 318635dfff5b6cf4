/* kn_image.h — decoding PNG (libpng) and JPEG (libjpeg) files into 8-bit RGB for `predict`, and
 * writing PNG (for debugging and tests).
 *
 * Every input becomes uint8 RGB, HWC: grey is replicated into R, G and B; palette and low bit
 * depths are expanded; 16-bit samples are reduced to 8 bits; alpha is dropped (not composited),
 * like PIL's Image.convert("RGB"). The format is chosen by the file's first bytes, not its name.
 * Corrupt or truncated files are errors (libjpeg's "premature end of data" warnings included),
 * reported with the file name and the library's message; CMYK JPEGs are rejected.
 *
 *   kn_image im;
 *   if (!kn_image_load(&im, "cat.png", &err)) { fprintf(stderr, "error: %s\n", err.msg); ... }
 *   ... im.pixels[(y * im.w + x) * 3 + k] ...
 *   kn_image_free(&im);
 */
#ifndef KN_IMAGE_H
#define KN_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kn_error.h"

typedef struct kn_image {
  int h, w, c;     /* c is 3 after decoding */
  uint8_t *pixels; /* [h][w][c], owned */
} kn_image;

/* Reads and decodes a PNG or JPEG file. On failure nothing needs freeing. */
bool kn_image_load(kn_image *img, const char *path, kn_error *err);
/* Decodes from memory; `what` names the source in errors. */
bool kn_image_decode(kn_image *img, const uint8_t *buf, size_t n, const char *what, kn_error *err);
void kn_image_free(kn_image *img);
/* Writes an 8-bit image (c = 1, 3 or 4) as PNG, via a temporary file and rename. */
bool kn_image_write_png(const kn_image *img, const char *path, kn_error *err);

#endif
