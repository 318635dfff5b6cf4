/* cpu_names.c — what `--cpu=NAME` means to the executable's start-up check and to multi-target
 * builds: the target features LLVM 14 implies for the common x86-64 CPU names (written into the
 * descriptor's `features`, so runtime/exe/kn_cpu_check.c can name what a CPU lacks), and the
 * expansion of a `--cpu` list (`--cpu=x86-64-v4,x86-64-v3`, `--cpu=portable`). */
#include <stdlib.h>
#include <string.h>

#include "codegen_cpu.h"
#include "util.h"

#define V1 "+64bit,+cmov,+cx8,+fxsr,+mmx,+sse,+sse2"
#define V2 V1 ",+cx16,+popcnt,+sahf,+sse3,+sse4.1,+sse4.2,+ssse3"
#define V3 V2 ",+avx,+avx2,+bmi,+bmi2,+f16c,+fma,+lzcnt,+movbe,+xsave"
#define V4 V3 ",+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512vl"
#define HSW V3 ",+aes,+fsgsbase,+invpcid,+pclmul,+rdrnd,+xsaveopt"
#define SKL HSW ",+adx,+clflushopt,+prfchw,+rdseed,+xsavec,+xsaves"
#define SKX SKL ",+avx512bw,+avx512cd,+avx512dq,+avx512f,+avx512vl,+clwb,+pku"
#define CLX SKX ",+avx512vnni"
#define ICX CLX ",+avx512bitalg,+avx512ifma,+avx512vbmi,+avx512vbmi2,+avx512vpopcntdq,+gfni,+rdpid,+sha,+vaes,+vpclmulqdq"
#define SPR ICX ",+amx-bf16,+amx-int8,+amx-tile,+avx512bf16,+avx512fp16,+avxvnni,+serialize"
#define ZN1 HSW ",+adx,+clflushopt,+clzero,+prfchw,+rdseed,+sha,+sse4a,+xsavec,+xsaves"
#define ZN3 ZN1 ",+clwb,+rdpid,+vaes,+vpclmulqdq"

static const struct {
  const char *cpu, *features;
} cpu_table[] = {
    {"x86-64", V1}, {"x86-64-v2", V2}, {"x86-64-v3", V3}, {"x86-64-v4", V4}, {"haswell", HSW},
    {"broadwell", HSW ",+adx,+prfchw,+rdseed"}, {"skylake", SKL}, {"skylake-avx512", SKX}, {"cascadelake", CLX},
    {"cooperlake", CLX ",+avx512bf16"}, {"icelake-server", ICX}, {"sapphirerapids", SPR}, {"znver1", ZN1},
    {"znver2", ZN1 ",+clwb,+rdpid"}, {"znver3", ZN3},
};

const char *kn_cpu_name_features(const char *cpu) {
  for (size_t i = 0; cpu && i < sizeof cpu_table / sizeof cpu_table[0]; i++)
    if (!strcmp(cpu_table[i].cpu, cpu)) return cpu_table[i].features;
  return NULL;
}

int kn_cpu_parse_targets(const char *list, char ***targets) {
  const char *text = list && !strcmp(list, "portable") ? KN_CPU_PORTABLE : list;
  int n = 0;
  *targets = NULL;
  for (const char *p = text; p && *p;) {
    size_t len = strcspn(p, ",");
    if (len) {
      *targets = kn_xrealloc(*targets, sizeof **targets * (size_t)(n + 1));
      (*targets)[n++] = kn_fmt("%.*s", (int)len, p);
    }
    p += len + (p[len] == ',');
  }
  return n;
}
