/* kn_profile.h — reading the per-kernel profile of a `kiln compile --profile` build (kn_profile.c):
 *
 *   const kn_prof_entry_desc *p = kn_prof_entry("train_step");   // NULL: not a profiled build
 *   e->fn(persist, work);                                          // warm-up
 *   kn_prof_reset(p);
 *   ... iters calls, step_s seconds each ...
 *   kn_prof_report(p, iters, step_s, cpu_s, csv_path_or_NULL);     // table on stdout (+ CSV file)
 */
#ifndef KN_PROFILE_H
#define KN_PROFILE_H

#include <stdbool.h>

#include "kilnrt.h"

const kn_prof_entry_desc *kn_prof_entry(const char *entry);
void kn_prof_reset(const kn_prof_entry_desc *p);
/* Peak fp32 GFLOP/s of an FMA loop on every pool thread (best of 3); *kind = "avx512", "avx2"
 * or "scalar". */
double kn_prof_peak_gflops(const char **kind);
/* Prints the table sorted by time; with csv, also writes it there (temp file + rename). step_s:
 * wall seconds per step, cpu_s: process CPU seconds per step (all threads). False when the CSV
 * cannot be written. */
bool kn_prof_report(const kn_prof_entry_desc *p, int iters, double step_s, double cpu_s, const char *csv);

#endif
