/* vt.h — value tests: run a few nodes on inputs given literally and compare results with numbers
 * computed by hand.
 *
 *   vt t; vt_begin(&t);
 *   int x = vt_input(&t, kn_shape2(1, 3), (float[]){-1, 0, 2});
 *   kn_node *n = vt_node(&t, KN_OP_RELU, (int[]){x}, 1);   // set attributes on n here
 *   int y = vt_infer(&t, n);
 *   vt_run(&t);
 *   bool ok = vt_check(&t, y, (float[]){0, 0, 2}, "relu");
 *   vt_end(&t);
 */
#ifndef KN_TEST_VT_H
#define KN_TEST_VT_H

#include <stdbool.h>

#include "interp.h"

#define VT_MAX_INPUTS 16

typedef struct vt {
  kn_graph *g;
  kn_interp *it;
  int n_inputs;
  int input[VT_MAX_INPUTS];
  const void *data[VT_MAX_INPUTS];
} vt;

void vt_begin(vt *t);
/* data must stay valid until vt_run; it holds numel(s) floats (or int32 for vt_input_i32). */
int vt_input(vt *t, kn_shape s, const float *data);
int vt_input_i32(vt *t, kn_shape s, const int32_t *data);
kn_node *vt_node(vt *t, kn_op op, const int *in, int n_in);
int vt_infer(vt *t, kn_node *n); /* returns out[0] */
void vt_run(vt *t);
/* Compares every element of value v (numel from its shape) with want, to 1e-5 relative to
 * max(1, |want|); prints each mismatch with `what`. */
bool vt_check(vt *t, int v, const float *want, const char *what);
void vt_end(vt *t);

#endif
