/* cpu_math.c — `--cpu-math=fp32|bf16` in the CPU backend. With bf16, convolutions (forward with
 * its epilogues, grad input, grad weight) and linear layers run kernels whose GEMM operands are
 * rounded to bf16 (nearest even) when packed and accumulated in fp32; everything else stays fp32.
 * Two kernel families, picked from the target's features:
 *   amx   amx-tile + amx-bf16 (+ avx512bf16 for the conversions): TDPBF16PS tiles (kernels/gemm_amx.h),
 *         kernels kn_k_<name>_amx built from conv_amx.c / linear_amx.c;
 *   bf16  avx512bf16 without AMX: VDPBF16PS (kernels/gemm_bf16.h), kn_k_<name>_bf16.
 * A target with neither is a compile error naming the missing feature. The variant kernel files
 * are the fp32 sources on another GEMM panel (kernels/gemm_variant.h); their kn_k_ functions get
 * the family's suffix whenever the bitcode is parsed (cpu_kobj.c), so a wrapper's module holds
 * only its own family and fp32 builds never see a bf16 instruction. The mode is recorded in the object as the
 * string kn_model_cpu_math (runtime/exe/kilnrt.h), which `info` prints and checkpoints carry.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "util.h"

bool kn_cpu_parse_math(const char *s, kn_cpu_math *m) {
  if (!strcmp(s, "fp32")) *m = KN_CPU_MATH_FP32;
  else if (!strcmp(s, "bf16")) *m = KN_CPU_MATH_BF16;
  else return false;
  return true;
}

/* Suffix of a variant bitcode file name ("conv_bf16.bc" -> "_bf16"), NULL for the fp32 files. */
static const char *variant_of(const char *bc_name) {
  static const char *const sfx[] = {"_bf16", "_amx"};
  size_t n = strlen(bc_name);
  for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
    size_t k = strlen(sfx[i]);
    if (n > k + 3 && !strcmp(bc_name + n - 3, ".bc") && !strncmp(bc_name + n - 3 - k, sfx[i], k)) return sfx[i];
  }
  return NULL;
}

void kn_cg_math_rename(LLVMModuleRef km, const char *bc_name) {
  const char *sfx = variant_of(bc_name);
  if (!sfx) return;
  for (LLVMValueRef fn = LLVMGetFirstFunction(km); fn; fn = LLVMGetNextFunction(fn)) {
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    if (LLVMIsDeclaration(fn) || strncmp(name, "kn_k_", 5)) continue;
    char *nn = kn_fmt("%.*s%s", (int)len, name, sfx);
    LLVMSetValueName2(fn, nn, strlen(nn));
    free(nn);
  }
}

/* +1 / -1 when the comma-separated list has +name / -name (the last one wins), else 0. */
static int feature(const char *list, const char *name) {
  int st = 0;
  size_t n = strlen(name);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len == n + 1 && (p[0] == '+' || p[0] == '-') && !strncmp(p + 1, name, n)) st = p[0] == '+' ? 1 : -1;
    p = e ? e + 1 : NULL;
  }
  return st;
}

/* Whether the target has `name`: explicit features first, else LLVM 14's CPU definitions. */
static bool has(const kn_cg *cg, const char *name) {
  int st = feature(cg->features, name);
  if (st) return st > 0;
  bool spr = !strcmp(cg->cpu, "sapphirerapids");
  if (!strcmp(name, "avx512bf16")) return spr || !strcmp(cg->cpu, "cooperlake");
  return spr; /* amx-tile, amx-bf16 */
}

bool kn_cg_math_init(kn_cg *cg, const kn_cpu_options *o, kn_diag *d) {
  const char *mode = "fp32";
  cg->math_sfx = NULL;
  if (o->cpu_math == KN_CPU_MATH_BF16) {
    bool bf16 = has(cg, "avx512bf16"), amx = has(cg, "amx-tile") && has(cg, "amx-bf16");
    if (!bf16) {
      kn_diag_error(d, (kn_loc){0}, "use --cpu-math=fp32, or a target with it (e.g. --cpu=sapphirerapids or --cpu=cooperlake)",
                    "--cpu-math=bf16: target CPU '%s' lacks AVX512-BF16 (feature avx512bf16)%s", cg->cpu,
                    amx ? "" : " and AMX (features amx-tile, amx-bf16)");
      return false;
    }
    cg->math_sfx = amx ? "_amx" : "_bf16";
    mode = amx ? "bf16 (AMX tiles, TDPBF16PS)" : "bf16 (AVX512-BF16, VDPBF16PS)";
  }
  LLVMValueRef s = LLVMConstStringInContext(cg->ctx, mode, (unsigned)strlen(mode), 0);
  LLVMValueRef gv = LLVMAddGlobal(cg->mod, LLVMTypeOf(s), "kn_model_cpu_math");
  LLVMSetInitializer(gv, s);
  LLVMSetGlobalConstant(gv, 1);
  return true;
}

const char *kn_cg_math_kernel(const kn_cg *cg, const char *name, char *buf, size_t cap) {
  static const char *const gemm[] = {"kn_k_conv2d",           "kn_k_conv2d_ep",         "kn_k_conv2d_grad_weight",
                                     "kn_k_conv2d_grad_input", "kn_k_conv2d_grad_input_st", "kn_k_linear",
                                     "kn_k_linear_grad_input", "kn_k_linear_grad_weight"};
  if (!cg->math_sfx) return name;
  for (size_t i = 0; i < sizeof gemm / sizeof gemm[0]; i++)
    if (!strcmp(name, gemm[i])) {
      snprintf(buf, cap, "%s%s", name, cg->math_sfx);
      return buf;
    }
  return name;
}
