/* fd.h — finite-difference checking of autodiff gradients through the reference interpreter.
 *
 *   kn_graph *g = ...forward graph ending in g->loss...;
 *   fd_case c;
 *   if (fd_case_init(&c, g, &cfg, seed)) {     // autodiff + interpreter + random inputs
 *     fd_check_params(&c, "conv2d", &stats);   // every trainable parameter
 *     fd_case_free(&c);                        // disposes g too
 *   }
 *
 * For each trainable parameter P the check compares, against central differences
 * (L(P + h u) - L(P - h u)) / 2h of the interpreted loss at h = 3e-3, 1e-3, ..., 3e-5:
 *   - the directional derivative <grad:P, u> along a random direction u (every entry +-1),
 *   - the largest few entries of grad:P one by one (u = unit vector).
 * A check passes when |fd - ad| <= FD_RTOL * max(|fd|, |ad|) + FD_ATOL for at least one h.
 * Why several steps: the loss is float32, so its rounding noise (~1e-7 / h) spoils small steps,
 * while a large step may cross ReLU kinks, switch a max (errors that shrink with h) or meet the
 * strong curvature of BatchNorm over a handful of values (deep tiny models); one of the steps
 * is clear of all of these, whereas a wrong rule is off by O(1) at every step.
 * KN_FD_VERBOSE=1 in the environment prints every check.
 */
#ifndef KN_AD_FD_H
#define KN_AD_FD_H

#include <stdint.h>

#include "interp.h"
#include "ir.h"
#include "train.h"

#define FD_NSTEPS 5
static const double fd_steps[FD_NSTEPS] = {3e-3, 1e-3, 3e-4, 1e-4, 3e-5};
#define FD_RTOL 5e-2
#define FD_ATOL 2e-4

typedef struct fd_case {
  kn_graph *g;    /* training graph (owned) */
  kn_interp *it;
} fd_case;

typedef struct fd_stats {
  double rtol;           /* 0: FD_RTOL */
  int checks, failures;
  double worst;          /* largest |fd - ad| / tolerance seen */
  double largest_dir;    /* largest |<grad, u>| seen (a row whose gradients are all ~0 tests nothing) */
} fd_stats;

/* Runs kn_autodiff on g (taking ownership), creates the interpreter, initialises parameters with
 * `seed`, fills the image with U(-1, 1) and labels with random classes. False (g disposed) when
 * autodiff fails. */
bool fd_case_init(fd_case *c, kn_graph *g, const kn_train_config *cfg, uint64_t seed);
void fd_case_free(fd_case *c);
/* Forward only (with backward = false) or forward + backward; never the in-place updates, so
 * parameters and state keep their values. Returns the loss. */
float fd_run(fd_case *c, bool backward);
/* Checks every trainable parameter that has a gradient; only_prefix (NULL: all) restricts the
 * checks to parameters whose name starts with it. Prints one line per failure. */
void fd_check_params(fd_case *c, const char *label, const char *only_prefix, int entries, fd_stats *s);
/* The `entries` largest entries of grad:P only (no directional check), P = parameter value p;
 * call fd_run(c, true) first. For deep networks, where a step along every entry at once crosses
 * many ReLU kinks. */
void fd_check_entries(fd_case *c, const char *label, int p, int entries, fd_stats *s);

#endif
