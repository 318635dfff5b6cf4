/* util.h — allocation that never returns NULL, string formatting, whole-file I/O. */
#ifndef KN_UTIL_H
#define KN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

void *kn_xmalloc(size_t n);               /* aborts on out-of-memory */
void *kn_xcalloc(size_t n, size_t size);
void *kn_xrealloc(void *p, size_t n);
char *kn_xstrdup(const char *s);
char *kn_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* caller frees */
char *kn_vfmt(const char *fmt, va_list ap);

/* Reads a whole file; returns NULL and sets *err (static string) on failure. Caller frees. */
char *kn_read_file(const char *path, size_t *len, const char **err);
/* Writes `len` bytes to path via a temporary file and rename(); false on failure. */
bool kn_write_file_atomic(const char *path, const void *data, size_t len);

#endif
