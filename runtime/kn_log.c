/* kn_log.c — write-up style epoch log lines and the TTY / plain progress display (see kn_log.h). */
#include "kn_log.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *kn_log_epoch(char *buf, size_t n, int epoch) {
  snprintf(buf, n, "epoch: %d", epoch);
  return buf;
}

const char *kn_log_train(char *buf, size_t n, double loss, double acc) {
  snprintf(buf, n, "Train loss : %.4f    Train Acc : %.4f", loss, acc);
  return buf;
}

const char *kn_log_val(char *buf, size_t n, double loss, double acc) {
  snprintf(buf, n, "Val loss : %.4f    Val Acc : %.4f", loss, acc);
  return buf;
}

const char *kn_log_best(char *buf, size_t n, double acc) {
  snprintf(buf, n, "best accuracy is %.4f", acc);
  return buf;
}

void kn_log_line(FILE *out, const char *line) {
  fprintf(out, "%s\n", line);
  fflush(out);
}

double kn_log_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void kn_progress_init(kn_progress *p, FILE *out, const char *label, int64_t total, kn_progress_mode mode) {
  memset(p, 0, sizeof *p);
  p->out = out;
  p->tty = mode == KN_PROGRESS_TTY || (mode == KN_PROGRESS_AUTO && isatty(fileno(out)));
  snprintf(p->label, sizeof p->label, "%s", label ? label : "");
  p->total = total > 0 ? total : 1;
  p->t0 = kn_log_now();
  p->last_draw = -1;
}

static void fmt_duration(char *buf, size_t n, double s) {
  if (!(s >= 0) || s > 360000) {
    snprintf(buf, n, "--:--");
    return;
  }
  long t = lround(s);
  if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

const char *kn_progress_format(const kn_progress *p, char *buf, size_t n, int64_t done, double loss, double acc,
                               double elapsed) {
  double rate = elapsed > 0 ? (double)done / elapsed : 0;
  char eta[32];
  fmt_duration(eta, sizeof eta, rate > 0 ? (double)(p->total - done) / rate : -1);
  int pct = (int)(100 * done / p->total);
  if (p->tty) {
    enum { W = 24 };
    char bar[W + 1];
    int fill = (int)(W * done / p->total);
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '.';
    bar[W] = 0;
    snprintf(buf, n, "%s [%s] %3d%% %lld/%lld  %.1f img/s  ETA %s  loss %.4f  acc %.4f", p->label, bar, pct,
             (long long)done, (long long)p->total, rate, eta, loss, acc);
  } else {
    snprintf(buf, n, "%s %lld/%lld (%d%%)  %.1f img/s  ETA %s  loss %.4f  acc %.4f", p->label, (long long)done,
             (long long)p->total, pct, rate, eta, loss, acc);
  }
  return buf;
}

void kn_progress_update_at(kn_progress *p, int64_t done, double loss, double acc, double elapsed) {
  char line[256];
  if (done > p->total) done = p->total;
  if (p->tty) {
    if (done < p->total && p->last_draw >= 0 && elapsed - p->last_draw < 0.1) return;
    p->last_draw = elapsed;
    fprintf(p->out, "\r%s\033[K", kn_progress_format(p, line, sizeof line, done, loss, acc, elapsed));
    p->drawn = true;
  } else {
    int decile = (int)(10 * done / p->total);
    if (decile <= p->last_decile) return;
    p->last_decile = decile;
    fprintf(p->out, "%s\n", kn_progress_format(p, line, sizeof line, done, loss, acc, elapsed));
  }
  fflush(p->out);
}

void kn_progress_update(kn_progress *p, int64_t done, double loss, double acc) {
  kn_progress_update_at(p, done, loss, acc, kn_log_now() - p->t0);
}

void kn_progress_finish(kn_progress *p) {
  if (p->tty && p->drawn) {
    fputc('\n', p->out);
    fflush(p->out);
  }
  p->drawn = false;
}
