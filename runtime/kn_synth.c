/* kn_synth.c — deterministic generator of the synthetic 10-class image set (see kn_synth.h). */
#include "kn_synth.h"

#include <math.h>
#include <string.h>

#include "kn_rng.h"

static const char *const kn_synth_names[KN_SYNTH_CLASSES] = {
    "hstripes", "vstripes", "diag", "antidiag", "disk", "ring", "square", "plus", "checker", "cross"};

static float clamp01(float x) { return x < 0.f ? 0.f : x > 1.f ? 1.f : x; }

/* HSV (h in turns) to RGB in [0, 1]. */
static void hsv_to_rgb(double h, double s, double v, float rgb[3]) {
  h = h - floor(h);
  double f = h * 6.0;
  int i = (int)f % 6;
  double fr = f - floor(f);
  double p = v * (1 - s), q = v * (1 - s * fr), t = v * (1 - s * (1 - fr));
  double r, g, b;
  switch (i) {
  case 0: r = v, g = t, b = p; break;
  case 1: r = q, g = v, b = p; break;
  case 2: r = p, g = v, b = t; break;
  case 3: r = p, g = q, b = v; break;
  case 4: r = t, g = p, b = v; break;
  default: r = v, g = p, b = q; break;
  }
  rgb[0] = (float)r, rgb[1] = (float)g, rgb[2] = (float)b;
}

typedef struct synth_params {
  int label;
  double dx, dy;       /* centre shift, image fractions */
  double size;         /* shape half-size, image fractions */
  double thick;        /* line half-width, image fractions */
  double period;       /* stripe period, image fractions */
  double phase;        /* stripe phase, radians */
  double edge;         /* 1 / soft-edge width, in image fractions */
} synth_params;

/* Pattern coverage in [0, 1] at centred coordinates (u, v) in [-0.5, 0.5]. */
static float synth_mask(const synth_params *p, double u, double v) {
  const double two_pi = 6.283185307179586;
  double r = sqrt(u * u + v * v), au = fabs(u), av = fabs(v);
  double inside; /* signed distance-like value, > 0 inside */
  switch (p->label) {
  case 0: return (float)(0.5 + 0.5 * sin(two_pi * v / p->period + p->phase));
  case 1: return (float)(0.5 + 0.5 * sin(two_pi * u / p->period + p->phase));
  case 2: return (float)(0.5 + 0.5 * sin(two_pi * (u + v) * 0.7071067811865476 / p->period + p->phase));
  case 3: return (float)(0.5 + 0.5 * sin(two_pi * (u - v) * 0.7071067811865476 / p->period + p->phase));
  case 4: inside = p->size - r; break;
  case 5: inside = p->thick - fabs(r - p->size); break;
  case 6: inside = p->size - (au > av ? au : av); break;
  case 7: {
    double a = fmin(p->thick - au, p->size - av), b = fmin(p->thick - av, p->size - au);
    inside = fmax(a, b);
    break;
  }
  case 8: return sin(two_pi * u / p->period + p->phase) * sin(two_pi * v / p->period + p->phase) > 0 ? 1.f : 0.f;
  default: {
    double d1 = fabs(u - v) * 0.7071067811865476, d2 = fabs(u + v) * 0.7071067811865476;
    inside = fmin(p->thick - fmin(d1, d2), p->size - (au > av ? au : av));
    break;
  }
  }
  return clamp01((float)(0.5 + inside * p->edge));
}

int kn_synth_draw(uint8_t *out, int h, int w, int c, uint64_t seed, kn_synth_split split, int64_t index) {
  kn_rng r;
  kn_rng_init3(&r, seed, 0x5EED0000u + (uint64_t)split, (uint64_t)index);
  synth_params p;
  p.label = (int)(index % KN_SYNTH_CLASSES);
  p.dx = kn_rng_uniform_range(&r, -0.12, 0.12);
  p.dy = kn_rng_uniform_range(&r, -0.12, 0.12);
  p.size = kn_rng_uniform_range(&r, 0.22, 0.34);
  p.thick = kn_rng_uniform_range(&r, 0.06, 0.09);
  p.period = kn_rng_uniform_range(&r, 0.16, 0.28);
  p.phase = kn_rng_uniform_range(&r, 0.0, 6.283185307179586);
  p.edge = (double)(h < w ? h : w);
  float fg[3], bg[3];
  hsv_to_rgb(p.label / 10.0 + kn_rng_uniform_range(&r, -0.03, 0.03), kn_rng_uniform_range(&r, 0.6, 1.0),
             kn_rng_uniform_range(&r, 0.7, 1.0), fg);
  double bgv = kn_rng_uniform_range(&r, 0.05, 0.45);
  for (int k = 0; k < 3; k++) bg[k] = (float)(bgv + kn_rng_uniform_range(&r, -0.05, 0.05));
  double noise = kn_rng_uniform_range(&r, 0.02, 0.08);
  for (int y = 0; y < h; y++) {
    double v = (y + 0.5) / h - 0.5 - p.dy;
    for (int x = 0; x < w; x++) {
      double u = (x + 0.5) / w - 0.5 - p.dx;
      float m = synth_mask(&p, u, v);
      float px[3];
      for (int k = 0; k < 3; k++) px[k] = bg[k] * (1.f - m) + fg[k] * m;
      uint8_t *o = out + ((size_t)y * (size_t)w + (size_t)x) * (size_t)c;
      if (c == 1) {
        float g = (px[0] + px[1] + px[2]) / 3.f + (float)(noise * kn_rng_normal(&r));
        o[0] = (uint8_t)lrintf(clamp01(g) * 255.f);
      } else {
        for (int k = 0; k < 3; k++)
          o[k] = (uint8_t)lrintf(clamp01(px[k] + (float)(noise * kn_rng_normal(&r))) * 255.f);
      }
    }
  }
  return p.label;
}

bool kn_synth_init(kn_dataset *ds, int n, int h, int w, int c, uint64_t seed, kn_synth_split split,
                   kn_error *err) {
  if (c != 1 && c != 3) {
    memset(ds, 0, sizeof *ds);
    return kn_error_set(err, "synthetic data: %d channels requested, only 1 or 3 are supported", c);
  }
  if (h < 4 || w < 4) {
    memset(ds, 0, sizeof *ds);
    return kn_error_set(err, "synthetic data: %dx%d images are too small (at least 4x4)", h, w);
  }
  if (!kn_dataset_init(ds, n, h, w, c, KN_SYNTH_CLASSES, err)) return false;
  for (int k = 0; k < KN_SYNTH_CLASSES; k++) kn_dataset_set_class_name(ds, k, kn_synth_names[k]);
  for (int i = 0; i < n; i++) ds->labels[i] = kn_synth_draw(kn_dataset_image(ds, i), h, w, c, seed, split, i);
  return true;
}
