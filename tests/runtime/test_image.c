/* test_image.c — PNG and JPEG decoding: RGB, grey, RGBA and 16-bit PNGs written with libpng here
 * (exact), RGB and grey JPEGs written with libjpeg here (approximate), and clear errors for
 * truncated and unknown files. */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kn_check.h"
#include "kn_image.h"
#include "kn_test_jpeg.h"

static char path[64];

/* W x H test pattern value for (x, y, k). */
static uint8_t pat(int x, int y, int k) { return (uint8_t)(x * 13 + y * 7 + k * 80); }

/* Writes a PNG of the given colour type and bit depth with libpng directly. */
static void write_png(int w, int h, int color_type, int depth) {
  FILE *f = fopen(path, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  int ch = color_type == PNG_COLOR_TYPE_GRAY ? 1 : color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 3;
  int bps = depth / 8;
  uint8_t *row = malloc((size_t)w * (size_t)ch * (size_t)bps);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++)
      for (int k = 0; k < ch; k++) {
        uint8_t v = k == 3 ? 77 : pat(x, y, k);
        if (bps == 2) row[(x * ch + k) * 2] = v, row[(x * ch + k) * 2 + 1] = 0xAB; /* big-endian: high byte first */
        else row[x * ch + k] = v;
      }
    png_write_row(png, row);
  }
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  free(row);
  fclose(f);
}

static void write_jpeg(int w, int h, int comps) {
  uint8_t *pix = malloc((size_t)w * (size_t)h * (size_t)comps);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < comps; k++) pix[(y * w + x) * comps + k] = (uint8_t)(40 + x * 4 + k * 30 + y * 2);
  if (kn_test_write_jpeg(path, pix, w, h, comps, 98)) fprintf(stderr, "cannot write %s\n", path);
  free(pix);
}

static bool same_pattern(const kn_image *im, int w, int h, bool grey) {
  if (im->w != w || im->h != h || im->c != 3) return false;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < 3; k++)
        if (im->pixels[(y * w + x) * 3 + k] != pat(x, y, grey ? 0 : k)) return false;
  return true;
}

static void truncate_to(long n) { CHECK(truncate(path, n) == 0); }

static void test_png(void) {
  kn_image im;
  kn_error err;
  const int types[4][2] = {{PNG_COLOR_TYPE_RGB, 8}, {PNG_COLOR_TYPE_GRAY, 8}, {PNG_COLOR_TYPE_RGB_ALPHA, 8}, {PNG_COLOR_TYPE_RGB, 16}};
  for (int t = 0; t < 4; t++) {
    write_png(11, 7, types[t][0], types[t][1]);
    CHECK(kn_image_load(&im, path, &err));
    CHECK(same_pattern(&im, 11, 7, types[t][0] == PNG_COLOR_TYPE_GRAY));
    kn_image_free(&im);
  }
  /* our own writer round-trips */
  kn_image src = {5, 4, 3, malloc(60)};
  for (int i = 0; i < 60; i++) src.pixels[i] = (uint8_t)(i * 4);
  CHECK(kn_image_write_png(&src, path, &err));
  CHECK(kn_image_load(&im, path, &err) && im.w == 4 && im.h == 5 && memcmp(im.pixels, src.pixels, 60) == 0);
  kn_image_free(&im);
  kn_image_free(&src);
  /* truncated */
  write_png(32, 32, PNG_COLOR_TYPE_RGB, 8);
  truncate_to(60);
  CHECK(!kn_image_load(&im, path, &err) && strstr(err.msg, "corrupt PNG") && strstr(err.msg, path));
  CHECK(im.pixels == NULL);
  write_png(8, 8, PNG_COLOR_TYPE_RGB, 8); /* a damaged header chunk (bad CRC) */
  FILE *f = fopen(path, "r+b");
  fseek(f, 20, SEEK_SET);
  fputc(0x7f, f);
  fclose(f);
  CHECK(!kn_image_load(&im, path, &err) && strstr(err.msg, "corrupt PNG"));
}

static void test_jpeg(void) {
  kn_image im;
  kn_error err;
  for (int comps = 1; comps <= 3; comps += 2) {
    write_jpeg(24, 16, comps);
    CHECK(kn_image_load(&im, path, &err));
    CHECK(im.w == 24 && im.h == 16 && im.c == 3);
    double diff = 0;
    for (int y = 0; y < 16 && im.pixels; y++)
      for (int x = 0; x < 24; x++)
        for (int k = 0; k < 3; k++) {
          int want = 40 + x * 4 + (comps == 1 ? 0 : k * 30) + y * 2;
          diff += abs(im.pixels[(y * 24 + x) * 3 + k] - want);
        }
    diff /= 24 * 16 * 3;
    CHECK(diff < 3.0);
    if (comps == 1) CHECK(im.pixels[0] == im.pixels[1] && im.pixels[1] == im.pixels[2]);
    kn_image_free(&im);
  }
  write_jpeg(64, 64, 3);
  FILE *f = fopen(path, "rb");
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  truncate_to(n / 2);
  CHECK(!kn_image_load(&im, path, &err) && strstr(err.msg, "corrupt JPEG") && strstr(err.msg, path));
  truncate_to(10);
  CHECK(!kn_image_load(&im, path, &err) && strstr(err.msg, "corrupt JPEG"));
}

static void test_other(void) {
  kn_image im;
  kn_error err;
  FILE *f = fopen(path, "wb");
  fputs("GIF89a....", f);
  fclose(f);
  CHECK(!kn_image_load(&im, path, &err) && strstr(err.msg, "not a PNG or JPEG"));
  CHECK(!kn_image_load(&im, "/nonexistent/cat.png", &err) && strstr(err.msg, "cannot open '/nonexistent/cat.png'"));
  CHECK(!kn_image_decode(&im, (const uint8_t *)"", 0, "empty", &err) && strstr(err.msg, "'empty'"));
}

int main(void) {
  snprintf(path, sizeof path, "/tmp/kn_image_%ld.img", (long)getpid());
  test_png();
  test_jpeg();
  test_other();
  unlink(path);
  return kn_check_summary();
}
