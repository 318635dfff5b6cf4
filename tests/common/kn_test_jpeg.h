/* kn_test_jpeg.h — writes JPEG test images with libjpeg (tests/runtime, tests/train).
 *
 *   kn_test_write_jpeg("x.jpg", pixels, w, h, 3, 95)   pixels: h rows of w * comps bytes
 *
 * comps is 1 (grey) or 3 (RGB). Returns 0 on success, 1 when the file cannot be written. The
 * program must link libjpeg. */
#ifndef KN_TEST_JPEG_H
#define KN_TEST_JPEG_H

#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>

static inline int kn_test_write_jpeg(const char *path, const uint8_t *pixels, int w, int h, int comps, int quality) {
  FILE *f = fopen(path, "wb");
  if (!f) return 1;
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr jerr;
  c.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = comps;
  c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(pixels + (size_t)c.next_scanline * (size_t)w * (size_t)comps);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  return fclose(f) != 0;
}

#endif
