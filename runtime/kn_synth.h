/* kn_synth.h — the built-in synthetic 10-class image set, used when no data directory is given
 * so that training runs on a fresh machine. Images are generated deterministically from
 * (seed, split, index) at any resolution; each class is a distinct pattern drawn in a colour
 * whose hue depends on the class (with jitter), over a random background, with a random shift,
 * size, stripe period and phase, plus Gaussian pixel noise:
 *
 *   0 hstripes  1 vstripes  2 diag  3 antidiag  4 disk  5 ring  6 square  7 plus  8 checker  9 cross
 *
 * Labels are balanced (image i has label i % 10). A small CNN separates the classes far above
 * chance within a few hundred steps; a linear model on colour alone already beats chance.
 *
 *   kn_dataset train, test;
 *   kn_synth_init(&train, 5000, 32, 32, 3, seed, KN_SYNTH_TRAIN, &err);
 *   kn_synth_init(&test, 1000, 32, 32, 3, seed, KN_SYNTH_TEST, &err);
 */
#ifndef KN_SYNTH_H
#define KN_SYNTH_H

#include <stdint.h>

#include "kn_dataset.h"

#define KN_SYNTH_CLASSES 10

typedef enum { KN_SYNTH_TRAIN, KN_SYNTH_TEST } kn_synth_split;

/* Fills ds with n images of h x w x c (c = 1 or 3) from the given seed and split (the splits draw
 * from disjoint streams). Returns false with a message on bad arguments or out of memory. */
bool kn_synth_init(kn_dataset *ds, int n, int h, int w, int c, uint64_t seed, kn_synth_split split,
                   kn_error *err);
/* Draws image `index` of (seed, split) into out (h*w*c bytes, HWC) and returns its label. */
int kn_synth_draw(uint8_t *out, int h, int w, int c, uint64_t seed, kn_synth_split split, int64_t index);

#endif
