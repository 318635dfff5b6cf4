/* test_ops.c — runs the per-op table of the reference interpreter.
 *
 *   test_interp_ops [grad|values|coverage|selftest]...   (no argument: all of them)
 *
 * grad: finite-difference rows (grad_cases.c); values: hand-computed rows (value_cases.c,
 * update_cases.c); coverage: every op of ops.def is named by some row; selftest: the gradient
 * check detects a wrong gradient. Prints "P passed, F failed" and exits 1 on any failure.
 */
#include <stdio.h>
#include <string.h>

#include "op_tests.h"

static int passed, failed;

static void report(bool ok, const char *kind, const op_row *r) {
  if (ok) passed++;
  else failed++;
  printf("%s %s %s: %s\n", ok ? "ok  " : "FAIL", kind, kn_op_table[r->op].name, r->what);
}

static void run_grad_rows(void) {
  for (int i = 0; i < kn_n_grad_rows; i++) {
    const op_row *r = &kn_grad_rows[i];
    fd_case c;
    fd_begin(&c);
    r->build(&c, r->arg);
    report(fd_check(&c, r->op, false, r->what), "grad ", r);
    fd_end(&c);
  }
}

static void run_value_rows(const op_row *rows, int n) {
  for (int i = 0; i < n; i++) report(rows[i].check(), "value", &rows[i]);
}

static bool named(const op_row *rows, int n, kn_op op) {
  for (int i = 0; i < n; i++)
    if (rows[i].op == op) return true;
  return false;
}

static void run_coverage(void) {
  int missing = 0;
  for (int op = 0; op < KN_OP_COUNT; op++) {
    if (named(kn_grad_rows, kn_n_grad_rows, op) || named(kn_value_rows, kn_n_value_rows, op) ||
        named(kn_update_rows, kn_n_update_rows, op))
      continue;
    printf("FAIL coverage: op %s has no test row\n", kn_op_table[op].name);
    missing++;
  }
  /* Every backward op needs a finite-difference row, not just a value row. */
  for (int op = 0; op < KN_OP_COUNT; op++)
    if ((kn_op_table[op].flags & KN_OPF_GRAD) && !named(kn_grad_rows, kn_n_grad_rows, op)) {
      printf("FAIL coverage: backward op %s has no finite-difference row\n", kn_op_table[op].name);
      missing++;
    }
  if (missing) failed++;
  else passed++;
  printf("%s coverage: %d ops, %d rows\n", missing ? "FAIL" : "ok  ", KN_OP_COUNT,
         kn_n_grad_rows + kn_n_value_rows + kn_n_update_rows);
}

/* The check must fail on a wrong gradient: (1) every row, with one analytic element off by 5%;
 * (2) relu's forward checked against sigmoid's gradient. */
static void run_selftest(void) {
  int undetected = 0;
  for (int i = 0; i < kn_n_grad_rows; i++) {
    const op_row *r = &kn_grad_rows[i];
    fd_case c;
    fd_begin(&c);
    r->build(&c, r->arg);
    if (fd_check(&c, r->op, true, r->what)) {
      printf("FAIL selftest: a perturbed gradient passed in %s: %s\n", kn_op_table[r->op].name, r->what);
      undetected++;
    }
    fd_end(&c);
  }
  if (undetected) failed++;
  else passed++;
  printf("%s selftest: perturbed gradients detected in %d rows\n", undetected ? "FAIL" : "ok  ",
         kn_n_grad_rows - undetected);

  fd_case c;
  fd_begin(&c);
  int x = fd_input(&c, kn_shape4(1, 2, 3, 3), FD_AWAY0);
  int y = fd_infer(&c, fd_add(&c, KN_OP_RELU, (int[]){x}, 1));
  fd_end_forward(&c, y);
  fd_pair(&c, x, fd_infer(&c, fd_add(&c, KN_OP_SIGMOID_GRAD, (int[]){c.dy, y}, 2)));
  printf("(expected failure follows)\n");
  bool wrong_passed = fd_check(&c, KN_OP_COUNT, false, "relu vs sigmoid_grad");
  fd_end(&c);
  if (wrong_passed) failed++;
  else passed++;
  printf("%s selftest: sigmoid_grad as relu's gradient is rejected\n", wrong_passed ? "FAIL" : "ok  ");
}

static bool run_part(const char *part) {
  if (!strcmp(part, "coverage")) run_coverage();
  else if (!strcmp(part, "values")) {
    run_value_rows(kn_value_rows, kn_n_value_rows);
    run_value_rows(kn_update_rows, kn_n_update_rows);
  } else if (!strcmp(part, "grad")) run_grad_rows();
  else if (!strcmp(part, "selftest")) run_selftest();
  else return false;
  return true;
}

int main(int argc, char **argv) {
  static const char *const all[] = {"coverage", "values", "grad", "selftest"};
  if (argc < 2)
    for (int i = 0; i < 4; i++) run_part(all[i]);
  for (int i = 1; i < argc; i++)
    if (!run_part(argv[i])) {
      fprintf(stderr, "usage: %s [grad|values|coverage|selftest]...\n", argv[0]);
      return 2;
    }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
