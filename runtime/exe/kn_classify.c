/* kn_classify.c — single-image preprocessing and probabilities (see kn_classify.h). */
#include "kn_classify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kn_aug.h"
#include "kn_traincfg.h"

static bool fits(const kn_aug_pipeline *p, const kn_session *s) {
  return p->out_c == s->in_c && p->out_h == s->in_h && p->out_w == s->in_w;
}

bool kn_classify_prepare(const kn_session *s, const uint8_t *rgb, int h, int w, float *out, kn_error *err) {
  const kn_rt_train_config *c = kn_traincfg_get();
  kn_rt_aug_step steps[KN_RT_MAX_AUG + 1];
  memcpy(steps + 1, c->test_aug, sizeof(kn_rt_aug_step) * (size_t)c->n_test_aug);
  kn_aug_pipeline p;
  bool ok = kn_aug_pipeline_init(&p, steps + 1, c->n_test_aug, h, w, 3, err);
  if (ok && !fits(&p, s)) {
    kn_aug_pipeline_free(&p);
    memset(&steps[0], 0, sizeof steps[0]);
    steps[0].kind = KN_RT_AUG_RESIZE;
    steps[0].size[0] = s->in_h, steps[0].size[1] = s->in_w;
    ok = kn_aug_pipeline_init(&p, steps, c->n_test_aug + 1, h, w, 3, err);
    if (ok && !fits(&p, s)) {
      kn_aug_pipeline_free(&p);
      return kn_error_set(err, "the test pipeline gives %dx%dx%d images, the model takes %dx%dx%d", p.out_c, p.out_h,
                          p.out_w, s->in_c, s->in_h, s->in_w);
    }
  }
  if (!ok) return false;
  float *scratch = malloc(kn_aug_scratch_bytes(&p) + sizeof(float));
  if (!scratch) {
    kn_aug_pipeline_free(&p);
    return kn_error_set(err, "out of memory");
  }
  kn_rng r;
  kn_rng_init(&r, 0); /* the test pipeline is deterministic; the generator is never drawn */
  kn_aug_run(&p, rgb, &r, out, scratch);
  free(scratch);
  kn_aug_pipeline_free(&p);
  return true;
}

int kn_classify_probs(kn_session *s, int slot, float *probs) {
  const float *row = kn_session_output(s, KN_SESSION_FORWARD) + (size_t)slot * (size_t)s->classes;
  int best = 0;
  for (int k = 0; k < s->classes; k++) {
    probs[k] = expf(row[k]);
    if (row[k] > row[best]) best = k;
  }
  return best;
}

void kn_classify_top(const float *probs, int n, int *top, int k) {
  for (int j = 0; j < k; j++) {
    int b = -1;
    for (int i = 0; i < n; i++) {
      bool used = false;
      for (int q = 0; q < j; q++) used |= top[q] == i;
      if (!used && (b < 0 || probs[i] > probs[b])) b = i;
    }
    top[j] = b;
  }
}
