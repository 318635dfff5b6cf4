/* fd.h — finite-difference gradient checks of the reference interpreter's backward ops.
 *
 * A case is a small graph: forward nodes first (ending in y), then the backward nodes that take
 * dy (an input value shaped like y) and produce analytic gradients. For each pair (wrt, grad),
 * grad must equal d L / d wrt with L = sum(dy * y), which fd_check estimates by central
 * differences of the float32 forward, accumulated in double:
 *
 *   fd_case c; fd_begin(&c);
 *   int x = fd_input(&c, kn_shape4(2, 3, 7, 7), FD_UNIFORM);
 *   kn_node *n = fd_add(&c, KN_OP_RELU, (int[]){x}, 1);
 *   int y = fd_infer(&c, n);
 *   fd_end_forward(&c, y);                       // creates c.dy
 *   int dx = fd_infer(&c, fd_add(&c, KN_OP_RELU_GRAD, (int[]){c.dy, y}, 2));
 *   fd_pair(&c, x, dx);
 *   bool ok = fd_check(&c, KN_OP_COUNT, false, "relu");
 *   fd_end(&c);
 */
#ifndef KN_TEST_FD_H
#define KN_TEST_FD_H

#include <stdbool.h>

#include "interp.h"

typedef enum {
  FD_UNIFORM,  /* U(-1, 1) */
  FD_AWAY0,    /* |x| in [0.1, 1], random sign: no kink of relu within the FD step */
  FD_DISTINCT, /* a random permutation of values 0.05 apart: no ties for max reductions */
  FD_POSITIVE, /* U(0.5, 1.5): scales, variances */
  FD_LABELS,   /* int32 labels in [0, k) */
  FD_WIDE      /* U(-4.5, 4.5) at least 0.1 from -3, 0 and 3: every region of the activations, no kink */
} fd_gen;

#define FD_MAX_VALS 128
#define FD_MAX_PAIRS 8

typedef struct fd_case {
  kn_graph *g;
  fd_gen gen[FD_MAX_VALS];
  int label_k[FD_MAX_VALS];
  int n_fwd;  /* nodes [0, n_fwd) are the forward */
  int y, dy;  /* forward output, and the input value that holds dL/dy */
  int n_pairs;
  int wrt[FD_MAX_PAIRS], grad[FD_MAX_PAIRS];
  unsigned seed;
} fd_case;

void fd_begin(fd_case *c);
int fd_input(fd_case *c, kn_shape s, fd_gen gen);
int fd_labels(fd_case *c, int n, int k);
/* Appends a node; the pointer is valid until the next fd_add. */
kn_node *fd_add(fd_case *c, kn_op op, const int *in, int n_in);
/* Infers n's output shapes (aborts on a shape error: the test itself is wrong); returns out[0]. */
int fd_infer(fd_case *c, kn_node *n);
void fd_end_forward(fd_case *c, int y);
void fd_pair(fd_case *c, int wrt, int grad);
/* Checks the pairs whose gradient is produced by an `only` node (KN_OP_COUNT: every pair).
 * perturb: add a small error to one analytic element first (self-test: must then fail).
 * Prints a line per failing pair; returns true when every checked pair matches. */
bool fd_check(fd_case *c, kn_op only, bool perturb, const char *what);
void fd_end(fd_case *c);

#endif
