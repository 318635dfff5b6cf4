/* kn_aug.h — the training-image augmentation pipeline, matching torchvision's transforms.
 *
 * A pipeline is an array of kn_rt_aug_step applied in order to one uint8 HWC image; the result is
 * float CHW. kn_rt_aug_step copies the enum order and field layout of compiler/ir/train.h's
 * kn_aug_step (tests/runtime checks this with offsetof), so the compiler can fill it by value;
 * the runtime never includes compiler headers.
 *
 * What is matched (torchvision >= 0.15, tensor or PIL input, uint8 until ToTensor):
 *  - RESIZE(size h,w): Resize((h, w)) with torchvision's default antialias=True. After ToTensor,
 *    upscaling both axes: bilinear, align_corners=False: src = (dst + 0.5) * in/out - 0.5, clamped below at 0;
 *    neighbours x0 = floor(src), x1 = min(x0 + 1, in - 1), in float like torch's CPU kernel.
 *    Downscaling either axis, and any resize before ToTensor: torch's antialiased bilinear, a
 *    separable triangle filter whose support is scaled by the downscale factor
 *    (kn_aug_resize_aa), width first, then height. Before ToTensor (the uint8 path) each pass
 *    weighs in torch's uint8 fixed point (int16 weights, rounding shift, clamp to 0..255), so the
 *    result equals torchvision's on uint8 tensors bit for bit (tests/runtime/test_preprocess.c);
 *    PIL's resampler (22-bit weights) may differ by 1 grey level on single pixels.
 *  - RESIZE_SHORTER(n): Resize(n): the shorter edge becomes n, the longer int(n * long / short).
 *  - CENTER_CROP(size h,w): CenterCrop: top = round((H - h) / 2), left = round((W - w) / 2)
 *    (half-to-even like Python); a crop larger than the image is an error (torchvision pads).
 *  - HFLIP(p): one uniform u per image (always drawn); flip when u < p.
 *  - RANDOM_RESIZED_CROP(size, scale, ratio): RandomResizedCrop.get_params exactly: up to 10
 *    attempts of target_area = area * U(scale), aspect = exp(U(log ratio)), w = round(sqrt(ta *
 *    aspect)), h = round(sqrt(ta / aspect)) (round half-to-even like Python), accepted when
 *    0 < w <= W and 0 < h <= H, then top = randint(0, H - h + 1), left = randint(0, W - w + 1);
 *    else the central fallback crop with the ratio clamped to [min(ratio), max(ratio)]. The crop
 *    is then resized to size like RESIZE.
 *  - TO_TENSOR: x / 255 in float, HWC -> CHW (the layout change happens once at the end).
 *  - NORMALIZE(mean, std): (x - mean[c]) / std[c] in float; must come after TO_TENSOR.
 * The random numbers come from kn_rng (kn_rng.h), not torch's generator, so draws differ from
 * PyTorch's while their distributions and the geometry computed from them are the same.
 *
 *   kn_aug_pipeline p;
 *   if (!kn_aug_pipeline_init(&p, steps, n_steps, 32, 32, 3, &err)) ...
 *   float *scratch = malloc(kn_aug_scratch_bytes(&p));
 *   float *out = malloc(sizeof(float) * p.out_c * p.out_h * p.out_w);
 *   kn_rng r; kn_rng_init3(&r, seed, epoch, index);
 *   kn_aug_run(&p, image_hwc, &r, out, scratch);
 */
#ifndef KN_AUG_H
#define KN_AUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kn_error.h"
#include "kn_rng.h"

/* Same order as kn_aug_kind in compiler/ir/train.h. */
typedef enum {
  KN_RT_AUG_RESIZE,              /* size[2], bilinear */
  KN_RT_AUG_HFLIP,               /* p */
  KN_RT_AUG_RANDOM_RESIZED_CROP, /* size[2], scale[2], ratio[2] */
  KN_RT_AUG_TO_TENSOR,           /* uint8 -> float in [0, 1] */
  KN_RT_AUG_NORMALIZE,           /* mean[3], std[3] */
  KN_RT_AUG_CENTER_CROP,         /* size[2] */
  KN_RT_AUG_RESIZE_SHORTER       /* size[0]: the shorter edge, aspect kept */
} kn_rt_aug_kind;

/* Same field layout as kn_aug_step in compiler/ir/train.h. */
typedef struct kn_rt_aug_step {
  kn_rt_aug_kind kind;
  int size[2];            /* RESIZE, RANDOM_RESIZED_CROP, CENTER_CROP: height, width; RESIZE_SHORTER: n */
  double p;               /* HFLIP */
  double scale[2];        /* RANDOM_RESIZED_CROP */
  double ratio[2];        /* RANDOM_RESIZED_CROP */
  double mean[3], std[3]; /* NORMALIZE */
} kn_rt_aug_step;

#define KN_RT_MAX_AUG 8

typedef struct kn_aug_pipeline {
  kn_rt_aug_step steps[KN_RT_MAX_AUG];
  int n_steps;
  int in_h, in_w, in_c;    /* input image (uint8 HWC) */
  int out_h, out_w, out_c; /* output tensor (float CHW) */
  size_t max_elems;        /* largest intermediate image, in elements */
  bool deterministic;      /* no random step (usable for eval / predict) */
} kn_aug_pipeline;

/* Validates the steps for an input shape and computes the output shape. Errors: Normalize
 * before ToTensor, ToTensor twice, sizes <= 0, p outside [0, 1], scale/ratio not 0 < lo <= hi,
 * std == 0, more than KN_RT_MAX_AUG steps. */
bool kn_aug_pipeline_init(kn_aug_pipeline *p, const kn_rt_aug_step *steps, int n_steps, int in_h, int in_w,
                          int in_c, kn_error *err);
void kn_aug_pipeline_free(kn_aug_pipeline *p);
/* Bytes of scratch one kn_aug_run call needs (one buffer per thread). */
size_t kn_aug_scratch_bytes(const kn_aug_pipeline *p);
/* Runs the pipeline on one HWC uint8 image; writes out_c*out_h*out_w floats (CHW) to out. Random
 * steps draw from rng in step order. Without TO_TENSOR the output holds 0..255 values. */
void kn_aug_run(const kn_aug_pipeline *p, const uint8_t *img, kn_rng *rng, float *out, float *scratch);

/* --- the individual operations (HWC float images), exposed for tests and predict --- */

/* Bilinear resize (align_corners=False, no antialias; the float path's upscale) of the window [top, top+ch) x [left,
 * left+cw) of an ih x iw x c image to oh x ow x c. round_u8: round half-to-even and clamp to
 * 0..255 (the uint8 path). */
void kn_aug_resize(const float *in, int ih, int iw, int c, int top, int left, int ch, int cw, float *out, int oh,
                   int ow, bool round_u8);
/* Antialiased bilinear resize (torch's antialias=True, PIL's BILINEAR) of the same window; the
 * filter's support is max(1, in/out) per axis. round_u8 rounds each pass (the uint8 path). */
void kn_aug_resize_aa(const float *in, int iw, int c, int top, int left, int ch, int cw, float *out, int oh, int ow,
                      bool round_u8, float *tmp);
/* Mirrors an h x w x c image left-right in place. */
void kn_aug_hflip(float *img, int h, int w, int c);
/* RandomResizedCrop.get_params: the crop box (top, left, height, width) for an h x w image. */
void kn_aug_crop_box(kn_rng *rng, int h, int w, const double scale[2], const double ratio[2], int box[4]);

#endif
