/* kn_aug.c — torchvision-compatible augmentation steps and the pipeline runner (see kn_aug.h). */
#include "kn_aug.h"

#include <math.h>
#include <string.h>

static const char *aug_name(kn_rt_aug_kind k) {
  switch (k) {
  case KN_RT_AUG_RESIZE: return "Resize";
  case KN_RT_AUG_HFLIP: return "RandomHorizontalFlip";
  case KN_RT_AUG_RANDOM_RESIZED_CROP: return "RandomResizedCrop";
  case KN_RT_AUG_TO_TENSOR: return "ToTensor";
  case KN_RT_AUG_NORMALIZE: return "Normalize";
  }
  return "?";
}

bool kn_aug_pipeline_init(kn_aug_pipeline *p, const kn_rt_aug_step *steps, int n_steps, int in_h, int in_w,
                          int in_c, kn_error *err) {
  memset(p, 0, sizeof *p);
  if (n_steps < 0 || n_steps > KN_RT_MAX_AUG)
    return kn_error_set(err, "augmentation: %d steps, at most %d", n_steps, KN_RT_MAX_AUG);
  if (in_h <= 0 || in_w <= 0 || in_c <= 0 || in_c > 4)
    return kn_error_set(err, "augmentation: bad input image %dx%dx%d", in_h, in_w, in_c);
  int h = in_h, w = in_w;
  size_t max_elems = (size_t)h * (size_t)w * (size_t)in_c;
  bool tensor = false;
  p->deterministic = true;
  for (int i = 0; i < n_steps; i++) {
    const kn_rt_aug_step *s = &steps[i];
    const char *nm = aug_name(s->kind);
    switch (s->kind) {
    case KN_RT_AUG_RANDOM_RESIZED_CROP:
      if (!(s->scale[0] > 0 && s->scale[0] <= s->scale[1]))
        return kn_error_set(err, "augmentation step %d (%s): scale (%g, %g) must satisfy 0 < lo <= hi", i + 1, nm,
                            s->scale[0], s->scale[1]);
      if (!(s->ratio[0] > 0 && s->ratio[0] <= s->ratio[1]))
        return kn_error_set(err, "augmentation step %d (%s): ratio (%g, %g) must satisfy 0 < lo <= hi", i + 1, nm,
                            s->ratio[0], s->ratio[1]);
      p->deterministic = false;
      /* the size check is Resize's */
      /* fall through */
    case KN_RT_AUG_RESIZE:
      if (s->size[0] <= 0 || s->size[1] <= 0 || s->size[0] > 16384 || s->size[1] > 16384)
        return kn_error_set(err, "augmentation step %d (%s): size %dx%d out of range", i + 1, nm, s->size[0],
                            s->size[1]);
      h = s->size[0];
      w = s->size[1];
      break;
    case KN_RT_AUG_HFLIP:
      if (!(s->p >= 0 && s->p <= 1))
        return kn_error_set(err, "augmentation step %d (%s): p = %g outside [0, 1]", i + 1, nm, s->p);
      p->deterministic = false;
      break;
    case KN_RT_AUG_TO_TENSOR:
      if (tensor) return kn_error_set(err, "augmentation step %d: ToTensor appears twice", i + 1);
      tensor = true;
      break;
    case KN_RT_AUG_NORMALIZE:
      if (!tensor)
        return kn_error_set(err, "augmentation step %d: Normalize needs ToTensor before it (it works on floats)",
                            i + 1);
      for (int k = 0; k < in_c && k < 3; k++)
        if (s->std[k] == 0)
          return kn_error_set(err, "augmentation step %d (Normalize): std[%d] is 0", i + 1, k);
      break;
    }
    size_t e = (size_t)h * (size_t)w * (size_t)in_c;
    if (e > max_elems) max_elems = e;
    p->steps[i] = *s;
  }
  p->n_steps = n_steps;
  p->in_h = in_h, p->in_w = in_w, p->in_c = in_c;
  p->out_h = h, p->out_w = w, p->out_c = in_c;
  p->max_elems = max_elems;
  return true;
}

void kn_aug_pipeline_free(kn_aug_pipeline *p) { memset(p, 0, sizeof *p); }

size_t kn_aug_scratch_bytes(const kn_aug_pipeline *p) { return 2 * p->max_elems * sizeof(float); }

/* torch's area_pixel_compute_source_index (align_corners=False, linear) in float. */
static void linear_index(int d, float scale, int in, int *i0, int *i1, float *lambda) {
  float src = scale * ((float)d + 0.5f) - 0.5f;
  if (src < 0.f) src = 0.f;
  int a = (int)src;
  if (a > in - 1) a = in - 1;
  *i0 = a;
  *i1 = a < in - 1 ? a + 1 : a;
  *lambda = src - (float)a;
}

/* Round half to even for |v| < 2^22 (adding and removing 1.5 * 2^23 leaves no fraction bits;
 * the default rounding mode breaks ties to even), as nearbyintf but inline. */
static inline float round_half_even(float v) { return (v + 0x1.8p23f) - 0x1.8p23f; }

void kn_aug_resize(const float *in, int ih, int iw, int c, int top, int left, int ch, int cw, float *out, int oh,
                   int ow, bool round_u8) {
  float sy = (float)ch / (float)oh, sx = (float)cw / (float)ow;
  enum { TABLE = 1024 }; /* column taps precomputed for rows up to this wide */
  int tx0[TABLE], tx1[TABLE];
  float tlx[TABLE];
  bool table = ow <= TABLE;
  for (int x = 0; table && x < ow; x++) linear_index(x, sx, cw, &tx0[x], &tx1[x], &tlx[x]);
  for (int y = 0; y < oh; y++) {
    int y0, y1;
    float ly;
    linear_index(y, sy, ch, &y0, &y1, &ly);
    const float *r0 = in + ((size_t)(top + y0) * (size_t)iw + (size_t)left) * (size_t)c;
    const float *r1 = in + ((size_t)(top + y1) * (size_t)iw + (size_t)left) * (size_t)c;
    float *o = out + (size_t)y * (size_t)ow * (size_t)c;
    for (int x = 0; x < ow; x++) {
      int x0, x1;
      float lx;
      if (table) x0 = tx0[x], x1 = tx1[x], lx = tlx[x];
      else linear_index(x, sx, cw, &x0, &x1, &lx);
      for (int k = 0; k < c; k++) {
        float a = r0[x0 * c + k] * (1.f - lx) + r0[x1 * c + k] * lx;
        float b = r1[x0 * c + k] * (1.f - lx) + r1[x1 * c + k] * lx;
        float v = a * (1.f - ly) + b * ly;
        if (round_u8) {
          v = round_half_even(v);
          v = v < 0.f ? 0.f : v > 255.f ? 255.f : v;
        }
        o[x * c + k] = v;
      }
    }
  }
  (void)ih;
}

void kn_aug_hflip(float *img, int h, int w, int c) {
  for (int y = 0; y < h; y++) {
    float *row = img + (size_t)y * (size_t)w * (size_t)c;
    for (int a = 0, b = w - 1; a < b; a++, b--)
      for (int k = 0; k < c; k++) {
        float t = row[a * c + k];
        row[a * c + k] = row[b * c + k];
        row[b * c + k] = t;
      }
  }
}

void kn_aug_crop_box(kn_rng *rng, int h, int w, const double scale[2], const double ratio[2], int box[4]) {
  double area = (double)h * (double)w;
  double lr0 = log(ratio[0]), lr1 = log(ratio[1]);
  for (int attempt = 0; attempt < 10; attempt++) {
    double target_area = area * kn_rng_uniform_range(rng, scale[0], scale[1]);
    double aspect = exp(kn_rng_uniform_range(rng, lr0, lr1));
    double cw = nearbyint(sqrt(target_area * aspect)), chh = nearbyint(sqrt(target_area / aspect));
    if (cw > 0 && cw <= w && chh > 0 && chh <= h) {
      int bh = (int)chh, bw = (int)cw;
      box[0] = (int)kn_rng_int(rng, h - bh + 1);
      box[1] = (int)kn_rng_int(rng, w - bw + 1);
      box[2] = bh;
      box[3] = bw;
      return;
    }
  }
  /* Fallback to a central crop, the ratio clamped into [min(ratio), max(ratio)]. */
  double in_ratio = (double)w / (double)h;
  double rmin = fmin(ratio[0], ratio[1]), rmax = fmax(ratio[0], ratio[1]);
  int bw, bh;
  if (in_ratio < rmin) {
    bw = w;
    bh = (int)nearbyint(bw / rmin);
  } else if (in_ratio > rmax) {
    bh = h;
    bw = (int)nearbyint(bh * rmax);
  } else {
    bw = w;
    bh = h;
  }
  box[0] = (h - bh) / 2;
  box[1] = (w - bw) / 2;
  box[2] = bh;
  box[3] = bw;
}

void kn_aug_run(const kn_aug_pipeline *p, const uint8_t *img, kn_rng *rng, float *out, float *scratch) {
  float *cur = scratch, *other = scratch + p->max_elems;
  int h = p->in_h, w = p->in_w, c = p->in_c;
  size_t n = (size_t)h * (size_t)w * (size_t)c;
  for (size_t i = 0; i < n; i++) cur[i] = (float)img[i];
  bool u8 = true;
  for (int si = 0; si < p->n_steps; si++) {
    const kn_rt_aug_step *s = &p->steps[si];
    switch (s->kind) {
    case KN_RT_AUG_RESIZE:
    case KN_RT_AUG_RANDOM_RESIZED_CROP: {
      int box[4] = {0, 0, h, w};
      if (s->kind == KN_RT_AUG_RANDOM_RESIZED_CROP) kn_aug_crop_box(rng, h, w, s->scale, s->ratio, box);
      kn_aug_resize(cur, h, w, c, box[0], box[1], box[2], box[3], other, s->size[0], s->size[1], u8);
      float *t = cur;
      cur = other;
      other = t;
      h = s->size[0];
      w = s->size[1];
      break;
    }
    case KN_RT_AUG_HFLIP:
      if (kn_rng_uniform(rng) < s->p) kn_aug_hflip(cur, h, w, c);
      break;
    case KN_RT_AUG_TO_TENSOR:
      n = (size_t)h * (size_t)w * (size_t)c;
      for (size_t i = 0; i < n; i++) cur[i] = cur[i] / 255.0f;
      u8 = false;
      break;
    case KN_RT_AUG_NORMALIZE: {
      float mean[4], std[4];
      for (int k = 0; k < c; k++) {
        mean[k] = (float)s->mean[k < 3 ? k : 2];
        std[k] = (float)s->std[k < 3 ? k : 2];
      }
      n = (size_t)h * (size_t)w;
      for (size_t i = 0; i < n; i++)
        for (int k = 0; k < c; k++) cur[i * c + k] = (cur[i * c + k] - mean[k]) / std[k];
      break;
    }
    }
  }
  /* HWC -> CHW */
  size_t plane = (size_t)h * (size_t)w;
  for (int k = 0; k < c; k++)
    for (size_t i = 0; i < plane; i++) out[k * plane + i] = cur[i * c + k];
}
