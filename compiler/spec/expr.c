/* expr.c — block parameters in scalars: `$name` substitutes a parameter's text, `${expr}`
 * evaluates integer/float arithmetic over parameters (see docs/spec.md, "Expressions"):
 *   + - * / // %   == != < <= > >=   and or not   a if cond else b   min(a, b) max(a, b)
 * `/` stays an integer when it divides exactly. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "util.h"

/* ---- environments ---- */
void kn_sp_env_set(kn_sp_env *e, const char *name, const char *text) {
  for (int i = 0; i < e->n; i++)
    if (!strcmp(e->vars[i].name, name)) {
      free(e->vars[i].text);
      e->vars[i].text = kn_xstrdup(text);
      return;
    }
  KN_ASSERT(e->n < (int)(sizeof e->vars / sizeof e->vars[0]));
  e->vars[e->n].name = name;
  e->vars[e->n].text = kn_xstrdup(text);
  e->n++;
}

void kn_sp_env_set_int(kn_sp_env *e, const char *name, int64_t v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  kn_sp_env_set(e, name, buf);
}

const char *kn_sp_env_get(const kn_sp_env *e, const char *name) {
  for (; e; e = e->parent)
    for (int i = 0; i < e->n; i++)
      if (!strcmp(e->vars[i].name, name)) return e->vars[i].text;
  return NULL;
}

void kn_sp_env_free(kn_sp_env *e) {
  for (int i = 0; i < e->n; i++) free(e->vars[i].text);
  e->n = 0;
}

void kn_sp_env_names(const kn_sp_env *e, const char **names, int *n, int cap) {
  *n = 0;
  for (; e; e = e->parent)
    for (int i = 0; i < e->n && *n < cap; i++) names[(*n)++] = e->vars[i].name;
}

/* ---- the evaluator: recursive descent over the text between ${ and } ---- */
typedef struct {
  double v;
  bool is_int;
} num;

typedef struct {
  const char *p;
  const kn_sp_env *env;
  kn_loc loc;
  kn_diag *d;
  const char *text;
  bool err;
  int depth; /* nesting of unary/expr frames, bounded by KN_SP_MAX_EXPR_DEPTH */
} parser;

static num expr(parser *ps);
static num unary(parser *ps);

/* The expression as quoted in messages: at most 60 characters and "...". */
static const char *shown(const char *text, char buf[72]) {
  if (strlen(text) <= 63) return text;
  snprintf(buf, 72, "%.60s...", text);
  return buf;
}

static void perr(parser *ps, const char *hint, const char *msg, const char *arg) {
  if (ps->err) return;
  ps->err = true;
  char buf[72];
  kn_diag_error(ps->d, ps->loc, hint, msg, arg, shown(ps->text, buf));
}

static void skip(parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t') ps->p++;
}

/* Consumes `tok` (a word must not run into an identifier). */
static bool eat(parser *ps, const char *tok) {
  if (ps->err) return false; /* after an error, unwind without consuming more */
  skip(ps);
  size_t n = strlen(tok);
  if (strncmp(ps->p, tok, n)) return false;
  if (isalpha((unsigned char)tok[0]) && (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_')) return false;
  ps->p += n;
  return true;
}

static num mk(double v, bool is_int) { return (num){v, is_int}; }

static num variable(parser *ps, const char *name) {
  if (!strcmp(name, "true")) return mk(1, true);
  if (!strcmp(name, "false")) return mk(0, true);
  const char *t = kn_sp_env_get(ps->env, name);
  if (!t) {
    const char *names[64];
    int n;
    kn_sp_env_names(ps->env, names, &n, 64);
    const char *s = kn_diag_suggest(name, names, n);
    char hint[96];
    if (s) snprintf(hint, sizeof hint, "did you mean '%s'?", s);
    perr(ps, s ? hint : "parameters are declared in the block's params:", "unknown parameter '%s' in '%s'", name);
    return mk(0, true);
  }
  int64_t i;
  double f;
  if (kn_sp_parse_int_text(t, &i)) return mk((double)i, true);
  if (kn_sp_parse_float_text(t, &f)) return mk(f, false);
  if (!strcmp(t, "true")) return mk(1, true);
  if (!strcmp(t, "false")) return mk(0, true);
  perr(ps, "only numbers can be used in ${...}", "parameter '%s' is not a number in '%s'", name);
  return mk(0, true);
}

/* Enters one nesting level; false (with a diagnostic) past the expression-depth limit. */
static bool enter(parser *ps) {
  if (++ps->depth <= KN_SP_MAX_EXPR_DEPTH) return true;
  char lim[16];
  snprintf(lim, sizeof lim, "%d", KN_SP_MAX_EXPR_DEPTH);
  perr(ps, "split the expression into block parameters", "expression nested more than %s levels deep in '%s' (the "
       "expression-depth limit)", lim);
  return false;
}

static num primary(parser *ps) {
  if (ps->err) return mk(0, true);
  skip(ps);
  if (eat(ps, "(")) {
    num v = expr(ps);
    if (!eat(ps, ")")) perr(ps, NULL, "expected ')'%s in '%s'", "");
    return v;
  }
  if (isdigit((unsigned char)*ps->p) || *ps->p == '.') {
    char *end;
    double v = strtod(ps->p, &end);
    bool is_int = true;
    for (const char *q = ps->p; q < end; q++)
      if (*q == '.' || *q == 'e' || *q == 'E') is_int = false;
    ps->p = end;
    return mk(v, is_int);
  }
  if (isalpha((unsigned char)*ps->p) || *ps->p == '_') {
    char name[64];
    size_t n = 0;
    while ((isalnum((unsigned char)*ps->p) || *ps->p == '_') && n < sizeof name - 1) name[n++] = *ps->p++;
    name[n] = 0;
    if ((!strcmp(name, "min") || !strcmp(name, "max")) && eat(ps, "(")) {
      num a = expr(ps);
      if (!eat(ps, ",")) perr(ps, NULL, "expected ','%s in '%s'", "");
      num b = expr(ps);
      if (!eat(ps, ")")) perr(ps, NULL, "expected ')'%s in '%s'", "");
      bool take_a = name[1] == 'i' ? a.v <= b.v : a.v >= b.v;
      return mk(take_a ? a.v : b.v, a.is_int && b.is_int);
    }
    return variable(ps, name);
  }
  char tok[2] = {*ps->p ? *ps->p : '?', 0};
  perr(ps, NULL, *ps->p ? "unexpected '%s' in '%s'" : "incomplete expression%s in '%s'", *ps->p ? tok : "");
  return mk(0, true);
}

static num unary_in(parser *ps) {
  if (eat(ps, "-")) {
    num v = unary(ps);
    return mk(-v.v, v.is_int);
  }
  if (eat(ps, "not") || eat(ps, "!")) return mk(unary(ps).v == 0, true);
  return primary(ps);
}

static num unary(parser *ps) {
  num v = enter(ps) ? unary_in(ps) : mk(0, true);
  ps->depth--;
  return v;
}

static num mul(parser *ps) {
  num a = unary(ps);
  for (;;) {
    int op = eat(ps, "//") ? 'f' : eat(ps, "*") ? '*' : eat(ps, "/") ? '/' : eat(ps, "%") ? '%' : 0;
    if (!op) return a;
    num b = unary(ps);
    if (op == '*') {
      a = mk(a.v * b.v, a.is_int && b.is_int);
      continue;
    }
    if (b.v == 0) {
      perr(ps, NULL, "division by zero%s in '%s'", "");
      return mk(0, true);
    }
    if (op == '/') a = mk(a.v / b.v, a.is_int && b.is_int && fmod(a.v, b.v) == 0);
    else if (op == 'f') a = mk(floor(a.v / b.v), a.is_int && b.is_int);
    else a = mk(fmod(a.v, b.v), a.is_int && b.is_int);
  }
}

static num add(parser *ps) {
  num a = mul(ps);
  for (;;) {
    if (eat(ps, "+")) {
      num b = mul(ps);
      a = mk(a.v + b.v, a.is_int && b.is_int);
    } else if (eat(ps, "-")) {
      num b = mul(ps);
      a = mk(a.v - b.v, a.is_int && b.is_int);
    } else {
      return a;
    }
  }
}

static num cmp(parser *ps) {
  num a = add(ps);
  static const char *ops[] = {"==", "!=", "<=", ">=", "<", ">"};
  for (int i = 0; i < 6; i++) {
    if (!eat(ps, ops[i])) continue;
    num b = add(ps);
    bool r = i == 0 ? a.v == b.v : i == 1 ? a.v != b.v : i == 2 ? a.v <= b.v : i == 3 ? a.v >= b.v
           : i == 4 ? a.v < b.v : a.v > b.v;
    return mk(r, true);
  }
  return a;
}

static num and_(parser *ps) {
  num a = cmp(ps);
  while (eat(ps, "and") || eat(ps, "&&")) {
    num b = cmp(ps);
    a = mk(a.v != 0 && b.v != 0, true);
  }
  return a;
}

static num or_(parser *ps) {
  num a = and_(ps);
  while (eat(ps, "or") || eat(ps, "||")) {
    num b = and_(ps);
    a = mk(a.v != 0 || b.v != 0, true);
  }
  return a;
}

static num expr_in(parser *ps) {
  num a = or_(ps);
  if (eat(ps, "if")) {
    num c = or_(ps);
    if (!eat(ps, "else")) perr(ps, "write 'a if condition else b'", "expected 'else'%s in '%s'", "");
    num b = expr(ps);
    return c.v != 0 ? a : b;
  }
  return a;
}

static num expr(parser *ps) {
  num v = enter(ps) ? expr_in(ps) : mk(0, true);
  ps->depth--;
  return v;
}

char *kn_sp_subst(const char *text, const kn_sp_env *env, kn_loc loc, kn_diag *d) {
  if (text[0] != '$') return kn_xstrdup(text);
  if (text[1] != '{') {
    const char *t = kn_sp_env_get(env, text + 1);
    if (t) return kn_xstrdup(t);
    parser ps = {text + 1, env, loc, d, text, false, 0};
    variable(&ps, text + 1); /* reports the unknown name */
    return NULL;
  }
  size_t n = strlen(text);
  char buf[72];
  if (text[n - 1] != '}') {
    kn_diag_error(d, loc, "write ${expression}", "unterminated '${' in '%s'", shown(text, buf));
    return NULL;
  }
  char *body = kn_xstrdup(text + 2);
  body[n - 3] = 0;
  parser ps = {body, env, loc, d, text, false, 0};
  num v = expr(&ps);
  skip(&ps);
  if (!ps.err && *ps.p) {
    char tok[2] = {*ps.p, 0};
    perr(&ps, NULL, "unexpected '%s' in '%s'", tok);
  }
  free(body);
  if (ps.err) return NULL;
  if (!isfinite(v.v)) {
    kn_diag_error(d, loc, "the result must be a finite number", "'%s' evaluates to %g", shown(text, buf), v.v);
    return NULL;
  }
  /* Integers are exact up to 2^53; beyond it the cast to an integer is not meaningful. */
  if (v.is_int && fabs(v.v) > 9007199254740992.0) {
    kn_diag_error(d, loc, "integer results are limited to -2^53 .. 2^53", "'%s' = %.17g is out of range",
                  shown(text, buf), v.v);
    return NULL;
  }
  if (v.is_int) return kn_fmt("%lld", (long long)v.v);
  return kn_fmt("%.17g", v.v);
}
