/* kn_cpu_math.c — the run-time side of `kiln compile --cpu-math` (kilnrt.h): the AMX permission that Linux grants per process before the first
 * tile instruction (otherwise it raises SIGILL). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kilnrt.h"

#define KN_ARCH_REQ_XCOMP_PERM 0x1023 /* arch/x86/include/uapi/asm/prctl.h */
#define KN_XFEATURE_XTILEDATA 18

int kn_cpu_math_setup(void) {
  bool amx = kn_model_cpu_math && strstr(kn_model_cpu_math, "AMX");
  /* A multi-target build (--cpu=A,B) renames each target's kn_model_cpu_math: ask whenever the
   * chosen target has tiles, and fail only where the mode is known to need them. */
  bool maybe = !kn_model_cpu_math && kn_model.features && strstr(kn_model.features, "+amx-tile");
  if (!amx && !maybe) return 0;
#ifdef SYS_arch_prctl
  if (syscall(SYS_arch_prctl, KN_ARCH_REQ_XCOMP_PERM, KN_XFEATURE_XTILEDATA) == 0) return 0;
  int e = errno;
#else
  int e = ENOSYS;
#endif
  if (maybe) {
    fprintf(stderr, "warning: Linux refused the AMX tile state (arch_prctl ARCH_REQ_XCOMP_PERM: %s); a "
                    "--cpu-math=bf16 build for this target will stop with SIGILL\n", strerror(e));
    return 0;
  }
  fprintf(stderr,
          "error: this model was compiled with --cpu-math=bf16 for AMX tiles, but Linux refused the AMX tile "
          "state (arch_prctl ARCH_REQ_XCOMP_PERM: %s)\nhint: run it on a CPU with AMX under Linux 5.16 or later, or "
          "recompile for this CPU (kiln compile --cpu-math=bf16 uses AVX512-BF16 where AMX is absent)\n",
          strerror(e));
  return 1;
}
