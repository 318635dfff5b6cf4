/* fuzz_image.c — libFuzzer harness for the PNG/JPEG decoding path of `predict` (libpng and
 * libjpeg behind kn_image_decode, with kiln's size checks and conversions to 8-bit RGB). */
#include <stdint.h>
#include <stdlib.h>

#include "kn_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kn_image img;
  kn_error err = {{0}};
  if (kn_image_decode(&img, data, size, "fuzz", &err)) {
    if (img.h < 1 || img.w < 1 || img.c < 1 || !img.pixels) abort();
    volatile uint8_t sum = 0;
    size_t n = (size_t)img.h * (size_t)img.w * (size_t)img.c;
    for (size_t i = 0; i < n; i += 4099) sum += img.pixels[i]; /* every pixel is readable */
    sum += img.pixels[n - 1];
    kn_image_free(&img);
  }
  return 0;
}
