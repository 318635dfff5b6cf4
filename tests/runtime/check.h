/* check.h — the tiny check macro shared by the runtime tests: count checks, report failures
 * with file:line, and finish with the "N passed, M failed" line (exit status 1 on any failure). */
#ifndef KN_TEST_CHECK_H
#define KN_TEST_CHECK_H

#include <stdio.h>

static int failures, checks;
#define CHECK(c)                                                            \
  do {                                                                      \
    checks++;                                                               \
    if (!(c)) {                                                             \
      failures++;                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
    }                                                                       \
  } while (0)

static inline int check_report(void) {
  printf("%d passed, %d failed\n", checks - failures, failures);
  return failures ? 1 : 0;
}

#endif
