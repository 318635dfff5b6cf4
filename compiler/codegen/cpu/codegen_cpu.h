/* codegen_cpu.h — the CPU backend: graphs -> one LLVM module -> object file / executable.
 *
 * Each entry point is a graph (the inference graph as "forward", the autodiff graph as
 * "train_step", or any graph a test builds). Every node becomes a call to a C kernel from the
 * embedded bitcode library (kernels/), specialised with constant shapes in a per-shape wrapper and
 * optimised with O3 for the target CPU; nodes with enough work run on the runtime's thread pool.
 * Persistent values (params, state, consts) share one layout across entry points, matched by
 * name; transient values live at offsets planned by kn_memplan_build in each entry's work arena.
 * The object also holds the descriptor `kn_model` (runtime/exe/kilnrt.h).
 *
 *   kn_cpu_entry e[] = {{"forward", infer_graph}, {"train_step", train_graph}};
 *   kn_cpu_options o; kn_cpu_options_defaults(&o);
 *   kn_cpu_module *m = kn_cpu_compile("resnet50", e, 2, &o, &d);
 *   kn_cpu_emit(m, KN_EMIT_OBJ, "model.o", &d);
 *   kn_cpu_write_header(m, "model.h", &d);
 *   kn_cpu_link_exe("model.o", "model", &d);
 *   kn_cpu_module_dispose(m);
 */
#ifndef KN_CODEGEN_CPU_H
#define KN_CODEGEN_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "ir.h"

typedef struct kn_cpu_options {
  const char *cpu;      /* target CPU; NULL = the host's */
  const char *features; /* target features; NULL = the host's (or the CPU's defaults with --cpu) */
  int opt_level;        /* 0..3 */
  bool keep_grads;      /* gradients of parameters stay live to the end and are exported */
  bool export_all;      /* every activation is exported (tests) */
  bool no_fuse;         /* ignore kernel groups: one call per node (tests, measurements) */
  int fuse_min_plane;   /* smallest H*W fused with per-channel/plane structure; 0 = 256 (tests: 1) */
  int bn_stats;         /* KN_BN_STATS_*: where training-BN statistics are gathered (default CONV) */
  bool profile;         /* timers around every kernel call + kn_model_profile (cpu_profile.c);
                           off: the module holds no timer (a codegen option, so part of any cache key) */
  /* Code generation only (the generated code is the same for any value): */
  int threads;          /* threads optimising and emitting kernels; 0 = one per online CPU */
  bool cache;           /* reuse and store kernel objects in the object cache (support/objcache.h) */
} kn_cpu_options;
/* A field that changes the generated code must also go into the cache key (target_key in
 * cpu_kobj.c; a static assertion there on sizeof(kn_cpu_options) reminds). */

/* Where a fused training-mode BN gets its per-channel statistics (docs/fusion.md):
 *   SWEEP  a pre-pass of the normalising sweep over the channel (its data is then in cache);
 *   CONV   batch mean/variance in the producing conv's epilogue, batchnorm2d_grad's sums by the
 *          sweep's pre-pass (the default: measured no slower than SWEEP);
 *   ALL    also batchnorm2d_grad's sums in the grad-input conv's epilogue (measured ~2% slower
 *          on ResNet50 training here: the sweep then reads its inputs from memory again). */
enum { KN_BN_STATS_SWEEP, KN_BN_STATS_CONV, KN_BN_STATS_ALL };

typedef struct kn_cpu_entry {
  const char *name; /* C identifier; the function is kn_model_<name> */
  kn_graph *g;      /* must outlive the module */
} kn_cpu_entry;

typedef struct kn_cpu_entry_stats {
  int64_t work_size, naive_size, peak_live;
  int nodes, calls, parallel_calls;
  int kernel_fns; /* one function per kernel (kn_kernels_count of the graph), called by the entry */
  int fused_runs, fused_nodes, internal_values; /* kernel groups honoured (cpu_fuse.c) */
  int conv_epilogues;                           /* of fused_runs: conv epilogues (cpu_conv_ep.c) */
  int conv_stats;                               /* of those: gathering training-BN statistics */
  int64_t scratch_size;                         /* of work_size: the scratch region at its end */
} kn_cpu_entry_stats;

typedef struct kn_cpu_stats {
  int64_t persist_size;
  int64_t params_total, params_trainable;
  int kernels; /* distinct specialised kernel instances */
  kn_cpu_entry_stats entry[8];
  int n_entries;
  double ms_lower; /* building the entry module's IR (the rest: kiln compile --time-report) */
} kn_cpu_stats;

typedef enum { KN_EMIT_OBJ, KN_EMIT_ASM, KN_EMIT_LLVM } kn_emit_kind;

typedef struct kn_cpu_module kn_cpu_module;

void kn_cpu_options_defaults(kn_cpu_options *o);
/* NULL with diagnostics when the target cannot be set up or an entry cannot be lowered. */
kn_cpu_module *kn_cpu_compile(const char *model_name, const kn_cpu_entry *entries, int n_entries,
                              const kn_cpu_options *o, kn_diag *d);
const kn_cpu_stats *kn_cpu_module_stats(const kn_cpu_module *m);
void kn_cpu_print_stats(const kn_cpu_module *m, FILE *f);
/* Optimises and writes the object, assembly or LLVM IR (temp file + rename); once per module.
 * The kernels are optimised and emitted on o->threads threads, through the cache with o->cache. */
bool kn_cpu_emit(kn_cpu_module *m, kn_emit_kind kind, const char *path, kn_diag *d);
/* The C header describing the ABI: entry points, region sizes, tensor names, shapes, offsets. */
bool kn_cpu_write_header(const kn_cpu_module *m, const char *path, kn_diag *d);
void kn_cpu_module_dispose(kn_cpu_module *m);

/* The kilnrt.h role (KN_ROLE_*) of value v of g in the model descriptor; the GPU backend's
 * descriptor (codegen/ptx/ptx_exe.c) uses it too, so both builds describe tensors alike. */
int kn_cpu_value_role(const kn_graph *g, int v);

/* --cpu=portable: every x86-64 CPU runs the last, AVX2 and AVX-512 machines get their own. */
#define KN_CPU_PORTABLE "x86-64-v4,x86-64-v3,x86-64"
/* The target features LLVM implies for a CPU name ("+sse,+sse2,..."), for the descriptor and the
 * executable's start-up check; NULL for names kiln does not know (cpu_names.c). */
const char *kn_cpu_name_features(const char *cpu);
/* Splits a --cpu value ("a,b", or "portable" = KN_CPU_PORTABLE) into *targets (caller frees each
 * and the array); returns the count. */
int kn_cpu_parse_targets(const char *list, char ***targets);

/* Links obj with the executable runtime (runtime/exe) using the system C compiler; the linker's
 * message becomes a diagnostic. */
bool kn_cpu_link_exe(const char *obj, const char *out, kn_diag *d);
/* Where the runtime library was found (for messages); NULL if nowhere. */
const char *kn_cpu_runtime_lib(void);
/* The model name a module was compiled with (the spec's `name:`). */
const char *kn_cpu_module_name(const kn_cpu_module *m);

#endif
