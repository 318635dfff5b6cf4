/* kn_confusion.h — confusion matrix and per-class accuracy for `eval`.
 *
 *   kn_confusion cm;
 *   kn_confusion_init(&cm, 10, &err);
 *   kn_confusion_add_logits(&cm, labels, logits, n);   // argmax of each row of logits[n][10]
 *   printf("accuracy %.4f\n", kn_confusion_accuracy(&cm));
 *   kn_confusion_print(&cm, stdout, class_names);       // per-class accuracy + the matrix
 *   kn_confusion_free(&cm);
 *
 * Rows are true labels, columns predictions; per-class accuracy is the row's diagonal share
 * (recall), NAN for a class with no samples.
 */
#ifndef KN_CONFUSION_H
#define KN_CONFUSION_H

#include <stdint.h>
#include <stdio.h>

#include "kn_error.h"

typedef struct kn_confusion {
  int k;       /* classes */
  int64_t *m;  /* [k][k]: m[t * k + p] counts images of true class t predicted as p */
} kn_confusion;

bool kn_confusion_init(kn_confusion *c, int k, kn_error *err);
void kn_confusion_free(kn_confusion *c);
/* Counts one prediction; labels outside 0..k-1 are ignored. */
void kn_confusion_add(kn_confusion *c, int truth, int pred);
/* Counts n predictions, each the argmax (first maximum) of a row of k scores. */
void kn_confusion_add_logits(kn_confusion *c, const int32_t *truth, const float *scores, int n);
int64_t kn_confusion_total(const kn_confusion *c);
double kn_confusion_accuracy(const kn_confusion *c);
double kn_confusion_class_accuracy(const kn_confusion *c, int cls);
/* Prints per-class accuracy and the matrix; names may be NULL (class numbers are used). */
void kn_confusion_print(const kn_confusion *c, FILE *out, const char *const *names);

#endif
