/* check.h — the CHECK macro and summary line of the autodiff tests. */
#ifndef KN_AD_CHECK_H
#define KN_AD_CHECK_H

#include <stdio.h>

static int ad_failures, ad_checks;
#define CHECK(c)                                                            \
  do {                                                                      \
    ad_checks++;                                                            \
    if (!(c)) {                                                             \
      ad_failures++;                                                        \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
    }                                                                       \
  } while (0)

/* Prints "P passed, F failed" and returns the exit status. */
static inline int ad_summary(void) {
  printf("%d passed, %d failed\n", ad_checks - ad_failures, ad_failures);
  return ad_failures ? 1 : 0;
}

#endif
