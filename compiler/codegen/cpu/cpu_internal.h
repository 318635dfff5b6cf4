/* cpu_internal.h — private to the CPU backend: the code generation state shared by the target
 * setup (cpu_target.c), per-op lowering (cpu_lower.c), the module builder (cpu_module.c) and the
 * header writer (cpu_header.c). */
#ifndef KN_CPU_INTERNAL_H
#define KN_CPU_INTERNAL_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "codegen_cpu.h"
#include "kernel_groups.h"

/* One row of a tensor table (persist region or an entry's work region). */
typedef struct kn_cg_tensor {
  char *name;
  int role;   /* KN_ROLE_* of kilnrt.h */
  int region; /* KN_REGION_* */
  const kn_value *v;
  int64_t offset;
} kn_cg_tensor;

typedef struct kn_cg_table {
  kn_cg_tensor *t;
  int n, cap;
} kn_cg_table;

/* A specialised kernel wrapper void sym(i8 *p, i64 b, i64 e) { kernel((i8 **)p, b, e, consts); }
 * (prog: kernel((i8 **)p, b, e, &prog) with c[] a constant double array instead). Its code depends
 * only on these fields, the kernel library and the target, so each is optimised and emitted on its
 * own (cpu_kobj.c), in parallel and through the object cache. */
typedef struct kn_cg_wrap {
  char *key;    /* "kernel(c0,c1,...)" or "kernel[c0,c1,...]" (prog) */
  char *sym;    /* kn_w_<kernel>_<16 hex digits of the key hash> */
  char *kernel; /* kn_k_<name> */
  double *c;
  int n_c;
  bool prog;
  LLVMValueRef decl; /* the declaration in the entry module */
} kn_cg_wrap;

typedef struct kn_cg {
  LLVMContextRef ctx;
  LLVMModuleRef mod;
  LLVMBuilderRef b;
  LLVMTargetMachineRef tm;
  char *triple, *cpu, *features;
  int opt_level;
  LLVMTypeRef i8, i8p, i32, i64, f32, f64, voidt, wrap_ty, pfor_ty;
  LLVMValueRef pfor; /* kn_parallel_for */
  const kn_cpu_options *opts; /* the compile's options (outlive the module) */
  /* Specialised wrappers (compiled apart, cpu_kobj.c); the module holds their declarations. */
  kn_cg_wrap *wraps;
  int n_wraps, cap_wraps;
  bool emitted; /* kn_cg_emit optimises (and, for asm/llvm, links into) the module: once */
  /* The entry function being built. */
  const kn_graph *g;
  LLVMValueRef fn, persist, work, ptrs; /* ptrs: alloca [KN_CG_MAXPTR x i8*] */
  const int64_t *persist_off;           /* per value id of g, -1 if not persistent */
  const int64_t *work_off;              /* per value id of g, -1 if not planned */
  int64_t scratch_off;                  /* KN_CG_SCRATCH: work + scratch_off */
  int calls, parallel_calls;
  struct kn_cg_prof *prof; /* --profile: timers and kernel tables (cpu_profile.c); NULL = off */
} kn_cg;

#define KN_CG_MAXPTR 24
/* A pseudo value id for kn_cg_ptr: the entry's scratch region (after its planned work arena). */
#define KN_CG_SCRATCH (-2)

/* cpu_target.c */
bool kn_cg_init(kn_cg *cg, const kn_cpu_options *o, kn_diag *d);
/* A target machine for cg's triple, CPU and features at codegen level opt (0..3). */
LLVMTargetMachineRef kn_cg_target_machine(const kn_cg *cg, int opt);
/* Attributes (target-cpu, -features, vector width) and the default<On> pipeline with
 * n = opt_level on module m of context ctx. */
void kn_cg_set_target_attrs(const kn_cg *cg, LLVMContextRef ctx, LLVMValueRef fn);
void kn_cg_run_pipeline(const kn_cg *cg, LLVMModuleRef m, LLVMTargetMachineRef tm, int opt_level);
/* The entry module (glue: entry functions, kernel functions, descriptor): light pipeline. */
void kn_cg_optimize(kn_cg *cg);
void kn_cg_dispose(kn_cg *cg);

/* cpu_kobj.c: the kernel library and the wrappers' code */
/* Parameter count of kernel `name` in the embedded library (-1: no such kernel). */
int kn_cg_kernel_arity(const char *name);
/* Declares (once per key) the wrapper of `kernel` with constants c in cg->mod. */
LLVMValueRef kn_cg_wrapper(kn_cg *cg, const char *kernel, const double *c, int n_c, bool prog);
/* Optimises and emits the entry module and every wrapper (on opts->threads threads, through the
 * object cache when opts->cache) into one object, or assembly / IR of the linked module. */
bool kn_cg_emit(kn_cg *cg, kn_emit_kind kind, const char *path, kn_diag *d);
void kn_cg_wraps_free(kn_cg *cg);

/* cpu_lower.c */
/* Pointer to the data of value v in the current entry function. */
LLVMValueRef kn_cg_ptr(kn_cg *cg, int v);
/* Calls kernel `name` on ptrs with constant arguments c (converted to each parameter's type),
 * over `items` work items (parallel when > 1). */
void kn_cg_call(kn_cg *cg, const char *name, const int *vals, int n_vals, const double *c, int n_c, int64_t items);
/* The 16 geometry constants every conv kernel takes first (N, Ci, H, W, Co, OH, OW, kh, kw, sh,
 * sw, ph, pw, dh, dw, G) for conv-family node n, x the image side and y the output side; returns
 * whether kn_k_conv2d_grad_input takes its direct path (1x1, stride 1, no padding). */
bool kn_cg_conv_geom(const kn_node *n, kn_shape x, kn_shape y, double c[16]);
/* Work items of kn_k_conv2d_grad_input(_st) for those constants. */
int64_t kn_cg_conv_gi_items(const double c[16], bool direct);
/* Lowers one node into the current entry function. */
void kn_cg_lower_node(kn_cg *cg, const kn_node *n);
/* cpu_dist.c: allreduce_mean starts its bucket where it stands; the first reader of its output
 * waits for the bucket first (called by kn_cg_lower_node for every node). */
void kn_cg_lower_allreduce(kn_cg *cg, const kn_node *n);
void kn_cg_wait_allreduce_inputs(kn_cg *cg, const kn_node *n);
/* Between the two phases of a synchronised training-mode BatchNorm (kernels/norm.c). */
void kn_cg_sync_bn(kn_cg *cg, const kn_node *n);
/* The running-statistics update of a synchronised BatchNorm: a runtime call that knows the ranks. */
void kn_cg_sync_bn_running_update(kn_cg *cg, const kn_node *n);
/* Calls wrapper w (cg->wrap_ty) on the data pointers of vals over `items` work items. */
void kn_cg_call_wrapper(kn_cg *cg, LLVMValueRef w, const int *vals, int n_vals, int64_t items);

/* cpu_fuse.c: kernel groups honoured. A run is a sequence of consecutive nodes of one group that
 * becomes one kn_k_fused call; `skip` marks the values it keeps internal (no arena slot), and a
 * group holding a run is one unit for the memory planner (memplan.h). */
typedef struct kn_fuse_run {
  int first, n_nodes;  /* node ids first .. (the next n_nodes live nodes of the group) */
  double *prog;        /* kn_fused.h */
  int n_prog;
  int vals[KN_CG_MAXPTR], n_vals;
  int64_t items;
  bool conv_ep;        /* a conv epilogue (cpu_conv_ep.c): prog = kn_k_conv2d_ep's constants */
  bool conv_gi;        /* with conv_ep: kn_k_conv2d_grad_input_st instead */
  bool stats;          /* with conv_ep: it writes statistics partials to the scratch region */
} kn_fuse_run;

typedef struct kn_fuse_plan {
  bool *skip;                    /* per value */
  int *run_of;                   /* per node: run index, -1 = lowered alone */
  int *unit_first, *unit_last;   /* per node, for kn_memplan_build_fused */
  kn_fuse_run *runs;
  int n_runs;
  int groups_fused, groups_fallback, fused_nodes, internal, conv_eps;
  int conv_stats;                /* of conv_eps: gathering BN statistics (kn_cg_conv_stats_plan) */
  int64_t scratch_bytes;         /* the entry's scratch region (KN_CG_SCRATCH) */
} kn_fuse_plan;

/* enable false: every node alone, no value skipped. min_plane: smallest H*W of a sweep with
 * per-channel or per-plane structure (0: the default, 256). bn_stats: KN_BN_STATS_*. */
void kn_cg_fuse_plan(const kn_graph *g, const bool *pinned, bool enable, int min_plane, int bn_stats,
                     kn_fuse_plan *fp);
void kn_cg_fuse_free(kn_fuse_plan *fp);
void kn_cg_lower_run(kn_cg *cg, const kn_fuse_run *r);
/* Lowers cg->g kernel by kernel (kernel_groups.h order): each kernel becomes one internal function
 * kn_kern<i>(persist, work) holding its calls (sweeps per fp, other nodes one call each), called
 * once from the entry at cg->b. Returns the number of kernel functions. */
int kn_cg_lower_kernels(kn_cg *cg, const kn_fuse_plan *fp);

/* cpu_conv_ep.c: plans a conv epilogue run at nodes[0] (a group's nodes from there, len of them);
 * returns the nodes it covers (0: none, nodes[0] is then lowered as usual). */
int kn_cg_conv_ep_plan(kn_fuse_plan *fp, const kn_graph *g, const bool *pinned, const int *nodes, int len);
void kn_cg_lower_conv_ep(kn_cg *cg, const kn_fuse_run *r);
/* Makes conv node `node` (lowered alone so far) a one-node conv epilogue that writes the batch
 * statistics of its output into the scratch region; returns their pixel tiles (0: not done). */
int64_t kn_cg_conv_stats_plan(kn_fuse_plan *fp, const kn_graph *g, int node);
/* Makes conv2d_grad_input node `node` (lowered alone) one call of kn_k_conv2d_grad_input_st that
 * gathers batchnorm2d_grad's sums of g = [relu_grad](dx + others, mask) against x and mean into
 * the scratch region (mask -1: none); returns their pixel tiles (0: not done). */
int64_t kn_cg_conv_gi_stats_plan(kn_fuse_plan *fp, const kn_graph *g, int node, const int *others, int n_other,
                                 int mask, int x, int mean);

/* cpu_profile.c (`--profile`; every call is a no-op when cg->prof is NULL). For the entry being
 * lowered: prof_entry records its kernels (names, member nodes, FLOPs and bytes from the IR) and
 * makes its counters; prof_start/prof_stop bracket kernel k's call at cg->b. prof_emit writes
 * the kn_model_profile descriptor (kilnrt.h) once every entry is built; prof_free frees. */
void kn_cg_prof_init(kn_cg *cg);
void kn_cg_prof_entry(kn_cg *cg, const char *entry, const kn_kernel_list *kl);
LLVMValueRef kn_cg_prof_start(kn_cg *cg);
void kn_cg_prof_stop(kn_cg *cg, int k, LLVMValueRef t0);
void kn_cg_prof_emit(kn_cg *cg);
void kn_cg_prof_free(kn_cg *cg);

/* cpu_module.c: read access for the header writer (kn_cpu_module_name: codegen_cpu.h) */
int kn_cpu_module_batch(const kn_cpu_module *m);
const kn_cg_table *kn_cpu_module_persist(const kn_cpu_module *m);
int kn_cpu_module_n_entries(const kn_cpu_module *m);
const char *kn_cpu_module_entry_name(const kn_cpu_module *m, int i);
const kn_cg_table *kn_cpu_module_entry_table(const kn_cpu_module *m, int i);
/* A private constant C string of the module, as i8*. */
LLVMValueRef kn_cg_cstr(kn_cg *cg, const char *s);

/* cpu_header.c */
char *kn_cg_c_ident(const char *s); /* upper-case C identifier from a tensor name; caller frees */

#endif
