/* diag.c — collecting and printing user diagnostics, and "did you mean" suggestions. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void kn_diag_init(kn_diag *d) { memset(d, 0, sizeof *d); }

void kn_diag_free(kn_diag *d) {
  for (int i = 0; i < d->n; i++) {
    free(d->items[i].msg);
    free(d->items[i].hint);
  }
  free(d->items);
  memset(d, 0, sizeof *d);
}

static void add(kn_diag *d, kn_diag_level lvl, kn_loc loc, const char *hint, const char *fmt,
                va_list ap) {
  if (d->n == d->cap) {
    d->cap = d->cap ? 2 * d->cap : 8;
    d->items = kn_xrealloc(d->items, (size_t)d->cap * sizeof *d->items);
  }
  kn_diag_entry *e = &d->items[d->n++];
  e->level = lvl;
  e->loc = loc;
  e->msg = kn_vfmt(fmt, ap);
  e->hint = hint ? kn_xstrdup(hint) : NULL;
  if (lvl == KN_DIAG_ERROR) d->n_errors++;
}

void kn_diag_error(kn_diag *d, kn_loc loc, const char *hint, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  add(d, KN_DIAG_ERROR, loc, hint, fmt, ap);
  va_end(ap);
}

void kn_diag_warning(kn_diag *d, kn_loc loc, const char *hint, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  add(d, KN_DIAG_WARNING, loc, hint, fmt, ap);
  va_end(ap);
}

void kn_diag_note(kn_diag *d, kn_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  add(d, KN_DIAG_NOTE, loc, NULL, fmt, ap);
  va_end(ap);
}

bool kn_diag_has_errors(const kn_diag *d) { return d->n_errors > 0; }

void kn_diag_print(const kn_diag *d, FILE *f) {
  static const char *names[] = {"error", "warning", "note"};
  for (int i = 0; i < d->n; i++) {
    const kn_diag_entry *e = &d->items[i];
    if (e->loc.file && e->loc.line > 0)
      fprintf(f, "%s:%d:%d: ", e->loc.file, e->loc.line, e->loc.col);
    else if (e->loc.file)
      fprintf(f, "%s: ", e->loc.file);
    fprintf(f, "%s: %s", names[e->level], e->msg);
    if (e->hint) fprintf(f, " (%s)", e->hint);
    fputc('\n', f);
  }
}

static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 1 << 20;
  int prev[65], cur[65];
  for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = (int)i;
    for (size_t j = 1; j <= lb; j++) {
      int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      int del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, sizeof(int) * (lb + 1));
  }
  return prev[lb];
}

const char *kn_diag_suggest(const char *word, const char *const *cands, int n) {
  const char *best = NULL;
  int best_d = 1 << 20;
  for (int i = 0; i < n; i++) {
    if (!cands[i]) continue;
    int dist = edit_distance(word, cands[i]);
    if (dist < best_d) {
      best_d = dist;
      best = cands[i];
    }
  }
  int len = (int)strlen(word);
  int limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
  return best_d <= limit ? best : NULL;
}

_Noreturn void kn_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "%s:%d: internal error: assertion '%s' failed (a bug in kiln: please report it with the spec)\n",
          file, line, expr);
  if (getenv("KILN_ABORT")) abort(); /* a core dump / debugger stop when asked */
  exit(KN_EXIT_INTERNAL);           /* the documented status of internal errors */
}
