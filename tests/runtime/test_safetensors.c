/* test_safetensors.c — safetensors round trip (F32/I64/U8/I32, scalar and empty tensors,
 * metadata with escapes), hand-made corrupt headers (length, JSON syntax, dtype, offsets out of
 * range, wrong span, overlap, duplicates, trailing text, missing keys), a truncated file, and
 * dtype/shape/name errors of kn_st_copy. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kn_check.h"
#include "kn_safetensors.h"

static char path[64];

static void write_raw(const char *header, size_t data_bytes) {
  FILE *f = fopen(path, "wb");
  uint64_t n = strlen(header);
  unsigned char len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(n >> (8 * i));
  fwrite(len8, 1, 8, f);
  fwrite(header, 1, n, f);
  for (size_t i = 0; i < data_bytes; i++) fputc((int)i, f);
  fclose(f);
}

/* Reads path and returns whether it failed with a message containing want. */
static bool fails_with(const char *want) {
  kn_st_file f;
  kn_error err = {{0}};
  if (kn_st_read(&f, path, &err)) {
    kn_st_free(&f);
    fprintf(stderr, "expected failure '%s', but the file was accepted\n", want);
    return false;
  }
  if (!strstr(err.msg, want)) fprintf(stderr, "message '%s' lacks '%s'\n", err.msg, want);
  return strstr(err.msg, want) != NULL && strstr(err.msg, path) != NULL;
}

static void test_round_trip(void) {
  float w[6] = {1.5f, -2, 3.25f, 0, 1e-7f, -1e30f};
  int64_t steps[4] = {1, -2, 1ll << 40, 7};
  uint8_t bytes[5] = {0, 1, 2, 254, 255};
  int32_t ints[3] = {-1, 0, 65536};
  float scalar = 0.125f;
  kn_st_writer wr;
  kn_error err = {{0}};
  kn_st_writer_init(&wr);
  CHECK(kn_st_writer_add(&wr, "layer1.0.conv1.weight", KN_ST_F32, 2, (int64_t[]){2, 3}, w, &err));
  CHECK(kn_st_writer_add(&wr, "opt.step", KN_ST_I64, 1, (int64_t[]){4}, steps, &err));
  CHECK(kn_st_writer_add(&wr, "rng", KN_ST_U8, 1, (int64_t[]){5}, bytes, &err));
  CHECK(kn_st_writer_add(&wr, "ints", KN_ST_I32, 1, (int64_t[]){3}, ints, &err));
  CHECK(kn_st_writer_add(&wr, "lr", KN_ST_F32, 0, NULL, &scalar, &err));
  CHECK(kn_st_writer_add(&wr, "empty \"quoted\"", KN_ST_F32, 2, (int64_t[]){0, 4}, NULL, &err));
  CHECK(!kn_st_writer_add(&wr, "rng", KN_ST_U8, 1, (int64_t[]){5}, bytes, &err) && strstr(err.msg, "twice"));
  CHECK(!kn_st_writer_add(&wr, "__metadata__", KN_ST_U8, 1, (int64_t[]){5}, bytes, &err) && strstr(err.msg, "reserved"));
  kn_st_writer_set_meta(&wr, "epoch", "2");
  kn_st_writer_set_meta(&wr, "note", "a \"b\"\n\\c");
  kn_st_writer_set_meta(&wr, "epoch", "3"); /* replaces */
  CHECK(kn_st_writer_write(&wr, path, &err));
  kn_st_writer_free(&wr);
  char tmp[96];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  CHECK(access(tmp, F_OK) != 0);

  kn_st_file f;
  CHECK(kn_st_read(&f, path, &err));
  if (kn_check_failed) {
    fprintf(stderr, "%s\n", err.msg);
    return;
  }
  CHECK(f.n == 6 && f.n_meta == 2);
  CHECK(strcmp(kn_st_meta(&f, "epoch"), "3") == 0 && strcmp(kn_st_meta(&f, "note"), "a \"b\"\n\\c") == 0);
  CHECK(kn_st_meta(&f, "missing") == NULL);
  const kn_st_tensor *t = kn_st_find(&f, "layer1.0.conv1.weight");
  CHECK(t && t->dtype == KN_ST_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6);
  CHECK(t && ((uintptr_t)(t->data - f.buf) % 8) == 0); /* aligned data region */
  float w2[6];
  CHECK(kn_st_copy(&f, "layer1.0.conv1.weight", KN_ST_F32, 2, (int64_t[]){2, 3}, w2, &err));
  CHECK(memcmp(w, w2, sizeof w) == 0);
  int64_t s2[4];
  CHECK(kn_st_copy(&f, "opt.step", KN_ST_I64, 1, (int64_t[]){4}, s2, &err) && memcmp(s2, steps, sizeof s2) == 0);
  uint8_t b2[5];
  CHECK(kn_st_copy(&f, "rng", KN_ST_U8, 1, NULL, b2, &err) && memcmp(b2, bytes, 5) == 0);
  int32_t i2[3];
  CHECK(kn_st_copy(&f, "ints", KN_ST_I32, 1, (int64_t[]){3}, i2, &err) && memcmp(i2, ints, sizeof i2) == 0);
  float sc = 0;
  CHECK(kn_st_copy(&f, "lr", KN_ST_F32, 0, NULL, &sc, &err) && sc == 0.125f);
  t = kn_st_find(&f, "empty \"quoted\"");
  CHECK(t && t->numel == 0 && t->nbytes == 0);
  /* wrong dtype, wrong shape, missing */
  CHECK(!kn_st_copy(&f, "layer1.0.conv1.weight", KN_ST_I32, 2, NULL, i2, &err) &&
        strstr(err.msg, "has dtype F32, expected I32"));
  CHECK(!kn_st_copy(&f, "layer1.0.conv1.weight", KN_ST_F32, 2, (int64_t[]){3, 2}, w2, &err) &&
        strstr(err.msg, "shape [2, 3], expected [3, 2]"));
  CHECK(!kn_st_copy(&f, "fc.weight", KN_ST_F32, 0, NULL, w2, &err) && strstr(err.msg, "missing tensor 'fc.weight'"));
  kn_st_free(&f);
  /* truncation: the last tensor's end falls past the data */
  struct stat st;
  stat(path, &st);
  CHECK(truncate(path, st.st_size - 4) == 0);
  CHECK(fails_with("outside"));
  CHECK(truncate(path, 5) == 0);
  CHECK(fails_with("too short"));
  /* writing into a missing directory fails cleanly */
  kn_st_writer_init(&wr);
  CHECK(!kn_st_writer_write(&wr, "/nonexistent/dir/x.safetensors", &err) && strstr(err.msg, "cannot write"));
  kn_st_writer_free(&wr);
}

static void test_corrupt(void) {
  write_raw("{}", 0);
  kn_st_file f;
  kn_error err;
  CHECK(kn_st_read(&f, path, &err) && f.n == 0);
  kn_st_free(&f);
  write_raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ", 8);
  CHECK(kn_st_read(&f, path, &err) && f.n == 1);
  kn_st_free(&f);
  /* header length larger than the file */
  FILE *fp = fopen(path, "wb");
  fwrite("\xff\x00\x00\x00\x00\x00\x00\x00{}", 1, 10, fp);
  fclose(fp);
  CHECK(fails_with("header length 255 exceeds"));
  /* malformed headers: {header, data bytes after it, expected error} */
  static const struct {
    const char *header;
    size_t data_bytes;
    const char *want;
  } bad[] = {
      {"[1, 2]", 0, "expected '{'"},
      {"{\"a\":{\"dtype\":\"F32", 0, "unterminated string"},
      {"{\"a\":{\"dtype\":\"F8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "unknown dtype 'F8'"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside the 4-byte data region"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 12, "span 8 bytes"},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
       "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[6,10]}}", 12, "overlap"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
       "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 4, "appears twice"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}} x", 2, "unexpected text"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[2]}}", 2, "lacks \"data_offsets\""},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[-2],\"data_offsets\":[0,2]}}", 2, "non-negative integer"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],\"extra\":1}}", 2, "unknown key 'extra'"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,2]}}", 6, "outside"},
      {"{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,2]}}", 2, "too large"},
      {"{\"__metadata__\":{\"k\":3}}", 0, "expected '\"'"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    write_raw(bad[k].header, bad[k].data_bytes);
    CHECK_MSG(fails_with(bad[k].want), "header %s", bad[k].header);
  }
  write_raw("{\"__metadata__\":{\"k\":\"\\u00e9\\n\"}}", 0);
  CHECK(kn_st_read(&f, path, &err) && strcmp(kn_st_meta(&f, "k"), "\xc3\xa9\n") == 0);
  kn_st_free(&f);
  CHECK(!kn_st_read(&f, "/nonexistent.safetensors", &err) && strstr(err.msg, "cannot open"));
}

static void test_convert(void) {
  const uint16_t half[6] = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00}; /* 1, -2, .5, 65504, 2^-24, inf */
  const uint16_t bf[2] = {0x3F80, 0xC0A0};                                     /* 1, -5 */
  const double dbl[2] = {0.25, -1e10};
  const int32_t i32[1] = {3};
  kn_st_writer wr;
  kn_error err;
  kn_st_writer_init(&wr);
  CHECK(kn_st_writer_add(&wr, "h", KN_ST_F16, 2, (int64_t[]){2, 3}, half, &err));
  CHECK(kn_st_writer_add(&wr, "b", KN_ST_BF16, 1, (int64_t[]){2}, bf, &err));
  CHECK(kn_st_writer_add(&wr, "d", KN_ST_F64, 1, (int64_t[]){2}, dbl, &err));
  CHECK(kn_st_writer_add(&wr, "i", KN_ST_I32, 1, (int64_t[]){1}, i32, &err));
  CHECK(kn_st_writer_write(&wr, path, &err));
  kn_st_writer_free(&wr);
  kn_st_file f;
  float out[6] = {0};
  CHECK(kn_st_read(&f, path, &err));
  CHECK(kn_st_copy_f32(&f, "h", 2, (int64_t[]){2, 3}, out, &err));
  CHECK(out[0] == 1 && out[1] == -2 && out[2] == 0.5f && out[3] == 65504 && out[4] == 0x1p-24f && isinf(out[5]));
  CHECK(kn_st_copy_f32(&f, "b", 1, (int64_t[]){2}, out, &err) && out[0] == 1 && out[1] == -5);
  CHECK(kn_st_copy_f32(&f, "d", 1, NULL, out, &err) && out[0] == 0.25f && out[1] == -1e10f);
  CHECK(!kn_st_copy_f32(&f, "h", 1, (int64_t[]){6}, out, &err) && strstr(err.msg, "shape [2, 3], expected [6]"));
  CHECK(!kn_st_copy_f32(&f, "i", 1, NULL, out, &err) && strstr(err.msg, "has dtype I32, expected F32"));
  CHECK(!kn_st_copy_f32(&f, "zz", 1, NULL, out, &err) && strstr(err.msg, "missing tensor"));
  kn_st_free(&f);
}

int main(void) {
  snprintf(path, sizeof path, "/tmp/kn_st_%ld.safetensors", (long)getpid());
  test_round_trip();
  test_corrupt();
  test_convert();
  unlink(path);
  return kn_check_summary();
}
