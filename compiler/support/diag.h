/* diag.h — user-facing diagnostics: collected, then printed like a compiler.
 *
 *   kn_diag d; kn_diag_init(&d);
 *   kn_diag_error(&d, loc, "did you mean 'stride'?", "unknown key '%s'", key);
 *   if (kn_diag_has_errors(&d)) kn_diag_print(&d, stderr);   // "f.yaml:3:5: error: ... (hint)"
 *   kn_diag_free(&d);
 *
 * User mistakes are diagnostics; broken internal invariants use KN_ASSERT, which prints the
 * failed condition and exits with KN_EXIT_INTERNAL (3; KILN_ABORT=1 in the environment: abort).
 */
#ifndef KN_DIAG_H
#define KN_DIAG_H

#include <stdbool.h>
#include <stdio.h>

/* A position in a user's file; line and col are 1-based, 0 when unknown. */
typedef struct kn_loc {
  const char *file; /* interned by the owner (spec loader); not freed here */
  int line, col;
} kn_loc;

typedef enum { KN_DIAG_ERROR, KN_DIAG_WARNING, KN_DIAG_NOTE } kn_diag_level;

typedef struct kn_diag_entry {
  kn_diag_level level;
  kn_loc loc;
  char *msg;  /* owned */
  char *hint; /* owned, may be NULL */
} kn_diag_entry;

typedef struct kn_diag {
  kn_diag_entry *items;
  int n, cap;
  int n_errors;
} kn_diag;

void kn_diag_init(kn_diag *d);
void kn_diag_free(kn_diag *d);
/* hint may be NULL. Messages are printf-formatted. */
void kn_diag_error(kn_diag *d, kn_loc loc, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void kn_diag_warning(kn_diag *d, kn_loc loc, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void kn_diag_note(kn_diag *d, kn_loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool kn_diag_has_errors(const kn_diag *d);
/* Prints every entry as "file:line:col: error: message (hint)". */
void kn_diag_print(const kn_diag *d, FILE *f);

/* The closest of `n` candidates to `word` by edit distance, or NULL when none is close. */
const char *kn_diag_suggest(const char *word, const char *const *cands, int n);

/* Internal invariant; prints file:line and aborts. */
#define KN_ASSERT(c)                                                                          \
  do {                                                                                        \
    if (!(c)) kn_assert_fail(#c, __FILE__, __LINE__);                                         \
  } while (0)
_Noreturn void kn_assert_fail(const char *expr, const char *file, int line);

/* Exit codes of the kiln CLI. */
enum { KN_EXIT_OK = 0, KN_EXIT_USER = 1, KN_EXIT_USAGE = 2, KN_EXIT_INTERNAL = 3 };

#endif
