/* cpu_kobj.c — the specialised kernel wrappers' code: each wrapper is built in a module of its
 * own (its kernel family's bitcode plus the wrapper, in a fresh LLVMContext), optimised with
 * default<O3> and emitted to an object on a worker thread, or taken from the object cache
 * (support/objcache.h) under a key naming everything its code depends on. The entry module (glue)
 * is one more job. The objects are merged in a fixed order with `cc -r`, so the result does not
 * depend on the thread count or on which pieces came from the cache. --emit=asm/llvm link the
 * optimised pieces into the entry module instead and print it. */
#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Comdat.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <llvm/Config/llvm-config.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpu_internal.h"
#include "objcache.h"
#include "timing.h"
#include "util.h"

/* Generated at build time from kernels/<family>.c (see CMakeLists.txt). */
extern const unsigned char *const kn_kernel_bc[];
extern const size_t kn_kernel_bc_len[];
extern const char *const kn_kernel_bc_name[];
extern const int kn_kernel_bc_count;

#ifndef KN_VERSION
#define KN_VERSION "dev"
#endif

/* ---- the kernel library: which family defines each kernel, its arity, each family's hash ---- */
typedef struct {
  char *name;
  int family, arity;
} lib_kernel;

static lib_kernel *lib_kernels;
static int n_lib_kernels;
static uint64_t *family_hash;
static uint64_t self_hash; /* of the kiln binary: any rebuild of kiln invalidates the cache */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static LLVMModuleRef parse_family(LLVMContextRef ctx, int i) {
  LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange((const char *)kn_kernel_bc[i], kn_kernel_bc_len[i],
                                                                  kn_kernel_bc_name[i], 0);
  LLVMModuleRef m;
  bool bad = LLVMParseBitcodeInContext2(ctx, buf, &m);
  LLVMDisposeMemoryBuffer(buf);
  KN_ASSERT(!bad && "embedded kernel bitcode does not parse");
  return m;
}

static void lib_init(void) {
  LLVMContextRef ctx = LLVMContextCreate();
  family_hash = kn_xcalloc((size_t)kn_kernel_bc_count, sizeof *family_hash);
  for (int i = 0; i < kn_kernel_bc_count; i++) {
    family_hash[i] = kn_fnv1a(KN_FNV_SEED, kn_kernel_bc[i], kn_kernel_bc_len[i]);
    LLVMModuleRef m = parse_family(ctx, i);
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
      size_t len;
      const char *name = LLVMGetValueName2(f, &len);
      if (LLVMIsDeclaration(f) || strncmp(name, "kn_k_", 5)) continue;
      lib_kernels = kn_xrealloc(lib_kernels, (size_t)(n_lib_kernels + 1) * sizeof *lib_kernels);
      lib_kernels[n_lib_kernels++] = (lib_kernel){kn_xstrdup(name), i, (int)LLVMCountParams(f)};
    }
    LLVMDisposeModule(m);
  }
  LLVMContextDispose(ctx);
  size_t n = 0;
  const char *err;
  char *self = kn_read_file("/proc/self/exe", &n, &err);
  self_hash = self ? kn_fnv1a(KN_FNV_SEED, self, n) : 0;
  free(self);
}

static const lib_kernel *lib_find(const char *name) {
  pthread_once(&lib_once, lib_init);
  for (int i = 0; i < n_lib_kernels; i++)
    if (!strcmp(lib_kernels[i].name, name)) return &lib_kernels[i];
  return NULL;
}

int kn_cg_kernel_arity(const char *name) {
  const lib_kernel *k = lib_find(name);
  return k ? k->arity : -1;
}

LLVMValueRef kn_cg_wrapper(kn_cg *cg, const char *kernel, const double *c, int n_c, bool prog) {
  size_t cap = strlen(kernel) + 32 * (size_t)n_c + 8, len;
  char *key = kn_xmalloc(cap);
  len = (size_t)snprintf(key, cap, "%s%c", kernel, prog ? '[' : '(');
  for (int i = 0; i < n_c; i++) len += (size_t)snprintf(key + len, cap - len, "%.17g,", c[i]);
  for (int i = 0; i < cg->n_wraps; i++)
    if (!strcmp(cg->wraps[i].key, key)) {
      free(key);
      return cg->wraps[i].decl;
    }
  const lib_kernel *k = lib_find(kernel);
  KN_ASSERT(k && "kernel missing from the bitcode library");
  KN_ASSERT(k->arity == (prog ? 4 : n_c + 3) && "kernel arity does not match its lowering");
  if (cg->n_wraps == cg->cap_wraps) {
    cg->cap_wraps = cg->cap_wraps ? 2 * cg->cap_wraps : 64;
    cg->wraps = kn_xrealloc(cg->wraps, (size_t)cg->cap_wraps * sizeof *cg->wraps);
  }
  kn_cg_wrap *w = &cg->wraps[cg->n_wraps++];
  w->key = key;
  w->sym = kn_fmt("kn_w_%s_%016llx", kernel + 5, (unsigned long long)kn_fnv1a(KN_FNV_SEED, key, strlen(key)));
  w->kernel = kn_xstrdup(kernel);
  w->c = kn_xmalloc((size_t)(n_c ? n_c : 1) * sizeof *w->c);
  memcpy(w->c, c, (size_t)n_c * sizeof *c);
  w->n_c = n_c;
  w->prog = prog;
  w->decl = LLVMAddFunction(cg->mod, w->sym, cg->wrap_ty);
  return w->decl;
}

void kn_cg_wraps_free(kn_cg *cg) {
  for (int i = 0; i < cg->n_wraps; i++) {
    free(cg->wraps[i].key);
    free(cg->wraps[i].sym);
    free(cg->wraps[i].kernel);
    free(cg->wraps[i].c);
  }
  free(cg->wraps);
  cg->wraps = NULL;
  cg->n_wraps = cg->cap_wraps = 0;
}

/* ---- one wrapper's module ---- */
static void add_enum_attr(LLVMContextRef ctx, LLVMValueRef fn, const char *name) {
  unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(ctx, kind, 0));
}

/* The wrapper's module in ctx, not yet optimised: the family's kernels become internal and
 * always-inline, everything but the wrapper internal; the wrapper is weak_odr in a comdat of its
 * own (its name is its content's hash), so two models linked into one program share it. */
static LLVMModuleRef wrapper_module(const kn_cg *cg, LLVMContextRef ctx, LLVMTargetMachineRef tm, const kn_cg_wrap *w) {
  const lib_kernel *k = lib_find(w->kernel);
  LLVMModuleRef m = parse_family(ctx, k->family);
  LLVMSetSourceFileName(m, w->sym, strlen(w->sym));
  LLVMSetTarget(m, cg->triple);
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  LLVMSetModuleDataLayout(m, dl);
  LLVMDisposeTargetData(dl);
  for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g))
    if (!LLVMIsDeclaration(g)) LLVMSetLinkage(g, LLVMInternalLinkage);
  for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
    if (LLVMIsDeclaration(f)) continue;
    LLVMSetLinkage(f, LLVMInternalLinkage);
    kn_cg_set_target_attrs(cg, ctx, f);
    size_t len;
    if (strncmp(LLVMGetValueName2(f, &len), "kn_k_", 5)) continue;
    /* Kernels exist only to be inlined into their specialised wrappers. */
    LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMGetEnumAttributeKindForName("noinline", 8));
    add_enum_attr(ctx, f, "alwaysinline");
  }
  LLVMValueRef kernel = LLVMGetNamedFunction(m, w->kernel);
  LLVMTypeRef kty = LLVMGlobalGetValueType(kernel), pt[40];
  unsigned np = LLVMCountParamTypes(kty);
  KN_ASSERT(np <= 40);
  LLVMGetParamTypes(kty, pt);
  LLVMTypeRef i8p = LLVMPointerType(LLVMInt8TypeInContext(ctx), 0), i64 = LLVMInt64TypeInContext(ctx);
  LLVMTypeRef wty = LLVMFunctionType(LLVMVoidTypeInContext(ctx), (LLVMTypeRef[]){i8p, i64, i64}, 3, 0);
  LLVMValueRef fn = LLVMAddFunction(m, w->sym, wty);
  LLVMSetLinkage(fn, LLVMWeakODRLinkage);
  LLVMSetVisibility(fn, LLVMHiddenVisibility);
  LLVMSetComdat(fn, LLVMGetOrInsertComdat(m, w->sym));
  kn_cg_set_target_attrs(cg, ctx, fn);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(ctx);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(ctx, fn, "entry"));
  LLVMValueRef args[40];
  args[0] = LLVMBuildBitCast(b, LLVMGetParam(fn, 0), pt[0], "");
  args[1] = LLVMGetParam(fn, 1);
  args[2] = LLVMGetParam(fn, 2);
  if (w->prog) {
    LLVMTypeRef f64 = LLVMDoubleTypeInContext(ctx);
    LLVMValueRef *items = kn_xmalloc((size_t)(w->n_c ? w->n_c : 1) * sizeof *items);
    for (int i = 0; i < w->n_c; i++) items[i] = LLVMConstReal(f64, w->c[i]);
    LLVMValueRef init = LLVMConstArray(f64, items, (unsigned)w->n_c);
    free(items);
    LLVMValueRef gv = LLVMAddGlobal(m, LLVMTypeOf(init), "kn_prog");
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    args[3] = LLVMConstBitCast(gv, pt[3]);
  } else {
    for (int i = 0; i < w->n_c; i++) {
      LLVMTypeRef t = pt[3 + i];
      args[3 + i] = LLVMGetTypeKind(t) == LLVMDoubleTypeKind ? LLVMConstReal(t, w->c[i])
                                                              : LLVMConstInt(t, (unsigned long long)(long long)w->c[i], 1);
    }
  }
  LLVMBuildCall2(b, kty, kernel, args, np, "");
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return m;
}

/* Everything a wrapper's object depends on besides its own key. Every field of kn_cpu_options is
 * here, including those that change only the entry module today, so a new option cannot be
 * forgotten: adding one changes the size below and fails this assertion until it is added. */
_Static_assert(sizeof(kn_cpu_options) == 48, "add the new kn_cpu_options field to target_key (cpu_kobj.c)");
static char *target_key(const kn_cg *cg) {
  const kn_cpu_options *o = cg->opts;
  return kn_fmt("kiln %s (binary %016llx), LLVM %s\ntriple %s\ncpu %s\nfeatures %s\nopt %d keep_grads %d export_all %d "
                "no_fuse %d fuse_min_plane %d bn_stats %d profile %d\n",
                KN_VERSION, (unsigned long long)self_hash, LLVM_VERSION_STRING, cg->triple, cg->cpu, cg->features,
                o->opt_level, o->keep_grads, o->export_all, o->no_fuse, o->fuse_min_plane, o->bn_stats, o->profile);
}

/* ---- the jobs: 0 is the entry module, 1.. the wrappers ---- */
typedef struct {
  kn_cg *cg;
  kn_emit_kind kind;
  const char *target_key;
  kn_objcache *cache;
  int n_jobs;
  atomic_int next, done;
  struct job {
    void *bytes; /* object (KN_EMIT_OBJ) or optimised bitcode */
    size_t len;
    char *err;
    bool cached;
    double cpu_opt, cpu_emit, cpu_build;
  } *jobs;
} job_set;

static void emit_module(LLVMTargetMachineRef tm, LLVMModuleRef m, kn_emit_kind kind, struct job *j) {
  LLVMMemoryBufferRef buf = NULL;
  if (kind != KN_EMIT_OBJ) buf = LLVMWriteBitcodeToMemoryBuffer(m);
  else if (LLVMTargetMachineEmitToMemoryBuffer(tm, m, LLVMObjectFile, &j->err, &buf)) return;
  j->len = LLVMGetBufferSize(buf);
  j->bytes = kn_xmalloc(j->len ? j->len : 1);
  memcpy(j->bytes, LLVMGetBufferStart(buf), j->len);
  LLVMDisposeMemoryBuffer(buf);
}

static void run_job(job_set *s, int i, LLVMTargetMachineRef tm) {
  kn_cg *cg = s->cg;
  struct job *j = &s->jobs[i];
  double t0 = kn_thread_cpu_seconds();
  if (i == 0) { /* the entry module, in the compile's own context (only this job touches it) */
    kn_cg_optimize(cg);
    double t1 = kn_thread_cpu_seconds();
    j->cpu_opt = t1 - t0;
    if (s->kind == KN_EMIT_OBJ) emit_module(cg->tm, cg->mod, s->kind, j);
    j->cpu_emit = kn_thread_cpu_seconds() - t1;
    return;
  }
  const kn_cg_wrap *w = &cg->wraps[i - 1];
  char *key = NULL;
  if (s->cache) {
    key = kn_fmt("%s%s %016llx\n%s\n", s->target_key, w->kernel,
                 (unsigned long long)family_hash[lib_find(w->kernel)->family], w->key);
    j->bytes = kn_objcache_get(s->cache, key, &j->len);
    j->cached = j->bytes != NULL;
  }
  if (!j->bytes) {
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = wrapper_module(cg, ctx, tm, w);
    /* Drop the family's other kernels first, so O3 spends nothing on them. */
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    KN_ASSERT(!LLVMRunPasses(m, "globaldce", tm, po));
    LLVMDisposePassBuilderOptions(po);
    double t1 = kn_thread_cpu_seconds();
    kn_cg_run_pipeline(cg, m, tm, cg->opt_level);
    double t2 = kn_thread_cpu_seconds();
    emit_module(tm, m, s->kind, j);
    j->cpu_build = t1 - t0, j->cpu_opt = t2 - t1, j->cpu_emit = kn_thread_cpu_seconds() - t2;
    LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
    if (key && j->bytes) kn_objcache_put(s->cache, key, j->bytes, j->len);
  }
  free(key);
}

static void *worker(void *arg) {
  job_set *s = arg;
  LLVMTargetMachineRef tm = kn_cg_target_machine(s->cg, s->cg->opt_level);
  for (int i; (i = atomic_fetch_add(&s->next, 1)) < s->n_jobs;) {
    run_job(s, i, tm);
    kn_progress("compiling kernels", atomic_fetch_add(&s->done, 1) + 1, s->n_jobs);
  }
  LLVMDisposeTargetMachine(tm);
  return NULL;
}

/* The five kernels that took the most CPU time, for the time report. */
static void note_costliest(const job_set *s) {
  int top[5] = {0, 0, 0, 0, 0};
  for (int i = 1; i < s->n_jobs; i++) {
    const struct job *j = &s->jobs[i];
    double c = j->cpu_build + j->cpu_opt + j->cpu_emit;
    for (int k = 0; k < 5; k++) {
      const struct job *t = &s->jobs[top[k]];
      if (top[k] && c <= t->cpu_build + t->cpu_opt + t->cpu_emit) continue;
      memmove(top + k + 1, top + k, (size_t)(4 - k) * sizeof *top);
      top[k] = i;
      break;
    }
  }
  for (int k = 0; k < 5 && top[k]; k++) {
    const struct job *j = &s->jobs[top[k]];
    if (j->cached) break;
    kn_timing_note("costliest kernel %d: %.3f s CPU (O3 %.3f, isel %.3f) %s", k + 1, j->cpu_build + j->cpu_opt + j->cpu_emit,
                   j->cpu_opt, j->cpu_emit, s->cg->wraps[top[k] - 1].key);
  }
}

static int thread_count(const kn_cpu_options *o) {
  if (o->threads > 0) return o->threads;
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

/* ---- putting the pieces together ---- */
static bool run_cmd(const char *cmd) {
  int rc = system(cmd);
  return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

/* Writes the objects into a temporary directory and merges them, in job order, with `cc -r`. */
static bool merge_objects(job_set *s, const char *path, kn_diag *d) {
  static kn_loc noloc;
  const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  char *dir = kn_fmt("%s/kiln-obj-XXXXXX", tmpdir);
  if (!mkdtemp(dir)) {
    kn_diag_error(d, noloc, "set TMPDIR to a writable directory", "cannot create a temporary directory in '%s'", tmpdir);
    free(dir);
    return false;
  }
  const char *cc = getenv("CC") ? getenv("CC") : "cc";
  size_t cap = 256 + strlen(cc) + strlen(path) + (size_t)s->n_jobs * (strlen(dir) + 16), len = 0;
  char *cmd = kn_xmalloc(cap);
  char *tmp_out = kn_fmt("%s.tmp%d", path, (int)getpid());
  len += (size_t)snprintf(cmd, cap, "%s -r -nostdlib -o '%s'", cc, tmp_out);
  bool ok = true;
  for (int i = 0; i < s->n_jobs && ok; i++) {
    char *p = kn_fmt("%s/p%05d.o", dir, i);
    ok = kn_write_file_atomic(p, s->jobs[i].bytes, s->jobs[i].len);
    len += (size_t)snprintf(cmd + len, cap - len, " '%s'", p);
    free(p);
  }
  char *log = kn_fmt("%s/link.log", dir);
  snprintf(cmd + len, cap - len, " > '%s' 2>&1", log);
  if (!ok) kn_diag_error(d, noloc, "set TMPDIR to a writable directory", "cannot write objects into '%s'", dir);
  else if (!run_cmd(cmd) || rename(tmp_out, path) != 0) {
    size_t n;
    const char *err;
    char *msg = kn_read_file(log, &n, &err);
    kn_diag_error(d, noloc, "check that the directory exists and is writable", "merging the kernel objects into '%s' failed:\n%s",
                  path, msg ? msg : "(no output)");
    free(msg);
    unlink(tmp_out);
    ok = false;
  }
  char *rm = kn_fmt("rm -rf '%s'", dir);
  run_cmd(rm);
  free(rm), free(log), free(tmp_out), free(cmd), free(dir);
  return ok;
}

/* --emit=asm/llvm: the optimised wrappers linked into the optimised entry module. */
static bool print_linked(job_set *s, const char *path, kn_diag *d) {
  static kn_loc noloc;
  kn_cg *cg = s->cg;
  for (int i = 1; i < s->n_jobs; i++) {
    LLVMMemoryBufferRef buf = LLVMCreateMemoryBufferWithMemoryRange(s->jobs[i].bytes, s->jobs[i].len, "wrapper", 0);
    LLVMModuleRef m;
    bool bad = LLVMParseBitcodeInContext2(cg->ctx, buf, &m);
    LLVMDisposeMemoryBuffer(buf);
    KN_ASSERT(!bad && !LLVMLinkModules2(cg->mod, m));
  }
  bool ok;
  if (s->kind == KN_EMIT_LLVM) {
    char *text = LLVMPrintModuleToString(cg->mod);
    ok = kn_write_file_atomic(path, text, strlen(text));
    LLVMDisposeMessage(text);
  } else {
    char *err = NULL;
    LLVMMemoryBufferRef buf;
    if (LLVMTargetMachineEmitToMemoryBuffer(cg->tm, cg->mod, LLVMAssemblyFile, &err, &buf)) {
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

bool kn_cg_emit(kn_cg *cg, kn_emit_kind kind, const char *path, kn_diag *d) {
  static kn_loc noloc;
  KN_ASSERT(!cg->emitted && "a module is emitted once");
  cg->emitted = true;
  pthread_once(&lib_once, lib_init);
  job_set s = {.cg = cg, .kind = kind, .n_jobs = cg->n_wraps + 1};
  s.jobs = kn_xcalloc((size_t)s.n_jobs, sizeof *s.jobs);
  char *tkey = target_key(cg);
  s.target_key = tkey;
  if (cg->opts->cache && kind == KN_EMIT_OBJ) s.cache = kn_objcache_open(NULL);
  int nt = thread_count(cg->opts);
  if (nt > s.n_jobs) nt = s.n_jobs;
  kn_timer t = kn_timer_start();
  pthread_t *th = kn_xmalloc((size_t)nt * sizeof *th);
  for (int i = 1; i < nt; i++) KN_ASSERT(pthread_create(&th[i], NULL, worker, &s) == 0);
  worker(&s);
  for (int i = 1; i < nt; i++) pthread_join(th[i], NULL);
  free(th);
  kn_progress_done();
  static const char *const phase[] = {"code generation (1 thread)", "code generation (2 threads)",
                                      "code generation (3+ threads)"};
  kn_timing_add(phase[nt > 3 ? 2 : nt - 1], t);
  double build = 0, opt = 0, emit = 0;
  int compiled = 0;
  for (int i = 1; i < s.n_jobs; i++) {
    build += s.jobs[i].cpu_build, opt += s.jobs[i].cpu_opt, emit += s.jobs[i].cpu_emit;
    compiled += !s.jobs[i].cached;
  }
  kn_timing_add_raw("entry module: O1 pipeline", -1, s.jobs[0].cpu_opt);
  kn_timing_add_raw("entry module: instruction selection", -1, s.jobs[0].cpu_emit);
  kn_timing_add_raw("kernels: bitcode, wrapper IR", -1, build);
  kn_timing_add_raw("kernels: O3 pipeline", -1, opt);
  kn_timing_add_raw(kind == KN_EMIT_OBJ ? "kernels: instruction selection" : "kernels: bitcode out", -1, emit);
  kn_timing_note("%d kernels: %d compiled, %d from the cache%s; %d threads", cg->n_wraps, compiled,
                 cg->n_wraps - compiled, s.cache ? "" : " (cache off)", nt);
  note_costliest(&s);
  bool ok = true;
  for (int i = 0; i < s.n_jobs && ok; i++)
    if (s.jobs[i].err) {
      kn_diag_error(d, noloc, NULL, "code generation failed: %s", s.jobs[i].err);
      ok = false;
    }
  t = kn_timer_start();
  if (ok) ok = kind == KN_EMIT_OBJ ? merge_objects(&s, path, d) : print_linked(&s, path, d);
  kn_timing_add(kind == KN_EMIT_OBJ ? "merge objects (cc -r)" : "link modules, print", t);
  if (s.cache) {
    kn_objcache_trim(s.cache);
    kn_objcache_close(s.cache);
  }
  for (int i = 0; i < s.n_jobs; i++) {
    free(s.jobs[i].bytes);
    if (s.jobs[i].err) LLVMDisposeMessage(s.jobs[i].err);
  }
  free(s.jobs);
  free(tkey);
  return ok;
}
