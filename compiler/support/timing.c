/* timing.c — per-phase wall/CPU accounting and the progress line (timing.h). */
#include "timing.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define KN_MAX_PHASES 48
#define KN_MAX_NOTES 8

typedef struct {
  const char *name;
  double wall, cpu;
  bool inner; /* ran inside the previous row's wall time */
} phase_row;
static phase_row phases[KN_MAX_PHASES];
static int n_phases;
static char *notes[KN_MAX_NOTES];
static int n_notes;

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

kn_timer kn_timer_start(void) { return (kn_timer){clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID)}; }

double kn_thread_cpu_seconds(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

void kn_timing_add_raw(const char *phase, double wall, double cpu) {
  int i = 0;
  while (i < n_phases && strcmp(phases[i].name, phase)) i++;
  if (i == n_phases) {
    if (n_phases == KN_MAX_PHASES) return;
    phases[n_phases++] = (phase_row){phase, 0, 0, wall < 0};
  }
  if (wall > 0) phases[i].wall += wall;
  phases[i].cpu += cpu;
}

void kn_timing_add(const char *phase, kn_timer t) {
  kn_timer now = kn_timer_start();
  kn_timing_add_raw(phase, now.wall - t.wall, now.cpu - t.cpu);
}

void kn_timing_note(const char *fmt, ...) {
  if (n_notes == KN_MAX_NOTES) return;
  va_list ap;
  va_start(ap, fmt);
  notes[n_notes++] = kn_vfmt(fmt, ap);
  va_end(ap);
}

void kn_timing_print(FILE *f) {
  double wall = 0, cpu = 0;
  fprintf(f, "kiln: time report (seconds; CPU time counts every thread)\n  %-40s %8s %8s\n", "phase", "wall", "cpu");
  for (int i = 0; i < n_phases; i++) {
    if (phases[i].inner) {
      fprintf(f, "    %-38s %8s %8.3f\n", phases[i].name, "", phases[i].cpu);
      continue;
    }
    fprintf(f, "  %-40s %8.3f %8.3f\n", phases[i].name, phases[i].wall, phases[i].cpu);
    wall += phases[i].wall, cpu += phases[i].cpu;
  }
  fprintf(f, "  %-40s %8.3f %8.3f\n", "total", wall, cpu);
  for (int i = 0; i < n_notes; i++) fprintf(f, "  %s\n", notes[i]);
}

void kn_timing_reset(void) {
  n_phases = 0;
  for (int i = 0; i < n_notes; i++) free(notes[i]);
  n_notes = 0;
}

/* ---- progress line ---- */
static pthread_mutex_t progress_lock = PTHREAD_MUTEX_INITIALIZER;
static bool progress_verbose, progress_tty, progress_shown;
static double progress_t0 = -1, progress_last;

void kn_progress_init(bool verbose) {
  progress_verbose = verbose;
  progress_tty = isatty(STDERR_FILENO);
  progress_t0 = clock_s(CLOCK_MONOTONIC);
  progress_last = 0;
  progress_shown = false;
}

void kn_progress(const char *phase, int done, int total) {
  if (progress_t0 < 0 || (!progress_tty && !progress_verbose)) return;
  pthread_mutex_lock(&progress_lock);
  double now = clock_s(CLOCK_MONOTONIC);
  bool due = progress_tty ? now - progress_t0 >= 1.0 && now - progress_last >= 0.1 : now - progress_last >= 1.0;
  if (due || (progress_shown && done == total)) {
    if (progress_tty) fprintf(stderr, "\r\033[Kkiln: %s %d/%d", phase, done, total);
    else fprintf(stderr, "kiln: %s %d/%d\n", phase, done, total);
    fflush(stderr);
    progress_last = now;
    progress_shown = true;
  }
  pthread_mutex_unlock(&progress_lock);
}

void kn_progress_done(void) {
  pthread_mutex_lock(&progress_lock);
  if (progress_shown && progress_tty) fputs("\r\033[K", stderr);
  progress_shown = false;
  pthread_mutex_unlock(&progress_lock);
}
