/* autodiff_internal.h — state shared by the files of the autodiff pass (not a public API).
 *
 * autodiff.c          the driver: BatchNorm mode, needs-grad analysis, reverse sweep, report
 * autodiff_rules.c    one gradient rule per forward op (kn_ad_rule)
 * autodiff_update.c   running-statistics and optimizer updates
 * autodiff_saved.c    which forward values the backward keeps alive (saved-activation memory)
 */
#ifndef KN_AUTODIFF_INTERNAL_H
#define KN_AUTODIFF_INTERNAL_H

#include "autodiff.h"

typedef struct kn_ad {
  kn_graph *g;
  const kn_train_config *cfg;
  kn_diag *d;
  int n_fwd_vals;  /* values that exist before the backward sweep; grad/needs index these */
  int n_fwd_nodes; /* forward nodes */
  int *grad;       /* [n_fwd_vals] accumulated d(loss)/d(value) so far, -1 when none */
  bool *needs;     /* [n_fwd_vals] something trainable lies upstream */
  int added;       /* nodes added by the pass */
  bool ok;
} kn_ad;

/* Appends a backward node for forward node `fwd` (named "bwd.<fwd name>.<what>"), with the
 * attributes of `attrs_from` that op accepts (NULL: none). Returns the node (valid until the next
 * add) so the caller can set more attributes; kn_ad_end infers its shapes. */
kn_node *kn_ad_begin(kn_ad *a, kn_op op, int fwd, const char *what, const int *in, int n_in,
                     const kn_node *attrs_from);
/* Infers the shapes of the node added last; returns its output 0, -1 after a diagnostic. */
int kn_ad_end(kn_ad *a);
/* kn_ad_begin + kn_ad_end. */
int kn_ad_emit(kn_ad *a, kn_op op, int fwd, const char *what, const int *in, int n_in,
               const kn_node *attrs_from);

/* Adds `contrib` into the gradient of forward value v (an `add` node when one exists). */
void kn_ad_accumulate(kn_ad *a, int fwd, int v, int contrib);

/* The gradient rule of forward node `id` given dy = gradients of its outputs (-1 where none);
 * false after a diagnostic (an op with no rule). */
bool kn_ad_rule(kn_ad *a, int id, const int *dy);

/* Running-statistics updates of training-mode BatchNorm and the optimizer update of every
 * trainable parameter with a gradient; appended at the end of the graph. */
void kn_ad_add_updates(kn_ad *a, kn_autodiff_report *rep);

#endif
