/* ptx_emit.c — turns lowered calls into PTX: loads the embedded kernel bitcode, adds one wrapper
 * entry per call (constant shapes, buffers in addrspace(1), `nvvm.annotations` kernel metadata),
 * makes the kernels internal + alwaysinline, runs default<O3> and emits PTX with NVPTX. */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/ErrorHandling.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "ptx.h"
#include "util.h"

#define KN_PTX_TRIPLE "nvptx64-nvidia-cuda"

bool kn_ptx_parse_math(const char *s, kn_ptx_math *m) {
  if (!strcmp(s, "fp32")) *m = KN_PTX_MATH_FP32;
  else if (!strcmp(s, "tf32")) *m = KN_PTX_MATH_TF32;
  else if (!strcmp(s, "bf16")) *m = KN_PTX_MATH_BF16;
  else return false;
  return true;
}

void kn_ptx_options_default(kn_ptx_options *o) {
  o->cpu = "sm_80";
  o->features = "+ptx75";
  o->opt_level = 3;
  o->no_fuse = false;
  o->math = KN_PTX_MATH_TF32;
}

/* LLVM aborts on errors such as "Cannot select"; say what happened instead of a stack dump. */
static void fatal_handler(const char *reason) {
  fprintf(stderr,
          "kiln: internal error: the NVPTX backend of LLVM failed: %s\n"
          "(this is a bug in kiln's GPU lowering; the CPU target still works: --target=cpu)\n",
          reason);
  exit(KN_EXIT_INTERNAL);
}

typedef struct {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMTypeRef i8p, i8p1, i64, f32, i32;
  LLVMValueRef annotations_kernel; /* MDString "kernel" */
} kn_ptx_emitter;

static bool init_target(LLVMTargetRef *t, kn_diag *d) {
  static bool once;
  if (!once) {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    LLVMInstallFatalErrorHandler(fatal_handler);
    once = true;
  }
  char *err = NULL;
  if (LLVMGetTargetFromTriple(KN_PTX_TRIPLE, t, &err)) {
    kn_diag_error(d, (kn_loc){0}, "this LLVM was built without the NVPTX target", "%s", err);
    LLVMDisposeMessage(err);
    return false;
  }
  return true;
}

static bool load_kernels(kn_ptx_emitter *e, kn_diag *d) {
  size_t len = (size_t)(kn_ptx_kernels_bc_end - kn_ptx_kernels_bc);
  LLVMMemoryBufferRef buf =
      LLVMCreateMemoryBufferWithMemoryRange((const char *)kn_ptx_kernels_bc, len, "kn_kernels", 0);
  bool bad = LLVMParseBitcodeInContext2(e->ctx, buf, &e->mod);
  LLVMDisposeMemoryBuffer(buf);
  if (bad) {
    kn_diag_error(d, (kn_loc){0}, "rebuild kiln", "the embedded GPU kernel bitcode is unreadable");
    return false;
  }
  return true;
}

/* A private constant array holding a call's integer or float arguments. */
static LLVMValueRef const_array(kn_ptx_emitter *e, const char *name, LLVMTypeRef elt, LLVMValueRef *v, int n,
                                LLVMTypeRef ptr_ty) {
  if (n == 0) return LLVMConstNull(ptr_ty);
  LLVMTypeRef aty = LLVMArrayType(elt, (unsigned)n);
  LLVMValueRef gv = LLVMAddGlobal(e->mod, aty, name);
  LLVMSetInitializer(gv, LLVMConstArray(elt, v, (unsigned)n));
  LLVMSetGlobalConstant(gv, 1);
  LLVMSetLinkage(gv, LLVMPrivateLinkage);
  LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
  LLVMValueRef zero = LLVMConstInt(e->i32, 0, 0), idx[2] = {zero, zero};
  return LLVMConstInBoundsGEP2(aty, gv, idx, 2);
}

static void add_wrapper(kn_ptx_emitter *e, const kn_ptx_call *c) {
  LLVMValueRef callee = LLVMGetNamedFunction(e->mod, c->kernel);
  KN_ASSERT(callee && !LLVMIsDeclaration(callee));
  LLVMTypeRef fty = LLVMGlobalGetValueType(callee);
  KN_ASSERT(LLVMCountParamTypes(fty) == 3);

  LLVMTypeRef params[KN_PTX_MAX_P];
  int np = 0;
  for (int k = 0; k < c->n_p; k++)
    if (c->p[k] >= 0) params[np++] = e->i8p1;
  LLVMValueRef fn = LLVMAddFunction(e->mod, c->entry, LLVMFunctionType(LLVMVoidTypeInContext(e->ctx), params, (unsigned)np, 0));
  LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(e->ctx, fn, "entry");
  LLVMBuilderRef b = LLVMCreateBuilderInContext(e->ctx);
  LLVMPositionBuilderAtEnd(b, bb);

  LLVMValueRef iv[KN_PTX_MAX_I], fv[KN_PTX_MAX_F];
  for (int k = 0; k < c->n_i; k++) iv[k] = LLVMConstInt(e->i64, (unsigned long long)c->i[k], 1);
  for (int k = 0; k < c->n_f; k++) fv[k] = LLVMConstReal(e->f32, c->f[k]);
  char name[48];
  snprintf(name, sizeof name, "%s.i", c->entry);
  LLVMValueRef ia = const_array(e, name, e->i64, iv, c->n_i, LLVMPointerType(e->i64, 0));
  snprintf(name, sizeof name, "%s.f", c->entry);
  LLVMValueRef fa = const_array(e, name, e->f32, fv, c->n_f, LLVMPointerType(e->f32, 0));

  /* Buffers: generic pointers in a stack array that SROA dissolves after inlining. */
  LLVMTypeRef pty = LLVMArrayType(e->i8p, (unsigned)(c->n_p ? c->n_p : 1));
  LLVMValueRef pa = LLVMBuildAlloca(b, pty, "p");
  for (int k = 0, q = 0; k < c->n_p; k++) {
    LLVMValueRef v = c->p[k] >= 0 ? LLVMBuildAddrSpaceCast(b, LLVMGetParam(fn, (unsigned)q++), e->i8p, "")
                                  : LLVMConstNull(e->i8p);
    LLVMValueRef idx[2] = {LLVMConstInt(e->i32, 0, 0), LLVMConstInt(e->i32, (unsigned)k, 0)};
    LLVMBuildStore(b, v, LLVMBuildInBoundsGEP2(b, pty, pa, idx, 2, ""));
  }
  LLVMValueRef idx0[2] = {LLVMConstInt(e->i32, 0, 0), LLVMConstInt(e->i32, 0, 0)};
  LLVMValueRef args[3] = {ia, fa, LLVMBuildInBoundsGEP2(b, pty, pa, idx0, 2, "")};
  LLVMBuildCall2(b, fty, callee, args, 3, "");
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);

  LLVMValueRef md[3] = {fn, e->annotations_kernel, LLVMConstInt(e->i32, 1, 0)};
  LLVMAddNamedMetadataOperand(e->mod, "nvvm.annotations", LLVMMDNodeInContext(e->ctx, md, 3));
}

/* Kernels become internal + alwaysinline so that only the wrappers remain after O3. */
static void internalize_kernels(kn_ptx_emitter *e, const kn_ptx_options *o) {
  unsigned always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
  unsigned never = LLVMGetEnumAttributeKindForName("noinline", 8);
  unsigned optnone = LLVMGetEnumAttributeKindForName("optnone", 7);
  for (LLVMValueRef f = LLVMGetFirstFunction(e->mod); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    size_t len;
    const char *nm = LLVMGetValueName2(f, &len);
    LLVMAddTargetDependentFunctionAttr(f, "target-cpu", o->cpu);
    LLVMAddTargetDependentFunctionAttr(f, "target-features", o->features);
    if (!strncmp(nm, "kn_gk_", 6)) {
      LLVMSetLinkage(f, LLVMInternalLinkage);
      LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, never);
      LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, optnone);
      LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(e->ctx, always, 0));
    }
  }
}

bool kn_ptx_emit_program(kn_ptx_program *prog, const kn_ptx_options *o, kn_diag *d) {
  kn_ptx_options def;
  if (!o) {
    kn_ptx_options_default(&def);
    o = &def;
  }
  LLVMTargetRef target;
  if (!init_target(&target, d)) return false;
  kn_ptx_emitter e = {.ctx = LLVMContextCreate()};
  if (!load_kernels(&e, d)) {
    LLVMContextDispose(e.ctx);
    return false;
  }
  e.i64 = LLVMInt64TypeInContext(e.ctx);
  e.i32 = LLVMInt32TypeInContext(e.ctx);
  e.f32 = LLVMFloatTypeInContext(e.ctx);
  e.i8p = LLVMPointerType(LLVMInt8TypeInContext(e.ctx), 0);
  e.i8p1 = LLVMPointerType(LLVMInt8TypeInContext(e.ctx), 1);
  e.annotations_kernel = LLVMMDStringInContext(e.ctx, "kernel", 6);

  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, KN_PTX_TRIPLE, o->cpu, o->features,
                                                    LLVMCodeGenLevelAggressive, LLVMRelocDefault,
                                                    LLVMCodeModelDefault);
  LLVMSetTarget(e.mod, KN_PTX_TRIPLE);
  LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(e.mod, td);
  LLVMDisposeTargetData(td);

  for (int k = 0; k < prog->n_calls; k++) add_wrapper(&e, &prog->calls[k]);
  internalize_kernels(&e, o);

  char *err = NULL;
  bool ok = true;
  if (LLVMVerifyModule(e.mod, LLVMReturnStatusAction, &err)) {
    kn_diag_error(d, (kn_loc){0}, NULL, "internal error: invalid GPU module: %s", err);
    ok = false;
  }
  LLVMDisposeMessage(err);
  err = NULL;
  if (ok) {
    LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
    LLVMErrorRef perr = LLVMRunPasses(e.mod, o->opt_level ? "default<O3>" : "always-inline,globaldce", tm, pbo);
    LLVMDisposePassBuilderOptions(pbo);
    if (perr) {
      char *m = LLVMGetErrorMessage(perr);
      kn_diag_error(d, (kn_loc){0}, NULL, "internal error: optimising the GPU module failed: %s", m);
      LLVMDisposeErrorMessage(m);
      ok = false;
    }
  }
  LLVMMemoryBufferRef out = NULL;
  if (ok && LLVMTargetMachineEmitToMemoryBuffer(tm, e.mod, LLVMAssemblyFile, &err, &out)) {
    kn_diag_error(d, (kn_loc){0}, NULL, "internal error: PTX emission failed: %s", err);
    LLVMDisposeMessage(err);
    ok = false;
  }
  if (ok) {
    size_t n = LLVMGetBufferSize(out);
    free(prog->ptx);
    prog->ptx = kn_xmalloc(n + 1);
    memcpy(prog->ptx, LLVMGetBufferStart(out), n);
    prog->ptx[n] = 0;
    prog->ptx_len = strlen(prog->ptx);
    LLVMDisposeMemoryBuffer(out);
  }
  LLVMDisposeModule(e.mod);
  LLVMDisposeTargetMachine(tm);
  LLVMContextDispose(e.ctx);
  return ok;
}

bool kn_ptx_compile_graph(const kn_graph *g, const kn_ptx_options *o, kn_ptx_program **out, kn_diag *d) {
  kn_ptx_program *prog = kn_xcalloc(1, sizeof *prog);
  prog->math = o ? o->math : KN_PTX_MATH_TF32;
  if (!kn_ptx_lower_graph_ex(g, o, prog, d) || !kn_ptx_emit_program(prog, o, d)) {
    kn_ptx_program_dispose(prog);
    *out = NULL;
    return false;
  }
  *out = prog;
  return true;
}
