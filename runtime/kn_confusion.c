/* kn_confusion.c — confusion matrix bookkeeping and its text report (see kn_confusion.h). */
#include "kn_confusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool kn_confusion_init(kn_confusion *c, int k, kn_error *err) {
  memset(c, 0, sizeof *c);
  if (k <= 0 || k > 100000) return kn_error_set(err, "confusion matrix: bad class count %d", k);
  c->m = calloc((size_t)k * (size_t)k, sizeof *c->m);
  if (!c->m) return kn_error_set(err, "confusion matrix: out of memory");
  c->k = k;
  return true;
}

void kn_confusion_free(kn_confusion *c) {
  free(c->m);
  memset(c, 0, sizeof *c);
}

void kn_confusion_add(kn_confusion *c, int truth, int pred) {
  if (truth < 0 || truth >= c->k || pred < 0 || pred >= c->k) return;
  c->m[(size_t)truth * (size_t)c->k + (size_t)pred]++;
}

void kn_confusion_add_logits(kn_confusion *c, const int32_t *truth, const float *scores, int n) {
  for (int i = 0; i < n; i++) {
    const float *s = scores + (size_t)i * (size_t)c->k;
    int best = 0;
    for (int j = 1; j < c->k; j++)
      if (s[j] > s[best]) best = j;
    kn_confusion_add(c, truth[i], best);
  }
}

int64_t kn_confusion_total(const kn_confusion *c) {
  int64_t t = 0;
  for (size_t i = 0; i < (size_t)c->k * (size_t)c->k; i++) t += c->m[i];
  return t;
}

double kn_confusion_accuracy(const kn_confusion *c) {
  int64_t t = kn_confusion_total(c), d = 0;
  for (int i = 0; i < c->k; i++) d += c->m[(size_t)i * (size_t)c->k + (size_t)i];
  return t ? (double)d / (double)t : NAN;
}

double kn_confusion_class_accuracy(const kn_confusion *c, int cls) {
  if (cls < 0 || cls >= c->k) return NAN;
  int64_t row = 0;
  for (int j = 0; j < c->k; j++) row += c->m[(size_t)cls * (size_t)c->k + (size_t)j];
  return row ? (double)c->m[(size_t)cls * (size_t)c->k + (size_t)cls] / (double)row : NAN;
}

void kn_confusion_print(const kn_confusion *c, FILE *out, const char *const *names) {
  char num[16];
  fprintf(out, "accuracy %.4f (%lld images)\n", kn_confusion_accuracy(c), (long long)kn_confusion_total(c));
  fprintf(out, "per-class accuracy:\n");
  for (int i = 0; i < c->k; i++) {
    snprintf(num, sizeof num, "%d", i);
    fprintf(out, "  %-12s %.4f\n", names ? names[i] : num, kn_confusion_class_accuracy(c, i));
  }
  fprintf(out, "confusion matrix (rows: true class, columns: predicted):\n%12s", "");
  for (int j = 0; j < c->k; j++) {
    snprintf(num, sizeof num, "%d", j);
    fprintf(out, " %6.6s", names ? names[j] : num);
  }
  fputc('\n', out);
  for (int i = 0; i < c->k; i++) {
    snprintf(num, sizeof num, "%d", i);
    fprintf(out, "%-12.12s", names ? names[i] : num);
    for (int j = 0; j < c->k; j++) fprintf(out, " %6lld", (long long)c->m[(size_t)i * (size_t)c->k + (size_t)j]);
    fputc('\n', out);
  }
}
