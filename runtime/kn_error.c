/* kn_error.c — formatting of runtime error messages (see kn_error.h). */
#include "kn_error.h"

#include <stdarg.h>
#include <stdio.h>

bool kn_error_set(kn_error *err, const char *fmt, ...) {
  if (!err) return false;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return false;
}
