/* weights_check.h — `kiln compile --weights FILE`: checks a safetensors file against the model
 * before anything is built, so a file that does not fit never ships (docs/training.md, Shipping).
 *
 *   if (!kn_weights_check(spec->graph, "best.safetensors", &d)) return KN_EXIT_USER;
 *
 * The model's weights are the forward graph's parameters and BatchNorm running statistics (what
 * the executable's `--weights` import loads, runtime/exe/kn_session.c). The file must hold each of
 * them with the same shape and a floating dtype (F32, F16, BF16, F64: the import converts); every
 * other tensor must be `*.num_batches_tracked` or an optimizer buffer of a model parameter. */
#ifndef KN_WEIGHTS_CHECK_H
#define KN_WEIGHTS_CHECK_H

#include <stdbool.h>

#include "diag.h"
#include "ir.h"

/* True when the file fits g; else one error listing every difference (missing, extra, wrong
 * shape, wrong dtype) with a hint. */
bool kn_weights_check(const kn_graph *g, const char *path, kn_diag *d);

#endif
