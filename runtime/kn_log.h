/* kn_log.h — the training log as the write-up prints it, and a progress bar.
 *
 * Log lines (each function formats into buf and returns it; kn_log_line prints one with '\n'):
 *   epoch: 3
 *   Train loss : 0.5723    Train Acc : 0.8297
 *   Val loss : 0.1168    Val Acc : 0.9583
 *   best accuracy is 0.9583
 *
 * Progress: on a terminal one line redrawn in place (at most 10 times a second) with a bar,
 * images done/total, images/s, ETA and the running loss/accuracy; otherwise (a pipe or a file) a
 * plain line at each 10 % of the epoch, so logs stay readable.
 *
 *   kn_progress pr;
 *   kn_progress_init(&pr, stdout, "train", n_images, KN_PROGRESS_AUTO);
 *   ... kn_progress_update(&pr, images_done, running_loss, running_acc);
 *   kn_progress_finish(&pr);
 */
#ifndef KN_LOG_H
#define KN_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

const char *kn_log_epoch(char *buf, size_t n, int epoch);
const char *kn_log_train(char *buf, size_t n, double loss, double acc);
const char *kn_log_val(char *buf, size_t n, double loss, double acc);
const char *kn_log_best(char *buf, size_t n, double acc);
/* Prints line and a newline to out and flushes. */
void kn_log_line(FILE *out, const char *line);

typedef enum { KN_PROGRESS_AUTO, KN_PROGRESS_TTY, KN_PROGRESS_PLAIN } kn_progress_mode;

typedef struct kn_progress {
  FILE *out;
  bool tty;           /* redraw in place */
  char label[32];
  int64_t total;      /* images in the epoch */
  double t0;          /* start time, seconds */
  double last_draw;   /* tty: time of the last redraw */
  int last_decile;    /* plain: last 10 % mark printed */
  bool drawn;         /* tty: something is on the line */
} kn_progress;

/* AUTO picks TTY when isatty(fileno(out)). */
void kn_progress_init(kn_progress *p, FILE *out, const char *label, int64_t total, kn_progress_mode mode);
/* Reports `done` images so far; prints when due (see above). */
void kn_progress_update(kn_progress *p, int64_t done, double loss, double acc);
/* The same with an explicit clock (seconds since init), for tests. */
void kn_progress_update_at(kn_progress *p, int64_t done, double loss, double acc, double elapsed);
/* Ends the bar (tty: newline after the last redraw). */
void kn_progress_finish(kn_progress *p);
/* Formats the progress text (without '\r' or '\n'); used by update. */
const char *kn_progress_format(const kn_progress *p, char *buf, size_t n, int64_t done, double loss, double acc,
                               double elapsed);
/* Monotonic seconds. */
double kn_log_now(void);

#endif
