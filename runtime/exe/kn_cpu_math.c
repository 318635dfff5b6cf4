/* kn_cpu_math.c — the run-time side of `kiln compile --cpu-math` (kilnrt.h): the AMX permission that Linux grants per process before the first
 * tile instruction (otherwise it raises SIGILL). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kilnrt.h"

#define KN_ARCH_REQ_XCOMP_PERM 0x1023 /* arch/x86/include/uapi/asm/prctl.h */
#define KN_XFEATURE_XTILEDATA 18

int kn_cpu_math_setup(void) {
  if (!kn_model_cpu_math || !strstr(kn_model_cpu_math, "AMX")) return 0;
#ifdef SYS_arch_prctl
  if (syscall(SYS_arch_prctl, KN_ARCH_REQ_XCOMP_PERM, KN_XFEATURE_XTILEDATA) == 0) return 0;
  int e = errno;
#else
  int e = ENOSYS;
#endif
  fprintf(stderr,
          "error: this model was compiled with --cpu-math=bf16 for AMX tiles, but Linux refused the AMX tile "
          "state (arch_prctl ARCH_REQ_XCOMP_PERM: %s)\nhint: run it on a CPU with AMX under Linux 5.16 or later, or "
          "recompile for this CPU (kiln compile --cpu-math=bf16 uses AVX512-BF16 where AMX is absent)\n",
          strerror(e));
  return 1;
}
