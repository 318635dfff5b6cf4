/* kn_aug.c — torchvision-compatible augmentation steps and the pipeline runner (see kn_aug.h). */
#include "kn_aug.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *aug_name(kn_rt_aug_kind k) {
  switch (k) {
  case KN_RT_AUG_RESIZE: return "Resize";
  case KN_RT_AUG_HFLIP: return "RandomHorizontalFlip";
  case KN_RT_AUG_RANDOM_RESIZED_CROP: return "RandomResizedCrop";
  case KN_RT_AUG_TO_TENSOR: return "ToTensor";
  case KN_RT_AUG_NORMALIZE: return "Normalize";
  case KN_RT_AUG_CENTER_CROP: return "CenterCrop";
  case KN_RT_AUG_RESIZE_SHORTER: return "Resize";
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
    int prev_h = h;
    switch (s->kind) {
    case KN_RT_AUG_RESIZE_SHORTER: {
      if (s->size[0] <= 0 || s->size[0] > 16384)
        return kn_error_set(err, "augmentation step %d (%s): size %d out of range", i + 1, nm, s->size[0]);
      /* torchvision's _compute_resized_output_size: the long edge is int(size * long / short) */
      int sh = h < w ? h : w, lo = h < w ? w : h;
      int nl = (int)((double)s->size[0] * (double)lo / (double)sh);
      if (nl < 1 || nl > 16384)
        return kn_error_set(err, "augmentation step %d (%s): %dx%d resized to shorter edge %d is out of range", i + 1,
                            nm, h, w, s->size[0]);
      if (w <= h) w = s->size[0], h = nl;
      else h = s->size[0], w = nl;
      break;
    }
    case KN_RT_AUG_CENTER_CROP:
      if (s->size[0] <= 0 || s->size[1] <= 0 || s->size[0] > h || s->size[1] > w)
        return kn_error_set(err, "augmentation step %d (%s): crop %dx%d does not fit the %dx%d image", i + 1, nm,
                            s->size[0], s->size[1], h, w);
      h = s->size[0];
      w = s->size[1];
      break;
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
    size_t mid = (size_t)prev_h * (size_t)w * (size_t)in_c; /* the antialiased resize's first pass */
    if (e > max_elems) max_elems = e;
    if (mid > max_elems) max_elems = mid;
    p->steps[i] = *s;
  }
  p->n_steps = n_steps;
  p->in_h = in_h, p->in_w = in_w, p->in_c = in_c;
  p->out_h = h, p->out_w = w, p->out_c = in_c;
  p->max_elems = max_elems;
  return true;
}

void kn_aug_pipeline_free(kn_aug_pipeline *p) { memset(p, 0, sizeof *p); }

size_t kn_aug_scratch_bytes(const kn_aug_pipeline *p) { return 3 * p->max_elems * sizeof(float); }

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

/* One axis of the antialiased resize: for output i, taps [*first, *first + *n) of the input and
 * their normalised weights (torch's _compute_indices_weights_aa, PIL's precompute_coeffs). */
static int aa_taps(int in, int out, int i, double *w, int max_taps, int *first) {
  double scale = (double)in / (double)out, support = scale >= 1.0 ? scale : 1.0;
  double invscale = scale >= 1.0 ? 1.0 / scale : 1.0, center = scale * (i + 0.5), total = 0;
  int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
  if (xmin < 0) xmin = 0;
  if (xmax > in) xmax = in;
  int n = xmax - xmin;
  if (n > max_taps) n = max_taps;
  for (int j = 0; j < n; j++) {
    double x = fabs((j + xmin - center + 0.5) * invscale);
    w[j] = x < 1.0 ? 1.0 - x : 0.0;
    total += w[j];
  }
  for (int j = 0; total != 0 && j < n; j++) w[j] /= total;
  *first = xmin;
  return n;
}

/* The taps of every output position of one axis: first[i], count[i] and weights w[i * max_taps
 * + j]. For the uint8 path the weights also become integers as torch's uint8 kernel makes them
 * (_compute_index_ranges_int16_weights): precision p is the largest (below 22) for which the
 * biggest weight still fits 15 bits after doubling, iw = (int)(0.5 + w * 2^p). */
typedef struct aa_axis {
  int *first, *count, max_taps, precision;
  double *w;
  int32_t *iw;
} aa_axis;

static bool aa_axis_init(aa_axis *a, int in, int out) {
  double scale = (double)in / (double)out;
  a->max_taps = 2 * (int)ceil(scale > 1 ? scale : 1) + 3;
  size_t n = (size_t)out * (size_t)a->max_taps;
  a->first = malloc(sizeof(int) * (size_t)out), a->count = malloc(sizeof(int) * (size_t)out);
  a->w = malloc(sizeof(double) * n), a->iw = malloc(sizeof(int32_t) * n);
  if (!a->first || !a->count || !a->w || !a->iw) return false;
  double wmax = 0;
  for (int i = 0; i < out; i++) {
    double *w = a->w + (size_t)i * (size_t)a->max_taps;
    a->count[i] = aa_taps(in, out, i, w, a->max_taps, &a->first[i]);
    for (int j = 0; j < a->count[i]; j++) wmax = w[j] > wmax ? w[j] : wmax;
  }
  for (a->precision = 0; a->precision < 22; a->precision++)
    if ((int)(0.5 + wmax * (double)(1 << (a->precision + 1))) >= (1 << 15)) break;
  for (size_t k = 0; k < n; k++) a->iw[k] = (int32_t)(0.5 + a->w[k] * (double)(1 << a->precision));
  return true;
}

static void aa_axis_free(aa_axis *a) { free(a->first), free(a->count), free(a->w), free(a->iw); }

/* Output value from taps src[j * stride], j < count: in double, or in torch's fixed point. */
static inline float aa_apply(const aa_axis *a, int i, const float *src, size_t stride, bool round_u8) {
  size_t o = (size_t)i * (size_t)a->max_taps;
  if (!round_u8) {
    double acc = 0;
    for (int j = 0; j < a->count[i]; j++) acc += a->w[o + j] * src[(size_t)j * stride];
    return (float)acc;
  }
  int64_t acc = a->precision ? (int64_t)1 << (a->precision - 1) : 0;
  for (int j = 0; j < a->count[i]; j++) acc += (int64_t)a->iw[o + j] * (int64_t)src[(size_t)j * stride];
  acc >>= a->precision;
  return acc < 0 ? 0.f : acc > 255 ? 255.f : (float)acc;
}

void kn_aug_resize_aa(const float *in, int iw, int c, int top, int left, int ch, int cw, float *out, int oh, int ow,
                      bool round_u8, float *tmp) {
  aa_axis ax = {0}, ay = {0};
  if (!aa_axis_init(&ax, cw, ow) || !aa_axis_init(&ay, ch, oh)) abort(); /* a few KB for any accepted size */
  /* width first (ch x cw -> ch x ow into tmp), then height, like torch's uint8 kernel and PIL */
  for (int y = 0; y < ch; y++) {
    const float *row = in + ((size_t)(top + y) * (size_t)iw + (size_t)left) * (size_t)c;
    for (int x = 0; x < ow; x++)
      for (int k = 0; k < c; k++)
        tmp[((size_t)y * (size_t)ow + (size_t)x) * (size_t)c + (size_t)k] =
            aa_apply(&ax, x, row + (size_t)ax.first[x] * (size_t)c + (size_t)k, (size_t)c, round_u8);
  }
  size_t stride = (size_t)ow * (size_t)c;
  for (int y = 0; y < oh; y++)
    for (size_t e = 0; e < stride; e++)
      out[(size_t)y * stride + e] = aa_apply(&ay, y, tmp + (size_t)ay.first[y] * stride + e, stride, round_u8);
  aa_axis_free(&ax);
  aa_axis_free(&ay);
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
  float *cur = scratch, *other = scratch + p->max_elems, *tmp = scratch + 2 * p->max_elems;
  int h = p->in_h, w = p->in_w, c = p->in_c;
  size_t n = (size_t)h * (size_t)w * (size_t)c;
  for (size_t i = 0; i < n; i++) cur[i] = (float)img[i];
  bool u8 = true;
  for (int si = 0; si < p->n_steps; si++) {
    const kn_rt_aug_step *s = &p->steps[si];
    switch (s->kind) {
    case KN_RT_AUG_RESIZE:
    case KN_RT_AUG_RESIZE_SHORTER:
    case KN_RT_AUG_CENTER_CROP:
    case KN_RT_AUG_RANDOM_RESIZED_CROP: {
      int box[4] = {0, 0, h, w}, oh = s->size[0], ow = s->size[1];
      if (s->kind == KN_RT_AUG_RANDOM_RESIZED_CROP) kn_aug_crop_box(rng, h, w, s->scale, s->ratio, box);
      if (s->kind == KN_RT_AUG_RESIZE_SHORTER) { /* as kn_aug_pipeline_init computed it */
        int sh = h < w ? h : w, lo = h < w ? w : h, nl = (int)((double)s->size[0] * (double)lo / (double)sh);
        oh = w <= h ? nl : s->size[0];
        ow = w <= h ? s->size[0] : nl;
      }
      if (s->kind == KN_RT_AUG_CENTER_CROP) { /* a window copy: round((H - h) / 2), half-to-even */
        int top = (int)nearbyint((h - oh) / 2.0), left = (int)nearbyint((w - ow) / 2.0);
        for (int y = 0; y < oh; y++)
          memcpy(other + (size_t)y * (size_t)ow * (size_t)c, cur + ((size_t)(top + y) * (size_t)w + (size_t)left) * (size_t)c,
                 sizeof(float) * (size_t)ow * (size_t)c);
      } else if (u8 || oh < box[2] || ow < box[3]) { /* torchvision's antialiased kernel (see kn_aug.h) */
        kn_aug_resize_aa(cur, w, c, box[0], box[1], box[2], box[3], other, oh, ow, u8, tmp);
      } else {
        kn_aug_resize(cur, h, w, c, box[0], box[1], box[2], box[3], other, oh, ow, u8);
      }
      float *t = cur;
      cur = other;
      other = t;
      h = oh;
      w = ow;
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
