/* kn_cpu_check.c — CPU feature check at start and the multi-target pick (kn_cpu_check.h). */
#include "kn_cpu_check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kilnrt.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

enum { EAX, EBX, ECX, EDX };

/* LLVM's name of a feature, where CPUID reports it, and the XCR0 state bits the OS must enable. */
typedef struct cpu_feature {
  const char *name;
  unsigned leaf, sub, reg, bit;
  uint64_t xcr0;
} cpu_feature;

#define AVX_STATE 0x6ULL        /* SSE + AVX registers */
#define AVX512_STATE 0xe6ULL    /* + opmask, ZMM0-15 upper halves, ZMM16-31 */
#define AMX_STATE 0x60000ULL    /* TILECFG + TILEDATA */

static const cpu_feature features[] = {
    {"cx8", 1, 0, EDX, 8, 0}, {"cmov", 1, 0, EDX, 15, 0}, {"mmx", 1, 0, EDX, 23, 0}, {"fxsr", 1, 0, EDX, 24, 0},
    {"sse", 1, 0, EDX, 25, 0}, {"sse2", 1, 0, EDX, 26, 0}, {"sse3", 1, 0, ECX, 0, 0}, {"pclmul", 1, 0, ECX, 1, 0},
    {"ssse3", 1, 0, ECX, 9, 0}, {"fma", 1, 0, ECX, 12, AVX_STATE}, {"cx16", 1, 0, ECX, 13, 0},
    {"sse4.1", 1, 0, ECX, 19, 0}, {"sse4.2", 1, 0, ECX, 20, 0}, {"movbe", 1, 0, ECX, 22, 0},
    {"popcnt", 1, 0, ECX, 23, 0}, {"aes", 1, 0, ECX, 25, 0}, {"xsave", 1, 0, ECX, 26, 0},
    {"avx", 1, 0, ECX, 28, AVX_STATE}, {"f16c", 1, 0, ECX, 29, AVX_STATE}, {"rdrnd", 1, 0, ECX, 30, 0},
    {"fsgsbase", 7, 0, EBX, 0, 0}, {"bmi", 7, 0, EBX, 3, 0}, {"avx2", 7, 0, EBX, 5, AVX_STATE},
    {"bmi2", 7, 0, EBX, 8, 0}, {"invpcid", 7, 0, EBX, 10, 0}, {"avx512f", 7, 0, EBX, 16, AVX512_STATE},
    {"avx512dq", 7, 0, EBX, 17, AVX512_STATE}, {"rdseed", 7, 0, EBX, 18, 0}, {"adx", 7, 0, EBX, 19, 0},
    {"avx512ifma", 7, 0, EBX, 21, AVX512_STATE}, {"clflushopt", 7, 0, EBX, 23, 0}, {"clwb", 7, 0, EBX, 24, 0},
    {"avx512cd", 7, 0, EBX, 28, AVX512_STATE}, {"sha", 7, 0, EBX, 29, 0}, {"avx512bw", 7, 0, EBX, 30, AVX512_STATE},
    {"avx512vl", 7, 0, EBX, 31, AVX512_STATE}, {"avx512vbmi", 7, 0, ECX, 1, AVX512_STATE}, {"pku", 7, 0, ECX, 3, 0},
    {"avx512vbmi2", 7, 0, ECX, 6, AVX512_STATE}, {"gfni", 7, 0, ECX, 8, 0}, {"vaes", 7, 0, ECX, 9, AVX_STATE},
    {"vpclmulqdq", 7, 0, ECX, 10, AVX_STATE}, {"avx512vnni", 7, 0, ECX, 11, AVX512_STATE},
    {"avx512bitalg", 7, 0, ECX, 12, AVX512_STATE}, {"avx512vpopcntdq", 7, 0, ECX, 14, AVX512_STATE},
    {"rdpid", 7, 0, ECX, 22, 0}, {"avx512vp2intersect", 7, 0, EDX, 8, AVX512_STATE}, {"serialize", 7, 0, EDX, 14, 0},
    {"amx-bf16", 7, 0, EDX, 22, AMX_STATE}, {"avx512fp16", 7, 0, EDX, 23, AVX512_STATE},
    {"amx-tile", 7, 0, EDX, 24, AMX_STATE}, {"amx-int8", 7, 0, EDX, 25, AMX_STATE},
    {"avxvnni", 7, 1, EAX, 4, AVX_STATE}, {"avx512bf16", 7, 1, EAX, 5, AVX512_STATE},
    {"xsaveopt", 0xd, 1, EAX, 0, 0}, {"xsavec", 0xd, 1, EAX, 1, 0}, {"xsaves", 0xd, 1, EAX, 3, 0},
    {"sahf", 0x80000001u, 0, ECX, 0, 0}, {"lzcnt", 0x80000001u, 0, ECX, 5, 0}, {"sse4a", 0x80000001u, 0, ECX, 6, 0},
    {"prfchw", 0x80000001u, 0, ECX, 8, 0}, {"xop", 0x80000001u, 0, ECX, 11, AVX_STATE},
    {"fma4", 0x80000001u, 0, ECX, 16, AVX_STATE}, {"tbm", 0x80000001u, 0, ECX, 21, 0},
    {"64bit", 0x80000001u, 0, EDX, 29, 0},
};

static uint64_t xcr0(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* no OSXSAVE: no AVX state */
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t)hi << 32 | lo;
}

/* 1 present, 0 absent, -1 unknown to this table. */
static int has_feature(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
    const cpu_feature *f = &features[i];
    if (strlen(f->name) != len || strncmp(f->name, name, len)) continue;
    unsigned r[4] = {0, 0, 0, 0};
    unsigned max = __get_cpuid_max(f->leaf & 0x80000000u, NULL);
    if (max < f->leaf) return 0;
    __cpuid_count(f->leaf, f->sub, r[EAX], r[EBX], r[ECX], r[EDX]);
    if (!(r[f->reg] >> f->bit & 1)) return 0;
    return (xcr0() & f->xcr0) == f->xcr0;
  }
  return -1;
}
#else
static int has_feature(const char *name, size_t len) {
  (void)name, (void)len;
  return -1;
}
#endif

int kn_cpu_missing(const char *features, char *out, size_t n) {
  int count = 0;
  size_t used = 0;
  if (out && n) out[0] = 0;
  for (const char *p = features ? features : ""; *p;) {
    size_t len = strcspn(p, ",");
    if (p[0] == '+' && len > 1 && has_feature(p + 1, len - 1) == 0) {
      if (out && used < n)
        used += (size_t)snprintf(out + used, n - used, "%s%.*s", count ? ", " : "", (int)(len - 1), p + 1);
      count++;
    }
    p += len + (p[len] == ',');
  }
  return count;
}

int kn_cpu_require(void) {
  char miss[512];
  int n = kn_cpu_missing(kn_model.features, miss, sizeof miss);
  if (!n) return 0;
  fprintf(stderr,
          "error: this CPU lacks %d feature%s that model '%s' was compiled for (--cpu=%s): %s\n"
          "hint: compile for this machine (no --cpu), for an older level (--cpu=x86-64-v3), or for several\n"
          "      (--cpu=portable, --cpu=x86-64-v4,x86-64-v3: the best one is picked at start)\n",
          n, n == 1 ? "" : "s", kn_model.name, kn_model.cpu, miss);
  return KN_EXIT_CPU;
}

int kn_cpu_pick_target(const void *const *descs, int n) {
  const char *want = getenv("KILN_CPU_TARGET");
  for (int i = 0; want && *want && i < n; i++)
    if (!strcmp(((const kn_model_desc *)descs[i])->cpu, want)) return i;
  for (int i = 0; i < n; i++)
    if (!kn_cpu_missing(((const kn_model_desc *)descs[i])->features, NULL, 0)) return i;
  return n - 1;
}

size_t kn_model_desc_size(void) { return sizeof(kn_model_desc); }
