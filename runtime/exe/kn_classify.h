/* kn_classify.h — classifying single images with a live model: the spec's test pipeline applied
 * to an RGB image of any size, the forward entry, probabilities. Used by `predict` and by the
 * C bundle (kn_bundle.c).
 *
 *   float *x = kn_session_input(&s, KN_SESSION_FORWARD);
 *   kn_classify_prepare(&s, rgb, h, w, x + slot * C*H*W, &err);   // fill up to N slots
 *   kn_session_forward(&s, &err);
 *   kn_classify_probs(&s, slot, probs);                            // softmax of slot's row
 */
#ifndef KN_CLASSIFY_H
#define KN_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "kn_error.h"
#include "kn_session.h"

/* Writes the model input for one uint8 RGB HWC image (h x w) to out (C*H*W floats): the spec's
 * test pipeline, with a resize to the model's input size put in front when the pipeline alone
 * would not give that size (e.g. a pipeline without a resize and a larger photo). */
bool kn_classify_prepare(const kn_session *s, const uint8_t *rgb, int h, int w, float *out, kn_error *err);
/* Probabilities (exp of the log-probabilities) of slot i of the last forward run; probs has
 * s->classes entries. Returns the most likely class. */
int kn_classify_probs(kn_session *s, int slot, float *probs);
/* The indices of the k largest probabilities, best first. */
void kn_classify_top(const float *probs, int n, int *top, int k);

#endif
