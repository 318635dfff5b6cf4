/* cpu_target.c — the LLVM side of the CPU backend: target machine for the host (or --cpu), the
 * embedded kernel bitcode linked into the module, function attributes, the O-level pipeline and
 * emission of objects, assembly or IR. */
#include <llvm-c/BitReader.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"
#include "util.h"

/* Generated at build time from kernels/<family>.c (see CMakeLists.txt). */
extern const unsigned char *const kn_kernel_bc[];
extern const size_t kn_kernel_bc_len[];
extern const char *const kn_kernel_bc_name[];
extern const int kn_kernel_bc_count;

static void fatal_handler(const char *reason) {
  fprintf(stderr, "kiln: internal error in LLVM: %s\n", reason);
  exit(KN_EXIT_INTERNAL);
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
  LLVMCodeGenOptLevel lvl = o->opt_level <= 0 ? LLVMCodeGenLevelNone
                            : o->opt_level == 1 ? LLVMCodeGenLevelLess
                            : o->opt_level == 2 ? LLVMCodeGenLevelDefault
                                                : LLVMCodeGenLevelAggressive;
  cg->tm = LLVMCreateTargetMachine(target, cg->triple, cg->cpu, cg->features, lvl, LLVMRelocPIC,
                                   LLVMCodeModelDefault);
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
  /* The kernel library. */
  for (int i = 0; i < kn_kernel_bc_count; i++) {
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange((const char *)kn_kernel_bc[i],
                                                                    kn_kernel_bc_len[i], kn_kernel_bc_name[i], 0);
    LLVMModuleRef km;
    bool bad = LLVMParseBitcodeInContext2(cg->ctx, buf, &km);
    LLVMDisposeMemoryBuffer(buf);
    KN_ASSERT(!bad && "embedded kernel bitcode does not parse");
    LLVMSetTarget(km, cg->triple);
    LLVMSetModuleDataLayout(km, LLVMGetModuleDataLayout(cg->mod));
    KN_ASSERT(!LLVMLinkModules2(cg->mod, km));
  }
  return true;
}

static void set_str_attr(kn_cg *cg, LLVMValueRef fn, const char *k, const char *v) {
  LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, k, (unsigned)strlen(k));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateStringAttribute(cg->ctx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
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

void kn_cg_set_target_attrs(kn_cg *cg, LLVMValueRef fn) {
  set_str_attr(cg, fn, "target-cpu", cg->cpu);
  if (*cg->features) set_str_attr(cg, fn, "target-features", cg->features);
  else LLVMRemoveStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "target-features", 15);
  if (has_avx512(cg)) set_str_attr(cg, fn, "prefer-vector-width", "512");
  set_str_attr(cg, fn, "no-trapping-math", "true");
}

static void add_enum_attr(kn_cg *cg, LLVMValueRef fn, const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cg->ctx, kind, 0));
}

void kn_cg_optimize(kn_cg *cg) {
  for (LLVMValueRef fn = LLVMGetFirstFunction(cg->mod); fn; fn = LLVMGetNextFunction(fn)) {
    if (LLVMIsDeclaration(fn)) continue;
    kn_cg_set_target_attrs(cg, fn);
    size_t len;
    const char *name = LLVMGetValueName2(fn, &len);
    if (!strncmp(name, "kn_k_", 5)) {
      /* Kernels exist only to be inlined into their specialised wrappers. */
      LLVMSetLinkage(fn, LLVMInternalLinkage);
      unsigned noinl = LLVMGetEnumAttributeKindForName("noinline", 8);
      LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, noinl);
      add_enum_attr(cg, fn, "alwaysinline");
    }
  }
  char pipeline[32];
  snprintf(pipeline, sizeof pipeline, "default<O%d>", cg->opt_level < 0 ? 0 : cg->opt_level > 3 ? 3 : cg->opt_level);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMPassBuilderOptionsSetLoopVectorization(po, cg->opt_level >= 2);
  LLVMPassBuilderOptionsSetSLPVectorization(po, cg->opt_level >= 2);
  LLVMPassBuilderOptionsSetLoopUnrolling(po, cg->opt_level >= 2);
  LLVMErrorRef e = LLVMRunPasses(cg->mod, pipeline, cg->tm, po);
  KN_ASSERT(!e);
  LLVMDisposePassBuilderOptions(po);
}

bool kn_cg_emit(kn_cg *cg, kn_emit_kind kind, const char *path, kn_diag *d) {
  static kn_loc noloc;
  char *err = NULL;
  bool ok;
  if (kind == KN_EMIT_LLVM) {
    char *s = LLVMPrintModuleToString(cg->mod);
    ok = kn_write_file_atomic(path, s, strlen(s));
    LLVMDisposeMessage(s);
  } else {
    LLVMMemoryBufferRef buf;
    if (LLVMTargetMachineEmitToMemoryBuffer(cg->tm, cg->mod, kind == KN_EMIT_ASM ? LLVMAssemblyFile : LLVMObjectFile,
                                            &err, &buf)) {
      kn_diag_error(d, noloc, NULL, "code generation failed: %s", err);
      LLVMDisposeMessage(err);
      return false;
    }
    ok = kn_write_file_atomic(path, LLVMGetBufferStart(buf), LLVMGetBufferSize(buf));
    LLVMDisposeMemoryBuffer(buf);
  }
  if (!ok) kn_diag_error(d, noloc, "check that the directory exists and is writable", "cannot write '%s'", path);
  return ok;
}

void kn_cg_dispose(kn_cg *cg) {
  for (int i = 0; i < cg->n_wraps; i++) free(cg->wraps[i].key);
  free(cg->wraps);
  if (cg->b) LLVMDisposeBuilder(cg->b);
  if (cg->mod) LLVMDisposeModule(cg->mod);
  if (cg->tm) LLVMDisposeTargetMachine(cg->tm);
  if (cg->ctx) LLVMContextDispose(cg->ctx);
  free(cg->triple);
  free(cg->cpu);
  free(cg->features);
  memset(cg, 0, sizeof *cg);
}
