/* spec.h — loading a YAML model spec (see docs/spec.md) into a forward graph and a train config.
 *
 *   kn_diag d; kn_diag_init(&d);
 *   kn_spec_options o = {0};               // 0 = take the value from the spec
 *   kn_spec *s = kn_spec_load("models/sample_resnet.yaml", &o, &d);
 *   if (!s) { kn_diag_print(&d, stderr); return 1; }
 *   ... s->graph, s->train ...
 *   kn_spec_dispose(s); kn_diag_free(&d);
 *
 * The graph is the forward graph of training: input [N,C,H,W] (N = batch size), labels [N] i32,
 * the layers, log_softmax output (g->output) and nll_loss (g->loss). BatchNorm nodes are emitted
 * with TRAINING = 0 (one output); autodiff switches them to batch statistics. Parameters carry
 * torchvision-style names and `trainable` already reflects the spec's frozen scopes.
 */
#ifndef KN_SPEC_H
#define KN_SPEC_H

#include "diag.h"
#include "ir.h"
#include "train.h"

typedef struct kn_spec_options {
  int batch_size;    /* overrides train.batch_size when > 0 */
  int input_h, input_w; /* overrides train.input_size when > 0 */
} kn_spec_options;

typedef struct kn_spec {
  char *path;             /* owned */
  char *model_name;       /* owned; `name:` of the spec */
  kn_graph *graph;        /* owned forward graph */
  kn_train_config train;  /* strings inside point into `strings` */
  char **strings;         /* owned strings referenced by `train` */
  int n_strings;
  /* Per-layer rows for the `kiln check` table, in spec order. */
  struct kn_spec_layer {
    char *name;           /* hierarchical, e.g. "layer1.0" for blocks, "layer1.0.conv1" for ops */
    char *kind;           /* op or block name */
    int depth;            /* nesting depth (0 = top level) */
    int node_first, node_last; /* node id range covered by this row */
    kn_loc loc;
  } *layers;
  int n_layers;
} kn_spec;

kn_spec *kn_spec_load(const char *path, const kn_spec_options *o, kn_diag *d);
/* Same, from text in memory; `name` is used in diagnostics as the file name. */
kn_spec *kn_spec_load_string(const char *name, const char *text, const kn_spec_options *o, kn_diag *d);
void kn_spec_dispose(kn_spec *s);

#endif
