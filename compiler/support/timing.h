/* timing.h — where a compile spends its time (`kiln compile --time-report`) and the progress
 * line on stderr for long compiles.
 *
 *   kn_timer t = kn_timer_start();
 *   ... spec loading ...
 *   kn_timing_add("spec", t);             // wall and process CPU time since t, summed per phase
 *   kn_timing_print(stderr);              // the table, in the order phases were first added
 *
 *   kn_progress_init(verbose);            // once, by the driver
 *   kn_progress("kernels", 37, 160);      // "kiln: kernels 37/160" after the first second
 *   kn_progress_done();                   // clears the line
 *
 * Process CPU time counts every thread, so a phase run on two threads can show twice its wall
 * time. The functions are meant for the thread that drives the compile; kn_progress may be called
 * from any thread (it takes a lock). */
#ifndef KN_TIMING_H
#define KN_TIMING_H

#include <stdbool.h>
#include <stdio.h>

typedef struct kn_timer {
  double wall, cpu; /* seconds at the start (monotonic clock, process CPU clock) */
} kn_timer;

kn_timer kn_timer_start(void);
/* Seconds of CPU time this thread has used (for work measured inside worker threads). */
double kn_thread_cpu_seconds(void);
/* Adds the time since t to `phase` (a string literal or one that outlives the report). */
void kn_timing_add(const char *phase, kn_timer t);
/* Adds measured seconds to `phase`; wall < 0 marks a row that ran inside the previous row's wall
 * time (CPU summed over worker threads), printed indented without a wall time. */
void kn_timing_add_raw(const char *phase, double wall, double cpu);
/* Adds a note printed under the table ("12 of 160 kernels from the cache"). */
void kn_timing_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kn_timing_print(FILE *f);
void kn_timing_reset(void);

/* Progress line: shown on a terminal once the compile has run for a second, or always with
 * verbose (then as whole lines, at most one a second, when stderr is not a terminal). */
void kn_progress_init(bool verbose);
void kn_progress(const char *phase, int done, int total);
void kn_progress_done(void);

#endif
