/* cpu_target.c — the LLVM side of the CPU backend: target machine for the host (or --cpu),
 * function attributes, the O-level pipeline, and the light pipeline of the entry module (the
 * kernels' modules are built, optimised and emitted by cpu_kobj.c). */
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "util.h"

static void fatal_handler(const char *reason) {
  fprintf(stderr, "kiln: internal error in LLVM: %s\n", reason);
  exit(KN_EXIT_INTERNAL);
}

LLVMTargetMachineRef kn_cg_target_machine(const kn_cg *cg, int opt) {
  LLVMTargetRef target;
  char *err = NULL;
  KN_ASSERT(!LLVMGetTargetFromTriple(cg->triple, &target, &err));
  LLVMCodeGenOptLevel lvl = opt <= 0   ? LLVMCodeGenLevelNone
                            : opt == 1 ? LLVMCodeGenLevelLess
                            : opt == 2 ? LLVMCodeGenLevelDefault
                                       : LLVMCodeGenLevelAggressive;
  return LLVMCreateTargetMachine(target, cg->triple, cg->cpu, cg->features, lvl, LLVMRelocPIC, LLVMCodeModelDefault);
}

bool kn_cg_init(kn_cg *cg, const kn_cpu_options *o, kn_diag *d) {
  static kn_loc noloc;
  memset(cg, 0, sizeof *cg);
  LLVMInitializeNativeTarget();
  LLVMInitializeNativeAsmPrinter();
  LLVMInstallFatalErrorHandler(fatal_handler);
  char *triple = LLVMGetDefaultTargetTriple();
  cg->triple = kn_xstrdup(triple);
  LLVMDisposeMessage(triple);
  if (o->cpu) {
    cg->cpu = kn_xstrdup(o->cpu);
    /* Spelled out for the descriptor, so the executable can check them at start (cpu_names.c). */
    const char *implied = kn_cpu_name_features(o->cpu);
    cg->features = kn_xstrdup(o->features ? o->features : implied ? implied : "");
  } else {
    char *c = LLVMGetHostCPUName(), *f = LLVMGetHostCPUFeatures();
    cg->features = kn_xstrdup(o->features ? o->features : f);
    /* A CPU newer than LLVM 14 comes back as "generic": tune for the ISA level its features give. */
    const char *name = c;
    if (!strcmp(c, "generic"))
      name = strstr(f, "+avx512f") ? "x86-64-v4" : strstr(f, "+avx2") ? "x86-64-v3" : "x86-64";
    cg->cpu = kn_xstrdup(name);
    LLVMDisposeMessage(c);
    LLVMDisposeMessage(f);
  }
  LLVMTargetRef target;
  char *err = NULL;
  if (LLVMGetTargetFromTriple(cg->triple, &target, &err)) {
    kn_diag_error(d, noloc, NULL, "no LLVM target for '%s': %s", cg->triple, err);
    LLVMDisposeMessage(err);
    return false;
  }
  cg->opt_level = o->opt_level;
  cg->opts = o;
  cg->tm = kn_cg_target_machine(cg, o->opt_level);
  cg->ctx = LLVMContextCreate();
  cg->mod = LLVMModuleCreateWithNameInContext("kiln_model", cg->ctx);
  LLVMSetTarget(cg->mod, cg->triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(cg->tm);
  LLVMSetModuleDataLayout(cg->mod, dl);
  LLVMDisposeTargetData(dl);
  cg->b = LLVMCreateBuilderInContext(cg->ctx);
  cg->i8 = LLVMInt8TypeInContext(cg->ctx);
  cg->i8p = LLVMPointerType(cg->i8, 0);
  cg->i32 = LLVMInt32TypeInContext(cg->ctx);
  cg->i64 = LLVMInt64TypeInContext(cg->ctx);
  cg->f32 = LLVMFloatTypeInContext(cg->ctx);
  cg->f64 = LLVMDoubleTypeInContext(cg->ctx);
  cg->voidt = LLVMVoidTypeInContext(cg->ctx);
  cg->wrap_ty = LLVMFunctionType(cg->voidt, (LLVMTypeRef[]){cg->i8p, cg->i64, cg->i64}, 3, 0);
  cg->pfor_ty = LLVMFunctionType(cg->voidt, (LLVMTypeRef[]){LLVMPointerType(cg->wrap_ty, 0), cg->i8p, cg->i64}, 3, 0);
  cg->pfor = LLVMAddFunction(cg->mod, "kn_parallel_for", cg->pfor_ty);
  return true;
}

static void set_str_attr(LLVMContextRef ctx, LLVMValueRef fn, const char *k, const char *v) {
  LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, k, (unsigned)strlen(k));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateStringAttribute(ctx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
}

/* True when the target has AVX-512F: from explicit features, else from the CPU name. */
static bool has_avx512(const kn_cg *cg) {
  if (strstr(cg->features, "-avx512f")) return false;
  if (strstr(cg->features, "+avx512f")) return true;
  static const char *const cpus[] = {"skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake-client",
                                     "icelake-server", "tigerlake", "sapphirerapids", "rocketlake", "x86-64-v4",
                                     "knl", "knm"};
  for (size_t i = 0; i < sizeof cpus / sizeof cpus[0]; i++)
    if (!strcmp(cg->cpu, cpus[i])) return true;
  return false;
}

void kn_cg_set_target_attrs(const kn_cg *cg, LLVMContextRef ctx, LLVMValueRef fn) {
  set_str_attr(ctx, fn, "target-cpu", cg->cpu);
  if (*cg->features) set_str_attr(ctx, fn, "target-features", cg->features);
  else LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "target-features", 15);
  if (has_avx512(cg)) set_str_attr(ctx, fn, "prefer-vector-width", "512");
  set_str_attr(ctx, fn, "no-trapping-math", "true");
}

void kn_cg_run_pipeline(const kn_cg *cg, LLVMModuleRef m, LLVMTargetMachineRef tm, int opt_level) {
  (void)cg;
  int lvl = opt_level < 0 ? 0 : opt_level > 3 ? 3 : opt_level;
  char pipeline[32];
  snprintf(pipeline, sizeof pipeline, "default<O%d>", lvl);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(po, lvl >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(po, lvl >= 2);
  LLVMPassBuilderOptionsSetLoopUnrolling(po, lvl >= 2);
  LLVMErrorRef e = LLVMRunPasses(m, pipeline, tm, po);
  KN_ASSERT(!e);
  LLVMDisposePassBuilderOptions(po);
}

/* The entry module holds only glue: entry points calling kernel functions calling wrappers
 * through the thread pool, and the descriptor. O1 is enough for it (docs/performance.md). */
void kn_cg_optimize(kn_cg *cg) {
  for (LLVMValueRef fn = LLVMGetFirstFunction(cg->mod); fn; fn = LLVMGetNextFunction(fn))
    if (!LLVMIsDeclaration(fn)) kn_cg_set_target_attrs(cg, cg->ctx, fn);
  kn_cg_run_pipeline(cg, cg->mod, cg->tm, cg->opt_level < 1 ? 0 : 1);
}

void kn_cg_dispose(kn_cg *cg) {
  kn_cg_wraps_free(cg);
  if (cg->b) LLVMDisposeBuilder(cg->b);
  if (cg->mod) LLVMDisposeModule(cg->mod);
  if (cg->tm) LLVMDisposeTargetMachine(cg->tm);
  if (cg->ctx) LLVMContextDispose(cg->ctx);
  free(cg->triple);
  free(cg->cpu);
  free(cg->features);
  memset(cg, 0, sizeof *cg);
}
