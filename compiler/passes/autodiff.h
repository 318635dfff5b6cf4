/* autodiff.h — reverse-mode differentiation of a forward graph into a training graph.
 *
 * kn_autodiff turns the forward graph of a spec (ending in g->loss) into the whole training step,
 * in the same IR: forward with BatchNorm on batch statistics (except frozen BN in eval mode),
 * backward for every trainable parameter, running-statistics updates, and the optimizer update
 * (SGD with momentum/Nesterov/weight decay, Adam, AdamW; PyTorch semantics). The learning rate
 * (g->lr) and the step count (g->step) become run-time inputs, so schedules need no recompile.
 *
 * Frozen parameters get no gradient, no optimizer state, and backward stops where nothing
 * trainable lies upstream; activations that only such paths would need are not saved.
 *
 * BatchNorm in a frozen scope (node->frozen, a frozen scope of cfg, or non-trainable gamma):
 *   KN_BN_FROZEN_BATCH (default, PyTorch's model.train()): batch statistics, running statistics
 *     updated (bn_running_update), gradients flow through it to trainable layers upstream;
 *   KN_BN_FROZEN_EVAL (spec option): running statistics (TRAINING = 0), no running update,
 *     backward (if anything trainable lies upstream) through the fixed affine map.
 * Every other BatchNorm uses batch statistics and gets a running update (COUNT = N*H*W for the
 * unbiased variance).
 *
 * Value names: gradient of parameter P is "grad:P"; optimizer state "P.momentum_buffer",
 * "P.exp_avg", "P.exp_avg_sq" (PyTorch's state names).
 */
#ifndef KN_AUTODIFF_H
#define KN_AUTODIFF_H

#include <stdint.h>

#include "diag.h"
#include "ir.h"
#include "train.h"

typedef struct kn_autodiff_report {
  int64_t saved_bytes;      /* forward activations the backward reads (what training must keep) */
  int trainable_params;     /* parameter tensors updated */
  int frozen_params;        /* parameter tensors with no gradient */
  int backward_nodes;       /* backward and update nodes added */
  int skipped_nodes;        /* forward nodes whose backward was not built (nothing trainable upstream) */
} kn_autodiff_report;

/* Rewrites g in place; false with diagnostics when the graph has no loss or an op has no
 * gradient rule. rep may be NULL. */
bool kn_autodiff(kn_graph *g, const kn_train_config *cfg, kn_autodiff_report *rep, kn_diag *d);

/* Runs kn_autodiff on a copy of the forward graph `fwd` (left unchanged) and fills rep; with
 * ignore_freeze every parameter counts as trainable (the "without freezing" figure of
 * `kiln check`). False with diagnostics as kn_autodiff. */
bool kn_autodiff_measure(const kn_graph *fwd, const kn_train_config *cfg, bool ignore_freeze,
                         kn_autodiff_report *rep, kn_diag *d);

/* Saved activations of a training graph: forward values (activations, batch statistics) read by
 * a backward node (n->fwd >= 0, not an update). Parameters and data inputs are not counted. */
bool kn_autodiff_is_saved(const kn_graph *g, int value);
int64_t kn_autodiff_saved_bytes(const kn_graph *g); /* sum over saved values, 4 bytes an element */

/* Data-parallel training (allreduce.c, docs/distributed.md): the last step of kn_autodiff puts an
 * allreduce_mean node between every parameter gradient and its update and groups the gradients
 * into buckets of about `bytes` (default KN_ALLREDUCE_BUCKET_BYTES) in the order they complete. */
#define KN_ALLREDUCE_BUCKET_BYTES (4 << 20)
void kn_allreduce_set_bucket_bytes(int64_t bytes);
bool kn_pass_allreduce(kn_graph *g, kn_diag *d);

#endif
