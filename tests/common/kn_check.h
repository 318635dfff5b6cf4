/* kn_check.h — the check counters, CHECK macros and final "N passed, M failed" line shared by the
 * C test programs (tests/CMakeLists.txt puts tests/common on every test's include path).
 *
 *   CHECK(cond)              counts a check; a failure prints "file:line: check failed: cond"
 *   CHECK_MSG(cond, fmt,...) counts a check; a failure prints "FAIL file:line: cond: <message>"
 *   kn_check_count(ok)       counts a result decided elsewhere (returns ok)
 *   kn_check_named(ok, what) counts it too; a failure prints "FAILED: what" on stdout
 *   return kn_check_summary(); at the end of main: prints the line, 1 on any failure, else 0
 *
 * The counters are private to each file. A test built from several files that all count checks
 * defines KN_CHECK_SHARED before including this header everywhere and writes KN_CHECK_COUNTERS;
 * at file scope in exactly one of them. */
#ifndef KN_CHECK_H
#define KN_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#define KN_CHECK_COUNTERS int kn_check_passed, kn_check_failed
#ifdef KN_CHECK_SHARED
extern int kn_check_passed, kn_check_failed;
#else
static int kn_check_passed, kn_check_failed;
#endif

static inline bool kn_check_count(bool ok) {
  if (ok) kn_check_passed++;
  else kn_check_failed++;
  return ok;
}

static inline bool kn_check_named(bool ok, const char *what) {
  if (!kn_check_count(ok)) printf("FAILED: %s\n", what);
  return ok;
}

#define CHECK(c)                                                             \
  do {                                                                       \
    if (!kn_check_count(!!(c)))                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
  } while (0)

#define CHECK_MSG(c, ...)                                               \
  do {                                                                  \
    if (!kn_check_count(!!(c))) {                                       \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #c);      \
      fprintf(stderr, __VA_ARGS__);                                     \
      fputc('\n', stderr);                                              \
    }                                                                   \
  } while (0)

static inline int kn_check_summary(void) {
  printf("%d passed, %d failed\n", kn_check_passed, kn_check_failed);
  return kn_check_failed ? 1 : 0;
}

#endif
