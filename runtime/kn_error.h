/* kn_error.h — the runtime's error channel: library code never exits or prints; a failing call
 * returns false (or NULL) and fills a caller-owned kn_error with a one-line message.
 *
 *   kn_error err = {0};
 *   if (!kn_cifar_load(&ds, dir, KN_CIFAR_TRAIN, &err)) { fprintf(stderr, "error: %s\n", err.msg); return 1; }
 */
#ifndef KN_ERROR_H
#define KN_ERROR_H

#include <stdbool.h>

typedef struct kn_error {
  char msg[512]; /* NUL-terminated message, empty while no error happened */
} kn_error;

/* Formats a message into err (when err is not NULL). Always returns false, so error paths read
 * `return kn_error_set(err, "...")`. */
bool kn_error_set(kn_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
