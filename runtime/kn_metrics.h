/* kn_metrics.h — per-epoch training metrics: metrics.csv and an SVG plot of the loss and
 * accuracy curves. The training loop adds a row after each epoch and rewrites both files (each
 * written to a temporary name and renamed, so a crash never leaves half a file); on --resume it
 * first reads the existing CSV back.
 *
 *   kn_metrics m;
 *   kn_metrics_init(&m);
 *   kn_metrics_read_csv(&m, "run/metrics.csv", &err);   // optional, on resume
 *   kn_metrics_add(&m, (kn_metrics_row){.epoch = 1, .train_loss = 1.7, .train_acc = 0.38,
 *                                        .val_loss = NAN, .val_acc = NAN, .lr = 0.01,
 *                                        .images_per_s = 812, .seconds = 61.5});
 *   kn_metrics_write_csv(&m, "run/metrics.csv", &err);
 *   kn_metrics_write_svg(&m, "run/metrics.svg", "sample_resnet", &err);
 *   kn_metrics_free(&m);
 *
 * CSV columns: epoch,train_loss,train_acc,val_loss,val_acc,lr,images_per_s,seconds. A NAN value
 * (no evaluation that epoch) is written as an empty field and read back as NAN; the plot skips it.
 * The SVG is self-contained: two panels (loss; accuracy), axes with ticks and labels, a legend,
 * one <polyline> per series with one point per non-NAN value.
 */
#ifndef KN_METRICS_H
#define KN_METRICS_H

#include <stdbool.h>

#include "kn_error.h"

typedef struct kn_metrics_row {
  int epoch;
  double train_loss, train_acc, val_loss, val_acc; /* accuracies in [0, 1]; NAN when not measured */
  double lr, images_per_s, seconds;
} kn_metrics_row;

typedef struct kn_metrics {
  kn_metrics_row *rows;
  int n, cap;
} kn_metrics;

#define KN_METRICS_CSV_HEADER "epoch,train_loss,train_acc,val_loss,val_acc,lr,images_per_s,seconds"

void kn_metrics_init(kn_metrics *m);
void kn_metrics_free(kn_metrics *m);
/* Appends a row; a row whose epoch is not after the last one first drops the rows from that epoch
 * on (a resumed run overwrites the epochs it repeats). */
void kn_metrics_add(kn_metrics *m, kn_metrics_row row);
/* Replaces the rows with those of an existing CSV; a missing file leaves zero rows and succeeds. */
bool kn_metrics_read_csv(kn_metrics *m, const char *path, kn_error *err);
bool kn_metrics_write_csv(const kn_metrics *m, const char *path, kn_error *err);
/* title may be NULL. */
bool kn_metrics_write_svg(const kn_metrics *m, const char *path, const char *title, kn_error *err);

#endif
