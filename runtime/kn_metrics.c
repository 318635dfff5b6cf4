/* kn_metrics.c — metrics.csv and the SVG loss/accuracy plot (see kn_metrics.h). */
#include "kn_metrics.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void kn_metrics_init(kn_metrics *m) { memset(m, 0, sizeof *m); }

void kn_metrics_free(kn_metrics *m) {
  free(m->rows);
  memset(m, 0, sizeof *m);
}

void kn_metrics_add(kn_metrics *m, kn_metrics_row row) {
  while (m->n > 0 && m->rows[m->n - 1].epoch >= row.epoch) m->n--;
  if (m->n == m->cap) {
    int cap = m->cap ? 2 * m->cap : 64;
    kn_metrics_row *r = realloc(m->rows, sizeof *r * (size_t)cap);
    if (!r) return;
    m->rows = r;
    m->cap = cap;
  }
  m->rows[m->n++] = row;
}

/* Opens path.tmp.<pid> for writing; *tmp is malloc'd. */
static FILE *open_tmp(const char *path, char **tmp) {
  size_t n = strlen(path) + 32;
  *tmp = malloc(n);
  if (!*tmp) return NULL;
  snprintf(*tmp, n, "%s.tmp.%ld", path, (long)getpid());
  return fopen(*tmp, "w");
}

/* Closes and renames the temporary file; reports any error. */
static bool commit_tmp(FILE *f, char *tmp, const char *path, bool ok, kn_error *err) {
  if (!f) {
    kn_error_set(err, "cannot write '%s': %s", path, tmp ? strerror(errno) : "out of memory");
    free(tmp);
    return false;
  }
  ok = !ferror(f) && ok;
  ok = fclose(f) == 0 && ok;
  if (ok && rename(tmp, path) != 0) ok = false;
  if (!ok) {
    kn_error_set(err, "cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
  }
  free(tmp);
  return ok;
}

static void csv_num(FILE *f, double v) {
  if (!isnan(v)) fprintf(f, "%.6g", v);
}

bool kn_metrics_write_csv(const kn_metrics *m, const char *path, kn_error *err) {
  char *tmp = NULL;
  FILE *f = open_tmp(path, &tmp);
  if (f) {
    fprintf(f, "%s\n", KN_METRICS_CSV_HEADER);
    for (int i = 0; i < m->n; i++) {
      const kn_metrics_row *r = &m->rows[i];
      fprintf(f, "%d", r->epoch);
      const double v[7] = {r->train_loss, r->train_acc, r->val_loss, r->val_acc, r->lr, r->images_per_s, r->seconds};
      for (int k = 0; k < 7; k++) {
        fputc(',', f);
        csv_num(f, v[k]);
      }
      fputc('\n', f);
    }
  }
  return commit_tmp(f, tmp, path, true, err);
}

bool kn_metrics_read_csv(kn_metrics *m, const char *path, kn_error *err) {
  m->n = 0;
  FILE *f = fopen(path, "r");
  if (!f) return true;
  char line[1024];
  int lineno = 0;
  bool ok = true;
  while (ok && fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    if (lineno == 1) {
      if (strcmp(line, KN_METRICS_CSV_HEADER) != 0)
        ok = kn_error_set(err, "%s:1: unexpected header (expected '%s')", path, KN_METRICS_CSV_HEADER);
      continue;
    }
    if (!line[0]) continue;
    double v[8];
    char *p = line;
    int k = 0;
    for (; k < 8; k++) {
      char *end;
      v[k] = (*p == ',' || *p == 0) ? NAN : strtod(p, &end);
      if (*p != ',' && *p != 0) p = end;
      if (k < 7) {
        if (*p != ',') break;
        p++;
      }
    }
    if (k < 8 || *p != 0 || isnan(v[0])) {
      ok = kn_error_set(err, "%s:%d: expected 8 comma-separated numbers", path, lineno);
      break;
    }
    kn_metrics_add(m, (kn_metrics_row){(int)v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]});
  }
  fclose(f);
  return ok;
}

/* --- SVG --- */

/* A "nice" tick step (1, 2 or 5 times a power of ten) giving about `target` ticks over span. */
static double nice_step(double span, int target) {
  if (!(span > 0) || isinf(span)) return 1;
  double raw = span / target, p = pow(10, floor(log10(raw))), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

typedef struct panel {
  double x, y, w, h;          /* plot area in SVG units */
  double x0, x1, y0, y1;      /* data range */
} panel;

static double px(const panel *p, double v) { return p->x + (v - p->x0) / (p->x1 - p->x0) * p->w; }
static double py(const panel *p, double v) { return p->y + p->h - (v - p->y0) / (p->y1 - p->y0) * p->h; }

static void draw_axes(FILE *f, const panel *p, const char *ylabel) {
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", p->x, p->y,
          p->w, p->h);
  double xs = nice_step(p->x1 - p->x0, 8);
  if (xs < 1) xs = 1;
  for (double t = ceil(p->x0 / xs) * xs; t <= p->x1 + 1e-9 && t < p->x0 + 100 * xs; t += xs) {
    double X = px(p, t);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444\"/>", X, p->y + p->h, X, p->y + p->h + 5);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", X, p->y + p->h + 18, t);
  }
  double ys = nice_step(p->y1 - p->y0, 6);
  for (double t = ceil(p->y0 / ys - 1e-9) * ys; t <= p->y1 + 1e-9 * ys && t < p->y0 + 100 * ys; t += ys) {
    double Y = py(p, t);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", p->x, Y, p->x + p->w, Y);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", p->x - 6, Y + 4, fabs(t) < 1e-12 ? 0 : t);
  }
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">epoch</text>\n", p->x + p->w / 2, p->y + p->h + 36);
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-weight=\"bold\">%s</text>\n", p->x + p->w / 2,
          p->y - 8, ylabel);
}

static void draw_series(FILE *f, const panel *p, const kn_metrics *m, size_t field, const char *color,
                        const char *name, int slot) {
  fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", name, color);
  int k = 0;
  for (int i = 0; i < m->n; i++) {
    double v = *(const double *)((const char *)&m->rows[i] + field);
    if (isnan(v)) continue;
    fprintf(f, "%s%.1f,%.1f", k++ ? " " : "", px(p, m->rows[i].epoch), py(p, v));
  }
  fprintf(f, "\"/>\n");
  for (int i = 0; i < m->n; i++) {
    double v = *(const double *)((const char *)&m->rows[i] + field);
    if (!isnan(v))
      fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>", px(p, m->rows[i].epoch), py(p, v), color);
  }
  double lx = p->x + p->w - 110, ly = p->y + 14 + 16 * slot;
  fprintf(f, "\n<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>", lx, ly - 4,
          lx + 20, ly - 4, color);
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", lx + 26, ly, name);
}

/* The y range of the given fields over all rows. */
static void y_range(const kn_metrics *m, const size_t *fields, int nf, double *lo, double *hi) {
  *lo = INFINITY, *hi = -INFINITY;
  for (int i = 0; i < m->n; i++)
    for (int k = 0; k < nf; k++) {
      double v = *(const double *)((const char *)&m->rows[i] + fields[k]);
      if (isnan(v) || isinf(v)) continue;
      if (v < *lo) *lo = v;
      if (v > *hi) *hi = v;
    }
  if (*lo > *hi) *lo = 0, *hi = 1;
}

bool kn_metrics_write_svg(const kn_metrics *m, const char *path, const char *title, kn_error *err) {
  char *tmp = NULL;
  FILE *f = open_tmp(path, &tmp);
  if (f) {
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"380\" viewBox=\"0 0 960 380\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"960\" height=\"380\" fill=\"white\"/>\n");
    if (title) {
      fprintf(f, "<text x=\"480\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">");
      for (const char *c = title; *c; c++) /* escape XML */
        if (*c == '<') fputs("&lt;", f);
        else if (*c == '>') fputs("&gt;", f);
        else if (*c == '&') fputs("&amp;", f);
        else fputc(*c, f);
      fprintf(f, "</text>\n");
    }
    double e0 = m->n ? m->rows[0].epoch : 0, e1 = m->n ? m->rows[m->n - 1].epoch : 1;
    if (e1 <= e0) e1 = e0 + 1;
    const size_t lf[2] = {offsetof(kn_metrics_row, train_loss), offsetof(kn_metrics_row, val_loss)};
    const size_t af[2] = {offsetof(kn_metrics_row, train_acc), offsetof(kn_metrics_row, val_acc)};
    double lo, hi;
    y_range(m, lf, 2, &lo, &hi);
    double span = hi - (lo < 0 ? lo : 0);
    panel loss = {70, 50, 370, 270, e0, e1, lo < 0 ? lo : 0, hi + (span > 0 ? 0.05 * span : 1)};
    y_range(m, af, 2, &lo, &hi);
    panel acc = {550, 50, 370, 270, e0, e1, lo >= 0 ? 0 : lo, hi <= 1 ? 1 : hi};
    draw_axes(f, &loss, "loss");
    draw_series(f, &loss, m, lf[0], "#1f77b4", "train loss", 0);
    draw_series(f, &loss, m, lf[1], "#ff7f0e", "val loss", 1);
    draw_axes(f, &acc, "accuracy");
    draw_series(f, &acc, m, af[0], "#1f77b4", "train acc", 0);
    draw_series(f, &acc, m, af[1], "#ff7f0e", "val acc", 1);
    fprintf(f, "</svg>\n");
  }
  return commit_tmp(f, tmp, path, true, err);
}
