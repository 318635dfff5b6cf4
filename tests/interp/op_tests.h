/* op_tests.h — the per-op test table of the reference interpreter. Every op of ops.def must be
 * named by at least one row (test_ops.c fails listing the ops that are not):
 *   gradient rows (grad_cases.c): a finite-difference check of the op's outputs (KN_OPF_GRAD ops);
 *   value rows (value_cases.c, update_cases.c): outputs compared with numbers computed by hand. */
#ifndef KN_TEST_OP_TESTS_H
#define KN_TEST_OP_TESTS_H

#include "fd.h"

typedef struct op_row {
  kn_op op;                            /* the op this row checks */
  const char *what;                    /* case description */
  void (*build)(fd_case *c, int arg);  /* gradient rows: builds the case... */
  int arg;                             /* ...with this variant */
  bool (*check)(void);                 /* value rows: true when every value matches */
} op_row;

extern const op_row kn_grad_rows[];
extern const int kn_n_grad_rows;
extern const op_row kn_value_rows[];
extern const int kn_n_value_rows;
extern const op_row kn_update_rows[];
extern const int kn_n_update_rows;

#endif
