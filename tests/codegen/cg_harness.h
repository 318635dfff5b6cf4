/* cg_harness.h — runs a graph through the CPU backend and through the reference interpreter and
 * compares every value: the graph is compiled (kn_cpu_compile, every activation exported) and
 * linked into an executable, which runs on inputs written to a KNTF file; its results come back
 * the same way.
 *
 *   cg_case c; cg_begin(&c, g);            // g: any graph with inputs, params, state
 *   c.gen[v] = CG_POSITIVE;                // optional per-input generators (default U(-1, 1))
 *   bool ok = cg_check(&c, "conv 3x3", 1); // runs `steps` times, compares, prints mismatches
 *   cg_end(&c);
 *
 * Metric: for each tensor, max |kiln - interp| <= CG_TOL * max(1, max |interp|) (relative to the
 * tensor's scale; int32 tensors must be equal).
 */
#ifndef KN_CG_HARNESS_H
#define KN_CG_HARNESS_H

#include <stdbool.h>

#include "interp.h"

#define CG_TOL 1e-4
#define CG_MAX_VALS 4096

/* The first six are fd_gen's (tests/interp/fd.h), value for value: test_ops.c copies them. */
typedef enum { CG_UNIFORM, CG_AWAY0, CG_DISTINCT, CG_POSITIVE, CG_LABELS, CG_WIDE, CG_SCALAR } cg_gen;

typedef struct cg_case {
  kn_graph *g;                  /* a renamed copy (unique names); owned */
  unsigned char gen[CG_MAX_VALS];
  int label_k[CG_MAX_VALS];
  float scalar[CG_MAX_VALS];    /* CG_SCALAR inputs: every element */
  bool keep_grads;
  bool no_export;               /* only outputs, loss, gradients come back: internal values of fused
                                   kernel groups need no memory (tests of cpu_fuse.c); and fusion
                                   also on tiny planes (kn_cpu_options.fuse_min_plane = 1) */
  int steps;                    /* steps, each from the interpreter's state (step input + 1 each) */
  double tol;
  bool perturb;                 /* self-test: corrupt one result element, so the check must fail */
} cg_case;

/* Copies g (and renames its values v<id>.<name>) so file names are unique. */
void cg_begin(cg_case *c, const kn_graph *g);
/* A model's well-known inputs: labels in [0, K), lr = 0.05 and step = 1 as scalars. */
void cg_setup_model_inputs(cg_case *c, const kn_graph *g);
bool cg_check(cg_case *c, const char *what);
void cg_end(cg_case *c);

/* A scratch directory for this process (created once, removed at exit). */
const char *cg_tmpdir(void);

#endif
