/* tv_resnet_gen.c — writes a safetensors file in the layout of torchvision's ResNet with
 * Bottleneck blocks (ResNet50: width 64, blocks 3 4 6 3, 1000 classes), the names, shapes and
 * dtypes of `torchvision.models.resnet50().state_dict()` (including the I64 num_batches_tracked
 * counters; checked against torchvision 0.29: the same 320 names, shapes, dtypes and order),
 * filled with deterministic values. It stands in for ImageNet weights where no
 * download is possible (tests, CI): `train --init-from` must treat it as it treats the real file.
 *
 *   tv_resnet_gen OUT [WIDTH B1 B2 B3 B4 CLASSES [PREFIX]]     default 64 3 4 6 3 1000 (ResNet50)
 *
 * Value of element k of tensor t: a small number from a hash of (t's index, k), in
 * [-0.05, 0.05) for weights and biases and running means, 1 + that for running variances.
 * PREFIX is put before every name (e.g. "module." as torch.nn.DataParallel writes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_safetensors.h"

typedef struct gen {
  kn_st_writer w;
  const char *prefix;
  void **bufs;
  int n;
  bool ok;
  kn_error err;
} gen;

static float value(uint64_t t, uint64_t k) {
  uint64_t z = t * 0x9e3779b97f4a7c15ULL + k * 0xbf58476d1ce4e5b9ULL + 1;
  z = (z ^ (z >> 31)) * 0x94d049bb133111ebULL;
  z ^= z >> 29;
  return (float)((double)(z >> 40) / 16777216.0 * 0.1 - 0.05);
}

static void add(gen *g, const char *name, int ndim, const int64_t *shape, float offset) {
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= shape[i];
  float *d = malloc(sizeof(float) * (size_t)n);
  g->bufs = realloc(g->bufs, sizeof *g->bufs * (size_t)(g->n + 1));
  if (!d || !g->bufs) exit(1);
  g->bufs[g->n++] = d;
  for (int64_t k = 0; k < n; k++) d[k] = offset + value((uint64_t)g->n, (uint64_t)k);
  char full[256];
  snprintf(full, sizeof full, "%s%s", g->prefix, name);
  if (g->ok && !kn_st_writer_add(&g->w, full, KN_ST_F32, ndim, shape, d, &g->err)) g->ok = false;
}

static void conv(gen *g, const char *name, int64_t out, int64_t in, int64_t k) {
  char s[200];
  snprintf(s, sizeof s, "%s.weight", name);
  add(g, s, 4, (int64_t[]){out, in, k, k}, 0);
}

static void bn(gen *g, const char *name, int64_t c) {
  static const int64_t zero = 0;
  static const char *const part[] = {"weight", "bias", "running_mean", "running_var"};
  char s[200];
  for (int i = 0; i < 4; i++) {
    snprintf(s, sizeof s, "%s.%s", name, part[i]);
    add(g, s, 1, &c, i == 0 || i == 3 ? 1.0f : 0.0f);
  }
  snprintf(s, sizeof s, "%s%s.num_batches_tracked", g->prefix, name);
  if (g->ok && !kn_st_writer_add(&g->w, s, KN_ST_I64, 0, NULL, &zero, &g->err)) g->ok = false;
}

int main(int argc, char **argv) {
  if (argc != 2 && argc != 8 && argc != 9) {
    fprintf(stderr, "usage: tv_resnet_gen OUT [WIDTH B1 B2 B3 B4 CLASSES [PREFIX]]\n");
    return 2;
  }
  int64_t width = argc > 2 ? atoi(argv[2]) : 64, classes = argc > 2 ? atoi(argv[7]) : 1000;
  int blocks[4] = {3, 4, 6, 3};
  for (int i = 0; argc > 2 && i < 4; i++) blocks[i] = atoi(argv[3 + i]);
  gen g = {.prefix = argc > 8 ? argv[8] : "", .ok = true};
  kn_st_writer_init(&g.w);
  conv(&g, "conv1", width, 3, 7);
  bn(&g, "bn1", width);
  int64_t in = width;
  char s[32], t[96];
  for (int l = 0; l < 4; l++) {
    int64_t planes = width << l;
    for (int b = 0; b < blocks[l]; b++) {
      snprintf(s, sizeof s, "layer%d.%d", l + 1, b);
      snprintf(t, sizeof t, "%s.conv1", s), conv(&g, t, planes, in, 1);
      snprintf(t, sizeof t, "%s.bn1", s), bn(&g, t, planes);
      snprintf(t, sizeof t, "%s.conv2", s), conv(&g, t, planes, planes, 3);
      snprintf(t, sizeof t, "%s.bn2", s), bn(&g, t, planes);
      snprintf(t, sizeof t, "%s.conv3", s), conv(&g, t, planes * 4, planes, 1);
      snprintf(t, sizeof t, "%s.bn3", s), bn(&g, t, planes * 4);
      if (b == 0) { /* torchvision: a projection wherever stride or width changes (every stage) */
        snprintf(t, sizeof t, "%s.downsample.0", s), conv(&g, t, planes * 4, in, 1);
        snprintf(t, sizeof t, "%s.downsample.1", s), bn(&g, t, planes * 4);
      }
      in = planes * 4;
    }
  }
  add(&g, "fc.weight", 2, (int64_t[]){classes, in}, 0);
  add(&g, "fc.bias", 1, &classes, 0);
  kn_st_writer_set_meta(&g.w, "format", "pt");
  if (g.ok && !kn_st_writer_write(&g.w, argv[1], &g.err)) g.ok = false;
  if (!g.ok) fprintf(stderr, "tv_resnet_gen: %s\n", g.err.msg);
  kn_st_writer_free(&g.w);
  for (int i = 0; i < g.n; i++) free(g.bufs[i]);
  free(g.bufs);
  return g.ok ? 0 : 1;
}
