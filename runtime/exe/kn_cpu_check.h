/* kn_cpu_check.h — does this CPU run the generated code? Every executable checks at start that
 * the CPU has the target features its model code was compiled for (kn_model.features, LLVM's
 * "+avx2,+fma,..." form) and, when it lacks some, names them and exits with KN_EXIT_CPU instead
 * of dying of SIGILL. An executable built for several targets (`kiln compile --cpu=A,B`) picks
 * the first target, in the order given, whose features this CPU has (kn_cpu_pick_target, called
 * by the dispatcher object kiln writes; docs/training.md, Shipping).
 *
 *   int rc = kn_cpu_require();          // main(): 0, or the message printed and KN_EXIT_CPU
 *   char miss[256];
 *   if (kn_cpu_missing(kn_model.features, miss, sizeof miss)) ...   // "amx-tile, amx-int8"
 *
 * Features are read with CPUID (and XGETBV for the register state the OS enables: AVX, AVX-512,
 * AMX). Feature names kiln does not know are not checked. On non-x86 hosts nothing is missing. */
#ifndef KN_CPU_CHECK_H
#define KN_CPU_CHECK_H

#include <stddef.h>

#define KN_EXIT_CPU 4 /* the CPU lacks features the code needs */

/* Writes the "+feature"s of `features` that this CPU lacks to out (", "-separated, may be
 * NULL) and returns how many there are. */
int kn_cpu_missing(const char *features, char *out, size_t n);
/* 0 when this CPU runs kn_model's code; else prints what is missing and a hint to stderr and
 * returns KN_EXIT_CPU. */
int kn_cpu_require(void);
/* The dispatcher's choice among n model descriptors (kn_model_desc *, best first): the first
 * whose features this CPU has, else the last (kn_cpu_require then names what it lacks). The
 * environment variable KILN_CPU_TARGET=NAME picks the target compiled for CPU NAME instead. */
int kn_cpu_pick_target(const void *const *descs, int n);
/* Defined by the dispatcher of a multi-target build: its targets' descriptors, best first. */
extern const void *const kn_model_target_descs[] __attribute__((weak));
extern const int kn_model_n_targets __attribute__((weak));
/* sizeof(kn_model_desc), for the dispatcher object (which does not include kilnrt.h). */
size_t kn_model_desc_size(void);

#endif
