/* kn_image.c — PNG/JPEG decoding to RGB and PNG writing (see kn_image.h). libpng and libjpeg
 * report errors by longjmp; all state that changes after setjmp lives in a caller-owned struct. */
#include "kn_image.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>

void kn_image_free(kn_image *img) {
  free(img->pixels);
  memset(img, 0, sizeof *img);
}

#define KN_IMAGE_MAX_SIDE 65536
#define KN_IMAGE_MAX_PIXELS (1u << 28)

/* --- PNG --- */
typedef struct png_state {
  const uint8_t *buf;
  size_t n, pos;
  char msg[200];
  jmp_buf jb;
  uint8_t *pixels;
  png_bytep *rows;
} png_state;

static void png_on_error(png_structp png, png_const_charp msg) {
  png_state *s = png_get_error_ptr(png);
  snprintf(s->msg, sizeof s->msg, "%s", msg);
  longjmp(s->jb, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void png_read_mem(png_structp png, png_bytep out, png_size_t len) {
  png_state *s = png_get_io_ptr(png);
  if (len > s->n - s->pos) png_error(png, "unexpected end of file (truncated PNG)");
  memcpy(out, s->buf + s->pos, len);
  s->pos += len;
}

static bool decode_png(kn_image *img, png_state *s, const char *what, kn_error *err) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, png_on_error, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return kn_error_set(err, "'%s': out of memory", what);
  }
  if (setjmp(s->jb)) {
    png_destroy_read_struct(&png, &info, NULL);
    free(s->pixels);
    free(s->rows);
    return kn_error_set(err, "'%s': corrupt PNG: %s", what, s->msg);
  }
  png_set_read_fn(png, s, png_read_mem);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if (w > KN_IMAGE_MAX_SIDE || h > KN_IMAGE_MAX_SIDE || (uint64_t)w * h > KN_IMAGE_MAX_PIXELS)
    png_error(png, "image too large");
  int ct = png_get_color_type(png, info);
  png_set_expand(png); /* palette -> RGB, grey < 8 bits -> 8, tRNS -> alpha */
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != (size_t)w * 3) png_error(png, "unexpected row layout after conversion");
  s->pixels = malloc((size_t)w * h * 3);
  s->rows = malloc(sizeof *s->rows * h);
  if (!s->pixels || !s->rows) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < h; y++) s->rows[y] = s->pixels + (size_t)y * w * 3;
  png_read_image(png, s->rows);
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  free(s->rows);
  img->pixels = s->pixels;
  img->w = (int)w, img->h = (int)h, img->c = 3;
  return true;
}

/* --- JPEG --- */
typedef struct jpeg_state {
  struct jpeg_error_mgr pub;
  char msg[JMSG_LENGTH_MAX];
  jmp_buf jb;
  uint8_t *pixels;
} jpeg_state;

static void jpeg_on_error(j_common_ptr cinfo) {
  jpeg_state *s = (jpeg_state *)cinfo->err;
  cinfo->err->format_message(cinfo, s->msg);
  longjmp(s->jb, 1);
}

/* Warnings (corrupt or truncated data) are errors too; trace messages are ignored. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_on_error(cinfo);
}

static bool decode_jpeg(kn_image *img, jpeg_state *s, const uint8_t *buf, size_t n, const char *what, kn_error *err) {
  struct jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&s->pub);
  s->pub.error_exit = jpeg_on_error;
  s->pub.emit_message = jpeg_on_message;
  if (setjmp(s->jb)) {
    jpeg_destroy_decompress(&cinfo);
    free(s->pixels);
    return kn_error_set(err, "'%s': corrupt JPEG: %s", what, s->msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, (unsigned char *)buf, (unsigned long)n);
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    snprintf(s->msg, sizeof s->msg, "CMYK JPEGs are not supported");
    longjmp(s->jb, 1);
  }
  /* The size limit before jpeg_start_decompress: for a progressive JPEG it reads every scan into
   * whole-image coefficient buffers, so a 232-byte file declaring 65288x35356 pixels cost seconds
   * and hundreds of MB before the check below (found by fuzz_image). */
  if (cinfo.image_width > KN_IMAGE_MAX_SIDE || cinfo.image_height > KN_IMAGE_MAX_SIDE ||
      (uint64_t)cinfo.image_width * cinfo.image_height > KN_IMAGE_MAX_PIXELS) {
    snprintf(s->msg, sizeof s->msg, "%ux%u pixels is over the limit of %u", (unsigned)cinfo.image_width,
             (unsigned)cinfo.image_height, (unsigned)KN_IMAGE_MAX_PIXELS);
    longjmp(s->jb, 1);
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  unsigned w = cinfo.output_width, h = cinfo.output_height;
  if (cinfo.output_components != 3 || w > KN_IMAGE_MAX_SIDE || h > KN_IMAGE_MAX_SIDE ||
      (uint64_t)w * h > KN_IMAGE_MAX_PIXELS) {
    snprintf(s->msg, sizeof s->msg, "unsupported size or component count");
    longjmp(s->jb, 1);
  }
  s->pixels = malloc((size_t)w * h * 3);
  if (!s->pixels) {
    snprintf(s->msg, sizeof s->msg, "out of memory");
    longjmp(s->jb, 1);
  }
  while (cinfo.output_scanline < h) {
    JSAMPROW row = s->pixels + (size_t)cinfo.output_scanline * w * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  img->pixels = s->pixels;
  img->w = (int)w, img->h = (int)h, img->c = 3;
  return true;
}

bool kn_image_decode(kn_image *img, const uint8_t *buf, size_t n, const char *what, kn_error *err) {
  memset(img, 0, sizeof *img);
  if (n >= 8 && png_sig_cmp((png_const_bytep)buf, 0, 8) == 0) {
    png_state *s = calloc(1, sizeof *s);
    if (!s) return kn_error_set(err, "'%s': out of memory", what);
    s->buf = buf, s->n = n;
    bool ok = decode_png(img, s, what, err);
    free(s);
    return ok;
  }
  if (n >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF) {
    jpeg_state *s = calloc(1, sizeof *s);
    if (!s) return kn_error_set(err, "'%s': out of memory", what);
    bool ok = decode_jpeg(img, s, buf, n, what, err);
    free(s);
    return ok;
  }
  return kn_error_set(err, "'%s': not a PNG or JPEG file (unknown signature)", what);
}

bool kn_image_load(kn_image *img, const char *path, kn_error *err) {
  memset(img, 0, sizeof *img);
  FILE *f = fopen(path, "rb");
  if (!f) return kn_error_set(err, "cannot open '%s': %s", path, strerror(errno));
  struct stat st; /* a directory "opens" and sizes as LONG_MAX */
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return kn_error_set(err, "cannot read '%s': not a regular file", path);
  }
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
  uint8_t *buf = n >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc((size_t)n + 1) : NULL;
  bool ok = buf && fread(buf, 1, (size_t)n, f) == (size_t)n;
  fclose(f);
  if (!ok) {
    free(buf);
    return kn_error_set(err, "cannot read '%s'", path);
  }
  ok = kn_image_decode(img, buf, (size_t)n, path, err);
  free(buf);
  return ok;
}

/* --- PNG writing --- */
typedef struct png_wstate {
  char msg[200];
  jmp_buf jb;
  FILE *f;
} png_wstate;

static void png_on_werror(png_structp png, png_const_charp msg) {
  png_wstate *s = png_get_error_ptr(png);
  snprintf(s->msg, sizeof s->msg, "%s", msg);
  longjmp(s->jb, 1);
}

static bool write_png_file(const kn_image *img, png_wstate *s) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, png_on_werror, png_on_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    snprintf(s->msg, sizeof s->msg, "out of memory");
    return false;
  }
  if (setjmp(s->jb)) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  int ct = img->c == 1 ? PNG_COLOR_TYPE_GRAY : img->c == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB;
  png_init_io(png, s->f);
  png_set_IHDR(png, info, (png_uint_32)img->w, (png_uint_32)img->h, 8, ct, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < img->h; y++) png_write_row(png, img->pixels + (size_t)y * (size_t)img->w * (size_t)img->c);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return true;
}

bool kn_image_write_png(const kn_image *img, const char *path, kn_error *err) {
  if (img->c != 1 && img->c != 3 && img->c != 4) return kn_error_set(err, "PNG: cannot write %d channels", img->c);
  size_t tl = strlen(path) + 32;
  char *tmp = malloc(tl);
  png_wstate *s = calloc(1, sizeof *s);
  if (!tmp || !s) {
    free(tmp), free(s);
    return kn_error_set(err, "PNG: out of memory");
  }
  snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
  s->f = fopen(tmp, "wb");
  bool ok = s->f != NULL;
  if (!ok) snprintf(s->msg, sizeof s->msg, "%s", strerror(errno));
  if (ok) {
    ok = write_png_file(img, s);
    ok = fclose(s->f) == 0 && ok;
    if (ok && rename(tmp, path) != 0) {
      snprintf(s->msg, sizeof s->msg, "%s", strerror(errno));
      ok = false;
    }
    if (!ok) unlink(tmp);
  }
  if (!ok) kn_error_set(err, "cannot write '%s': %s", path, s->msg);
  free(tmp);
  free(s);
  return ok;
}
