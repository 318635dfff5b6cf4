/* cmd_compile.c — `kiln compile FILE`: spec -> inference graph ("forward") and training graph
 * ("train_step", by autodiff) -> LLVM (codegen/cpu) -> object, assembly, IR or an executable
 * linked with the runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autodiff.h"
#include "cli.h"
#include "codegen_cpu.h"
#include "ptx.h"
#include "diag.h"
#include "pipeline.h"
#include "ship.h"
#include "spec.h"
#include "timing.h"
#include "util.h"
#include "weights_check.h"


enum { KN_MAX_CPU_TARGETS = 4 };

static void free_targets(char **cpus, int n) {
  for (int k = 0; k < n; k++) free(cpus[k]);
  free(cpus);
}

static void usage(FILE *f) {
  fputs("usage: kiln compile [options] FILE\n\n"
        "Compiles a model spec into a native executable whose inference (forward) and training\n"
        "step (forward, backward, optimizer update) are generated code.\n\n"
        "options:\n"
        "  -o OUT             output file (default: the spec's file name without .yaml)\n"
        "  --emit=KIND        exe (default), obj (OUT and a header OUT.h describing the ABI),\n"
        "                     asm, llvm (textual IR), or bundle (OUT.o + OUT.h: the classifier as\n"
        "                     one object with a C API, see examples/bundle)\n"
        "  --weights FILE     embed trained weights (safetensors) in the executable or bundle;\n"
        "                     checked first: names, shapes and dtypes must fit the model\n"
        "  -O0 .. -O3         optimisation level (default -O3)\n"
        "  --cpu=NAME         target CPU (default: this machine's), e.g. skylake-avx512, x86-64-v3;\n"
        "                     a list (--cpu=x86-64-v4,x86-64-v3, at most 4) or portable\n"
        "                     (= " KN_CPU_PORTABLE "): one code path per target, the\n"
        "                     executable or bundle runs the first one the CPU supports; every\n"
        "                     executable checks its CPU at start (exit 4 naming what is missing)\n"
        "  --features=LIST    target features, e.g. +avx2,+fma (default: the CPU's)\n"
        "  --entry=WHICH      both (default), forward (inference only) or train\n"
        "  --target=cuda      NVIDIA GPU (sm_80+): an executable with the same commands whose entry\n"
        "                     points run as PTX through the CUDA driver; --emit=asm writes the PTX\n"
        "                     of the training step (or --entry=forward) instead (see docs/gpu.md)\n"
        "  --gpu-math=MODE    --target=cuda convolutions and matrix products: tf32 (default:\n"
        "                     tensor cores, operands rounded to tf32), bf16 (tensor cores, operands\n"
        "                     rounded to bf16) or fp32 (exact SIMT kernels)\n"
        "  --keep-grads       keep parameter gradients after the training step (for inspection)\n"
        "  --sync-bn          under mpirun, average BatchNorm batch statistics over the ranks (docs/distributed.md)\n"
        "  --bucket-kb=N      gradient all-reduce buckets of about N KB under mpirun (default 4096)\n"
        "  --bn-stats=WHERE   training-mode BN statistics of fused groups: sweep (a pre-pass of the\n"
        "                     normalising sweep), conv (default: the conv's epilogue gathers mean\n"
        "                     and variance), all (also batchnorm2d_grad's sums in the grad-input\n"
        "                     conv's epilogue); see docs/fusion.md\n"
        "  --stats            print memory-plan and code statistics\n"
        "  --profile          timers around every kernel call (CPU): the executable's\n"
        "                     `bench ENTRY --profile[=csv FILE]` prints time, FLOPs and bytes per\n"
        "                     kernel (docs/fusion.md); without it the code holds no timer\n"
        "  --time-report      print the time of each phase (wall and CPU seconds) to stderr\n"
        "  -jN, --jobs=N      threads optimising and emitting kernels (default: one per CPU;\n"
        "                     the code is the same for any N)\n"
        "  --no-cache         neither use nor fill the kernel object cache ($XDG_CACHE_HOME/kiln\n"
        "                     or ~/.cache/kiln; see 'kiln cache --help')\n"
        "  -v, --verbose      progress lines on stderr even when it is not a terminal\n"
        "  --batch N          batch size (overrides train.batch_size)\n"
        "  --input HxW        input height and width (overrides train.input_size)\n"
        "  -h, --help         show this help\n\n"
        "Exit status: 0 success, 1 error in the spec or the build, 2 bad usage, 3 internal error.\n\n",
        f);
  kn_pipeline_print_usage(f);
}

static char *default_output(const char *file, const char *emit) {
  const char *base = strrchr(file, '/');
  base = base ? base + 1 : file;
  size_t n = strlen(base);
  if (n > 5 && !strcmp(base + n - 5, ".yaml")) n -= 5;
  else if (n > 4 && !strcmp(base + n - 4, ".yml")) n -= 4;
  const char *ext = !strcmp(emit, "obj") || !strcmp(emit, "bundle") ? ".o" : !strcmp(emit, "asm") ? ".s" : !strcmp(emit, "llvm") ? ".ll" : "";
  return kn_fmt("%.*s%s", (int)n, base, ext);
}

/* --emit=bundle -o NAME writes NAME.o and NAME.h (as README and docs/training.md say); a NAME
 * ending in .o is kept. */
static char *bundle_output(const char *out, const char *emit) {
  size_t n = strlen(out);
  if (strcmp(emit, "bundle") || (n > 2 && !strcmp(out + n - 2, ".o"))) return kn_xstrdup(out);
  return kn_fmt("%s.o", out);
}

static char *header_path(const char *obj) {
  size_t n = strlen(obj);
  if (n > 2 && !strcmp(obj + n - 2, ".o")) return kn_fmt("%.*s.h", (int)(n - 2), obj);
  return kn_fmt("%s.h", obj);
}

/* --target=cuda --emit=exe: the GPU model object (same descriptor as the CPU build, PTX per
 * entry) linked with the same runtime, train config and weights (docs/gpu.md). */
static int compile_cuda_exe(const kn_spec *s, const char *file, const kn_cpu_entry *entries, int ne, const char *out,
                            const char *weights, bool stats, const kn_ptx_options *go, kn_diag *d) {
  const char *rt = kn_ptx_runtime_lib();
  if (!rt) {
    kn_diag_error(d, (kn_loc){0}, "build kiln's runtime (target kilnrt_cuda) or set KILN_RUNTIME_DIR",
                  "cannot find the CUDA runtime libkilnrt_cuda.a");
    return KN_EXIT_USER;
  }
  kn_ptx_entry pe[2];
  for (int i = 0; i < ne; i++) pe[i] = (kn_ptx_entry){entries[i].name, entries[i].g};
  char *base = kn_fmt("%s.kiln%d", out, (int)getpid());
  kn_ptx_model_stats st;
  const char *name = s->model_name ? s->model_name : "model";
  bool ok = kn_ptx_model_sources(name, pe, ne, base, go, &st, d);
  if (ok && stats) {
    fprintf(stderr, "kiln: model '%s' for CUDA sm_80 (PTX 7.5)\n  persist region      %12lld bytes\n", name,
            (long long)st.persist_size);
    for (int i = 0; i < ne; i++)
      fprintf(stderr,
              "  entry %-13s %12lld bytes work arena; %d launches (%d without fusion; %d fused launches over %d "
              "nodes, %d internal values), %lld bytes of PTX\n",
              pe[i].name, (long long)st.work_size[i], st.launches[i], st.launches_unfused[i], st.fused_launches[i],
              st.fused_nodes[i], st.internal_values[i], (long long)st.ptx_bytes[i]);
  }
  if (ok) {
    char *text = kn_ship_train_text(&s->train, file);
    ok = kn_ship_cuda_exe(base, rt, out, text, weights, d);
    free(text);
    kn_ptx_model_sources_remove(base, ne);
  }
  free(base);
  return ok ? KN_EXIT_OK : KN_EXIT_USER;
}

int kn_cmd_compile(int argc, char **argv) {
  const char *file = NULL, *out = NULL, *emit = "exe", *weights = NULL, *which = "both", *target = "cpu";
  bool stats = false, time_report = false, verbose = false, sync_bn = false;
  kn_timer t_all = kn_timer_start();
  kn_cpu_options co;
  kn_cpu_options_defaults(&co);
  kn_ptx_options gpu; /* --target=cuda */
  kn_ptx_options_default(&gpu);
  co.cache = true;
  kn_spec_options so = {0};
  kn_pipeline_options po; /* graph passes (compiler/passes/pipeline.h) */
  kn_pipeline_options_init(&po);
  po.opt_level = co.opt_level;
  po.arena_size = kn_pipeline_memplan_arena;
  kn_diag pd;
  kn_diag_init(&pd);
  for (int i = 1, r; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return KN_EXIT_OK;
    }
    if (!strcmp(a, "-o") && i + 1 < argc) out = argv[++i];
    else if (!strncmp(a, "--emit=", 7)) emit = a + 7;
    else if (!strcmp(a, "--weights") && i + 1 < argc) weights = argv[++i];
    else if (!strncmp(a, "--weights=", 10)) weights = a + 10;
    else if (!strncmp(a, "--cpu=", 6)) co.cpu = a + 6;
    else if (!strncmp(a, "--features=", 11)) co.features = a + 11;
    else if (!strncmp(a, "--entry=", 8)) which = a + 8;
    else if (!strncmp(a, "--target=", 9)) target = a + 9;
    else if (!strncmp(a, "--gpu-math=", 11)) {
      kn_ptx_math m;
      if (!kn_ptx_parse_math(a + 11, &m)) {
        fprintf(stderr, "kiln compile: unknown --gpu-math '%s' (use tf32, bf16 or fp32)\n", a + 11);
        return KN_EXIT_USAGE;
      }
      gpu.math = m;
    }
    else if (!strcmp(a, "--keep-grads")) co.keep_grads = true;
    else if (!strcmp(a, "--sync-bn")) sync_bn = true;
    else if (!strncmp(a, "--bucket-kb=", 12)) {
      char *end;
      long kb = strtol(a + 12, &end, 10);
      if (*end || kb < 1 || kb > (1L << 22)) {
        fprintf(stderr, "kiln compile: --bucket-kb wants a size in KB from 1 to 4194304, not '%s'\n", a + 12);
        return KN_EXIT_USAGE;
      }
      kn_allreduce_set_bucket_bytes((int64_t)kb << 10);
    }
    else if (!strncmp(a, "--bn-stats=", 11)) {
      const char *m = a + 11;
      co.bn_stats = !strcmp(m, "sweep") ? KN_BN_STATS_SWEEP : !strcmp(m, "conv") ? KN_BN_STATS_CONV
                    : !strcmp(m, "all") ? KN_BN_STATS_ALL : -1;
      if (co.bn_stats < 0) {
        fprintf(stderr, "kiln compile: unknown --bn-stats '%s' (use sweep, conv or all)\n", m);
        return KN_EXIT_USAGE;
      }
    }
    else if (!strcmp(a, "--stats")) stats = po.stats = true;
    else if (!strcmp(a, "--profile")) co.profile = true;
    else if (!strcmp(a, "--time-report")) time_report = true;
    else if (!strcmp(a, "--no-cache")) co.cache = false;
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) verbose = true;
    else if ((!strcmp(a, "-j") && i + 1 < argc) || (!strncmp(a, "-j", 2) && a[2]) || !strncmp(a, "--jobs=", 7)) {
      const char *v = a[1] == '-' ? a + 7 : a[2] ? a + 2 : argv[++i];
      char *end;
      long n = strtol(v, &end, 10);
      if (end == v || *end || n < 1 || n > 64) {
        fprintf(stderr, "kiln compile: -j wants a thread count from 1 to 64, not '%s'\n", v);
        return KN_EXIT_USAGE;
      }
      co.threads = (int)n;
    }
    else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) co.opt_level = po.opt_level = a[2] - '0';
    else if (kn_pipeline_parse_arg(&po, a, &pd)) continue;
    else if ((r = kn_cli_spec_option("compile", argc, argv, &i, &so)) != 0) {
      if (r < 0) return KN_EXIT_USAGE;
    } else if (!kn_cli_file_arg("compile", a, &file)) {
      return KN_EXIT_USAGE;
    }
  }
  if (strcmp(emit, "exe") && strcmp(emit, "obj") && strcmp(emit, "asm") && strcmp(emit, "llvm") && strcmp(emit, "bundle")) {
    fprintf(stderr, "kiln compile: unknown --emit kind '%s' (use exe, obj, asm, llvm or bundle)\n", emit);
    return KN_EXIT_USAGE;
  }
  if (strcmp(target, "cpu") && strcmp(target, "cuda")) {
    fprintf(stderr, "kiln compile: unknown --target '%s' (use cpu or cuda)\n", target);
    return KN_EXIT_USAGE;
  }
  if (strcmp(which, "both") && strcmp(which, "forward") && strcmp(which, "train")) {
    fprintf(stderr, "kiln compile: unknown --entry '%s' (use both, forward or train)\n", which);
    return KN_EXIT_USAGE;
  }
  if (co.profile && !strcmp(emit, "bundle")) {
    fprintf(stderr, "kiln compile: --profile needs the executable's runtime (use --emit=exe or obj)\n");
    return KN_EXIT_USAGE;
  }
  if (co.profile && !strcmp(target, "cuda")) {
    fprintf(stderr, "kiln compile: --profile is CPU-only so far (no CUDA events yet)\n");
    return KN_EXIT_USAGE;
  }
  if (!kn_cli_args_ok(&pd, file, usage)) return KN_EXIT_USAGE;
  char **cpus = NULL; /* --cpu=A,B or portable: the targets, best first */
  int n_cpus = kn_cpu_parse_targets(co.cpu, &cpus);
  if (n_cpus > KN_MAX_CPU_TARGETS || (n_cpus > 1 && (strcmp(emit, "exe") && strcmp(emit, "bundle"))) ||
      (n_cpus > 1 && strcmp(target, "cpu")) || (co.cpu && !n_cpus)) {
    fprintf(stderr, "kiln compile: --cpu=%s: %s\n", co.cpu,
            n_cpus > KN_MAX_CPU_TARGETS ? "at most 4 targets"
            : !n_cpus                   ? "name a CPU (e.g. x86-64-v3), a list (x86-64-v4,x86-64-v3) or portable"
                                        : "several targets need --emit=exe or --emit=bundle for the CPU");
    free_targets(cpus, n_cpus);
    return KN_EXIT_USAGE;
  }
  kn_timing_reset();
  kn_progress_init(verbose);
  kn_timer t = kn_timer_start();
  kn_spec *s = kn_cli_load_spec(file, &so);
  kn_timing_add("spec", t);
  if (!s) {
    free_targets(cpus, n_cpus);
    return KN_EXIT_USER;
  }
  for (int i = 0; sync_bn && i < s->graph->n_nodes; i++) /* copied to the gradients by autodiff */
    if (s->graph->nodes[i].op == KN_OP_BATCHNORM2D) kn_node_set_int(&s->graph->nodes[i], KN_ATTR_SYNC, 1);
  kn_diag d;
  kn_diag_init(&d);
  if (weights && !kn_weights_check(s->graph, weights, &d)) { /* before minutes of building */
    kn_diag_print(&d, stderr);
    kn_diag_free(&d);
    kn_spec_dispose(s);
    free_targets(cpus, n_cpus);
    return KN_EXIT_USER;
  }
  bool classifier = !strcmp(emit, "bundle") || (!strcmp(emit, "exe") && !strcmp(which, "forward"));
  if (classifier && !weights && !s->train.weights)
    kn_diag_warning(&d, (kn_loc){0}, "give --weights FILE (e.g. a run's best.safetensors)",
                    "%s has no trained weights: it will classify with random ones",
                    !strcmp(emit, "bundle") ? "the bundle" : "the inference-only executable");
  kn_cpu_entry entries[2];
  int ne = 0;
  kn_graph *infer = NULL, *train = NULL;
  int rc = KN_EXIT_OK;
  if (strcmp(which, "train")) {
    t = kn_timer_start();
    infer = kn_graph_inference_clone(s->graph);
    if (!kn_pipeline_run(infer, &po, KN_PIPELINE_INFER, stderr, &d)) rc = KN_EXIT_INTERNAL;
    entries[ne++] = (kn_cpu_entry){"forward", infer};
    kn_timing_add("graph passes (forward)", t);
  }
  if (strcmp(which, "forward")) {
    t = kn_timer_start();
    train = kn_graph_clone(s->graph);
    bool ad = kn_autodiff(train, &s->train, NULL, &d);
    kn_timing_add("autodiff", t);
    t = kn_timer_start();
    if (!ad) rc = KN_EXIT_USER;
    else if (!kn_pipeline_run(train, &po, KN_PIPELINE_TRAIN, stderr, &d)) rc = KN_EXIT_INTERNAL;
    else entries[ne++] = (kn_cpu_entry){"train_step", train};
    kn_timing_add("graph passes (train_step)", t);
  }
  char *outp = out ? bundle_output(out, emit) : default_output(file, emit);
  kn_cpu_module *m = NULL, *ms[KN_MAX_CPU_TARGETS] = {0}; /* m = ms[0]; more with --cpu=A,B */
  if (rc == KN_EXIT_OK && !strcmp(target, "cuda") && !strcmp(emit, "exe")) /* GPU executable (codegen/ptx) */
    rc = compile_cuda_exe(s, file, entries, ne, outp, weights, stats, &gpu, &d);
  else if (rc == KN_EXIT_OK && !strcmp(target, "cuda")) /* PTX module (codegen/ptx) */
    rc = kn_ptx_cmd_compile(train ? train : infer, emit, outp, &gpu, &d);
  else if (rc == KN_EXIT_OK) {
    for (int k = 0; k < (n_cpus ? n_cpus : 1) && rc == KN_EXIT_OK; k++) { /* one code path per --cpu target */
      co.cpu = n_cpus ? cpus[k] : NULL;
      ms[k] = kn_cpu_compile(s->model_name ? s->model_name : "model", entries, ne, &co, &d);
      if (!ms[k]) rc = KN_EXIT_USER;
      else if (stats) kn_cpu_print_stats(ms[k], stderr);
    }
    m = rc == KN_EXIT_OK ? ms[0] : NULL;
  }
  if (m) {
    if (!strcmp(emit, "llvm") || !strcmp(emit, "asm")) {
      if (!kn_cpu_emit(m, !strcmp(emit, "llvm") ? KN_EMIT_LLVM : KN_EMIT_ASM, outp, &d)) rc = KN_EXIT_USER;
    } else if (!strcmp(emit, "obj")) {
      char *h = header_path(outp);
      if (!kn_cpu_emit(m, KN_EMIT_OBJ, outp, &d) || !kn_cpu_write_header(m, h, &d)) rc = KN_EXIT_USER;
      free(h);
    } else { /* exe or bundle, with the train config (and --weights) embedded: ship.c */
      char *text = kn_ship_train_text(&s->train, file), *h = header_path(outp);
      int n = n_cpus ? n_cpus : 1;
      if (!strcmp(emit, "bundle") ? !kn_ship_bundle(ms, n, outp, h, &s->train, text, weights, &d)
                                  : !kn_ship_exe(ms, n, outp, text, weights, &d))
        rc = KN_EXIT_USER;
      free(h);
      free(text);
    }
  }
  kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  if (time_report) {
    kn_timing_print(stderr);
    kn_timer now = kn_timer_start();
    fprintf(stderr, "  (whole command so far: %.3f s wall, %.3f s CPU)\n", now.wall - t_all.wall, now.cpu - t_all.cpu);
  }
  for (int k = 0; k < KN_MAX_CPU_TARGETS; k++) kn_cpu_module_dispose(ms[k]);
  free_targets(cpus, n_cpus);
  kn_graph_dispose(infer);
  kn_graph_dispose(train);
  kn_spec_dispose(s);
  free(outp);
  return rc;
}
