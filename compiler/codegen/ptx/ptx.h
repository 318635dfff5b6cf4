/* ptx.h — the GPU backend: a graph lowered to kernel launches and emitted as PTX for NVIDIA GPUs.
 *
 * Every node becomes one or more launches of a kernel written in C (kernels/, compiled to NVPTX
 * bitcode at build time and embedded in the compiler). Each launch gets a wrapper entry
 * (`.entry kn_<node>_<k>`) that calls the kernel with its shapes as constants, so LLVM's
 * `default<O3>` folds them into the code (the Glow "libjit" route). Grid and block sizes are
 * fixed at compile time. The PTX targets sm_80 with PTX ISA 7.5: CUDA 13's ptxas and driver accept
 * it for sm_80 (A100) up to sm_120, including sm_90 (H100/H200).
 *
 *   kn_ptx_options o; kn_ptx_options_default(&o);
 *   kn_ptx_program *prog;
 *   if (!kn_ptx_compile_graph(g, &o, &prog, &d)) { kn_diag_print(&d, stderr); ... }
 *   fwrite(prog->ptx, 1, prog->ptx_len, f);            // the module text
 *   for (int k = 0; k < prog->n_calls; k++) ...        // launches in execution order
 *   kn_ptx_program_dispose(prog);
 *
 * A launch passes, as kernel parameters, one device pointer per entry of `p` that is not -1, in
 * order: the buffer of that graph value (f32 or i32, dense NCHW). Update ops write their
 * parameters in place. The runtime (runtime/cuda) owns the buffers.
 */
#ifndef KN_PTX_H
#define KN_PTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "ir.h"

#define KN_PTX_MAX_I 80 /* kn_gk_fused: 4 + 8 ops x 9 (kernels/kn_gfused.h) */
#define KN_PTX_MAX_F 8
#define KN_PTX_MAX_P 10
#define KN_PTX_BLOCK 256    /* threads per block of every launch */
#define KN_PTX_MAX_GRID 65535 /* kernels loop with a grid stride, so capping the grid is safe */

/* Arithmetic of convolutions and matrix products (conv2d, its two gradients, linear and its
 * gradients). Everything else is float32 SIMT either way. */
typedef enum kn_ptx_math {
  KN_PTX_MATH_FP32 = 0, /* exact float32 SIMT kernels (conv.c, gemm.c) */
  KN_PTX_MATH_TF32 = 1, /* tensor cores: operands rounded to tf32, float32 accumulation (mma.c) */
  KN_PTX_MATH_BF16 = 2, /* tensor cores: operands rounded to bf16 (nearest even), float32 accumulation */
} kn_ptx_math;

typedef struct kn_ptx_options {
  const char *cpu;      /* "sm_80" */
  const char *features; /* "+ptx75" */
  int opt_level;        /* 0: no IR optimisation (debugging), else default<O3> */
  kn_ptx_math math;     /* default KN_PTX_MATH_TF32 (PyTorch's default for cuDNN convolutions);
                         * kiln compile --gpu-math=fp32|tf32|bf16 */
  bool no_fuse;         /* ignore kernel groups: every node its own launches (tests compare) */
} kn_ptx_options;

void kn_ptx_options_default(kn_ptx_options *o);
/* "fp32" / "tf32" / "bf16" -> *m; false for anything else. */
bool kn_ptx_parse_math(const char *s, kn_ptx_math *m);

/* One kernel launch. The kernel's arguments are the three lists i, f, p (see kernels/kn_gpu.h). */
typedef struct kn_ptx_call {
  int node;                  /* graph node it implements */
  const char *kernel;        /* C kernel, e.g. "kn_gk_conv2d" (static string) */
  char entry[32];            /* PTX entry, "kn_<node>_<k>" */
  int64_t i[KN_PTX_MAX_I];   /* integer arguments (constants in the PTX) */
  int n_i;
  float f[KN_PTX_MAX_F];     /* float arguments (constants in the PTX) */
  int n_f;
  int p[KN_PTX_MAX_P];       /* buffers: graph value ids, -1 for none (NULL, not a parameter) */
  int n_p;
  int64_t threads;           /* work size: threads that have something to do */
  unsigned grid, block;      /* 1-d launch shape */
  int n_fused;               /* kn_gk_fused: graph nodes it evaluates, `node` .. `fused_last`; else 0 */
  int fused_last;
} kn_ptx_call;

typedef struct kn_ptx_program {
  kn_ptx_call *calls; /* in execution order; owned */
  int n_calls, cap_calls;
  char *ptx;          /* NUL-terminated PTX text, NULL until emitted; owned */
  size_t ptx_len;
  kn_ptx_math math;   /* read by kn_ptx_lower_graph (a zeroed program lowers to FP32);
                         kn_ptx_compile_graph sets it from the options */
  int fused_launches;  /* kn_gk_fused launches (ptx_fuse.c) */
  int fused_nodes;     /* graph nodes they evaluate */
  int internal_values; /* values they keep in registers (in no launch, no memory) */
} kn_ptx_program;

/* Lowers every live node of g (in order) to calls; shapes must be inferred. False with a
 * diagnostic when g uses something the backend cannot lower (e.g. a non-f32 step count).
 * Kernel groups (kn_node.kernel, set by the -O2 passes) are honoured: inside a group, each run of
 * consecutive elementwise members is one kn_gk_fused launch (ptx_fuse.c). */
bool kn_ptx_lower_graph(const kn_graph *g, kn_ptx_program *prog, kn_diag *d);
/* The same with options (o may be NULL: defaults); o->no_fuse lowers every node on its own. */
bool kn_ptx_lower_graph_ex(const kn_graph *g, const kn_ptx_options *o, kn_ptx_program *prog, kn_diag *d);
/* For the memory planner (kn_memplan_build_fused): skip[v] for values no launch reads or writes
 * (internal values of fused runs), unit_first/unit_last per node for the nodes of a fused launch.
 * Arrays of g->n_vals and g->n_nodes entries, filled by the caller's allocation. */
void kn_ptx_fused_plan(const kn_graph *g, const kn_ptx_program *prog, const bool *pinned, bool *skip,
                       int *unit_first, int *unit_last);
/* Builds the wrappers, optimises and emits prog->ptx. */
bool kn_ptx_emit_program(kn_ptx_program *prog, const kn_ptx_options *o, kn_diag *d);
/* Both of the above; *out is the caller's to dispose (NULL on failure). */
bool kn_ptx_compile_graph(const kn_graph *g, const kn_ptx_options *o, kn_ptx_program **out, kn_diag *d);
void kn_ptx_program_dispose(kn_ptx_program *prog);

/* `kiln compile --target=cuda --emit=asm`: writes the PTX of g to `out`; emit kinds other than
 * "asm" are a diagnostic here (the executable goes through kn_ptx_model_object). Returns a
 * KN_EXIT_* code. */
int kn_ptx_cmd_compile(const kn_graph *g, const char *emit, const char *out, const kn_ptx_options *o, kn_diag *d);

/* ---- the GPU executable's model object (ptx_exe.c) ---- */
typedef struct kn_ptx_entry {
  const char *name; /* "forward" or "train_step": the host function is kn_model_<name> */
  const kn_graph *g;
} kn_ptx_entry;

typedef struct kn_ptx_model_stats {
  int64_t persist_size;
  int launches[8];     /* per entry */
  int64_t ptx_bytes[8];
  int64_t work_size[8];
  int launches_unfused[8]; /* the same entry with kn_ptx_options.no_fuse */
  int fused_launches[8], fused_nodes[8], internal_values[8];
} kn_ptx_model_stats;

/* Writes BASE.c (the kn_model descriptor with the same layout and tables as the CPU build of the
 * same entries, host entry functions that run each entry's PTX module through
 * runtime/cuda/kn_gpu_model.c, and the launch tables), BASE.ptxN (entry N's module) and BASE.s
 * (embeds them). Compiled and combined with libkilnrt_cuda.a they are a model object that links
 * like a CPU one (compiler/driver/ship.c). o (NULL: kn_ptx_options_default) and st may be NULL. */
bool kn_ptx_model_sources(const char *model_name, const kn_ptx_entry *entries, int n_entries, const char *base,
                          const kn_ptx_options *o, kn_ptx_model_stats *st, kn_diag *d);
/* Removes those files (kept when KILN_KEEP_TEMPS is set). */
void kn_ptx_model_sources_remove(const char *base, int n_entries);
/* libkilnrt_cuda.a: next to libkiln_exe.a (kn_cpu_runtime_lib) or in ../cuda/ from it, then kiln's
 * build tree; NULL if none. */
const char *kn_ptx_runtime_lib(void);

/* The embedded kernel bitcode (every kernels/ source, linked into one module). */
extern const unsigned char kn_ptx_kernels_bc[];
extern const unsigned char kn_ptx_kernels_bc_end[];

#endif
