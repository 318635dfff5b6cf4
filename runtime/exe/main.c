/* main.c — the main() of every executable `kiln compile` produces. It drives the model object
 * through its descriptor `kn_model` (kilnrt.h). Commands live in one table; the training loop
 * (train, eval, predict) adds its rows here.
 *
 *   ./model info                          model name, parameters, arena sizes, CPU features
 *   ./model run ENTRY IN.kt OUT.kt        load tensors, run an entry point, write its results
 *   ./model bench ENTRY [--iters=N] [--profile[=csv FILE]]   time an entry point on synthetic data
 *                                         (per-kernel table of a `kiln compile --profile` build)
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kilnrt.h"
#include "kn_commands.h"
#include "kn_cpu_check.h"
#include "kn_profile.h"
#include "kn_session.h"
#include "kn_tensorfile.h"

/* ---- model state ---- */
typedef struct kn_exe {
  uint8_t *persist, *work;
  int64_t work_size;
} kn_exe;

static void *alloc_region(int64_t bytes) {
  size_t n = (size_t)((bytes + KN_ABI_ALIGN - 1) / KN_ABI_ALIGN * KN_ABI_ALIGN);
  void *p = aligned_alloc(KN_ABI_ALIGN, n ? n : KN_ABI_ALIGN);
  if (!p) {
    fprintf(stderr, "error: cannot allocate %lld bytes\n", (long long)bytes);
    exit(1);
  }
  memset(p, 0, n);
  return p;
}

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static float rng_uniform(uint64_t *s, float lo, float hi) {
  return lo + (hi - lo) * (float)((rng_next(s) >> 40) * (1.0 / 16777216.0));
}

/* fan-in of the weight a parameter belongs to ("x.bias" -> "x.weight"). */
static int64_t fan_in(const kn_tensor_desc *t) {
  const kn_tensor_desc *w = t;
  const char *dot = strrchr(t->name, '.');
  if (t->rank == 1 && dot) {
    char name[512];
    snprintf(name, sizeof name, "%.*s.weight", (int)(dot - t->name), t->name);
    const kn_tensor_desc *c = kn_model_tensor(&kn_model, NULL, name);
    if (c && c->rank > 1) w = c;
  }
  return w->rank > 1 ? kn_tensor_numel(w) / w->dims[0] : kn_tensor_numel(w);
}

/* PyTorch-style initialisation (kn_init_kind: 0 zero, 1 one, 2 kaiming uniform, 3 fan-in uniform). */
static void init_persist(kn_exe *x, uint64_t seed) {
  uint64_t s = seed;
  for (int i = 0; i < kn_model.n_persist; i++) {
    const kn_tensor_desc *t = &kn_model.persist[i];
    float *d = kn_tensor_data(t, x->persist, x->work);
    int64_t n = kn_tensor_numel(t);
    float b = 1.0f / sqrtf((float)fan_in(t));
    for (int64_t k = 0; k < n; k++) {
      if (t->role == KN_ROLE_CONST) d[k] = t->fill;
      else if (t->init == 1) d[k] = 1.0f;
      else if (t->init >= 2) d[k] = rng_uniform(&s, -b, b);
      else d[k] = 0.0f;
    }
  }
}

static void exe_init(kn_exe *x) {
  x->persist = alloc_region(kn_model.persist_size);
  for (int i = 0; i < kn_model.n_entries; i++)
    if (kn_model.entries[i].work_size > x->work_size) x->work_size = kn_model.entries[i].work_size;
  x->work = alloc_region(x->work_size);
  init_persist(x, 42);
  kn_model_persist_to_device(x->persist);
}

static void exe_free(kn_exe *x) {
  free(x->persist);
  free(x->work);
}

static const kn_entry_desc *find_entry(const char *name) {
  const kn_entry_desc *e = kn_model_entry(&kn_model, name);
  if (!e) {
    fprintf(stderr, "error: model has no entry point '%s' (have:", name);
    for (int i = 0; i < kn_model.n_entries; i++) fprintf(stderr, " %s", kn_model.entries[i].name);
    fprintf(stderr, ")\n");
  }
  return e;
}

/* Sets a role's scalar input (lr, step) when the entry has one. */
static void set_scalar(kn_exe *x, const kn_entry_desc *e, int role, double v) {
  for (int i = 0; i < e->n_tensors; i++) {
    const kn_tensor_desc *t = &e->tensors[i];
    if (t->role != role) continue;
    void *d = kn_tensor_data(t, x->persist, x->work);
    if (t->dtype == KN_TDT_I32) *(int32_t *)d = (int32_t)v;
    else *(float *)d = (float)v;
  }
}

static double get_scalar(kn_exe *x, const kn_entry_desc *e, int role) {
  for (int i = 0; i < e->n_tensors; i++) {
    const kn_tensor_desc *t = &e->tensors[i];
    if (t->role != role) continue;
    void *d = kn_tensor_data(t, x->persist, x->work);
    return t->dtype == KN_TDT_I32 ? *(int32_t *)d : *(float *)d;
  }
  return 0;
}

/* The value of option key given as "--key=V" or "--key V". */
static const char *arg_value(int argc, char **argv, const char *key) {
  size_t n = strlen(key);
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], key, n)) continue;
    if (argv[i][n] == '=') return argv[i] + n + 1;
    if (!argv[i][n] && i + 1 < argc) return argv[i + 1];
  }
  return NULL;
}

/* The initial weights of run and bench, as for train/eval/predict: --weights FILE, else the
 * embedded weights, else the spec's `weights:` file, else the random initialisation stays. */
static bool load_weights(kn_exe *x, int argc, char **argv) {
  kn_session view = {.persist = x->persist, .work = x->work}; /* the import touches only the regions */
  kn_error err = {{0}};
  if (kn_weights_load(&view, arg_value(argc, argv, "--weights"), NULL, true, &err)) return true;
  fprintf(stderr, "error: %s\n", err.msg);
  return false;
}

static void apply_threads(int argc, char **argv) {
  const char *t = arg_value(argc, argv, "--threads");
  if (t) kn_parallel_set_threads(atoi(t));
}

/* ---- commands ---- */
static int cmd_info(int argc, char **argv) {
  printf("model       %s\n", kn_model.name);
  printf("batch       %d\n", kn_model.batch);
  printf("parameters  %lld total, %lld trainable\n", (long long)kn_model.params_total,
         (long long)kn_model.params_trainable);
  printf("persist     %lld bytes\n", (long long)kn_model.persist_size);
  const kn_entry_desc *fe = kn_model_entry(&kn_model, "forward");
  for (int i = 0; fe && i < fe->n_tensors; i++) {
    const kn_tensor_desc *t = &fe->tensors[i];
    if (t->role == KN_ROLE_INPUT && t->rank == 4)
      printf("input       %lldx%lld, %lld channels\n", (long long)t->dims[2], (long long)t->dims[3], (long long)t->dims[1]);
    if (t->role == KN_ROLE_OUTPUT && t->rank == 2) printf("classes     %lld\n", (long long)t->dims[1]);
  }
  for (int i = 0; i < kn_model.n_entries; i++)
    printf("entry       %-12s work arena %lld bytes (unplanned %lld)\n", kn_model.entries[i].name,
           (long long)kn_model.entries[i].work_size, (long long)kn_model.entries[i].naive_size);
  printf("cpu         %s\nfeatures    %s\n", kn_model.cpu, kn_model.features);
  if (kn_model_cpu_math) printf("cpu-math    %s\n", kn_model_cpu_math); /* CPU builds */
  if (&kn_model_n_targets) { /* a multi-target build (kiln compile --cpu=A,B) */
    printf("targets    ");
    for (int i = 0; i < kn_model_n_targets; i++)
      printf(" %s", ((const kn_model_desc *)kn_model_target_descs[i])->cpu);
    printf(" (the first this CPU runs is used; KILN_CPU_TARGET=NAME forces one)\n");
  }
  char miss[512];
  if (kn_cpu_missing(kn_model.features, miss, sizeof miss)) printf("runs here   no: this CPU lacks %s\n", miss);
  printf("threads     %d\n", kn_parallel_threads());
  if (!&kn_model_device) return 0;
  char why[512] = "";
  int rc = kn_model_device_open(why, (int)sizeof why);
  if (!rc) {
    printf("device      %s: %s\n", kn_model_device.kind, kn_model_device.describe());
    return 0;
  }
  printf("device      %s: unavailable\n", kn_model_device.kind);
  fflush(stdout);
  kn_model_device.report(why);
  return rc;
}

/* The start of `run` and `bench` (argv[0] is the command's name): their usage line (argv[0] then
 * `args`) on stdout for --help (*rc 0) or on stderr when argv has fewer than `min_argc` words
 * (*rc 2), --threads=T, the entry named argv[1] and the model state *x. NULL when the command
 * must end with status *rc. */
static const kn_entry_desc *entry_command_init(int argc, char **argv, int min_argc, const char *args, kn_exe *x,
                                               int *rc) {
  bool help = false;
  for (int k = 1; k < argc; k++) help = help || !strcmp(argv[k], "--help") || !strcmp(argv[k], "-h");
  *rc = help ? 0 : 2;
  if (help || argc < min_argc) {
    fprintf(help ? stdout : stderr, "usage: %s %s\n", argv[0], args);
    return NULL;
  }
  apply_threads(argc, argv);
  const kn_entry_desc *e = find_entry(argv[1]);
  if (!e) return NULL;
  exe_init(x);
  if (!load_weights(x, argc, argv)) {
    exe_free(x);
    *rc = 1;
    return NULL;
  }
  return e;
}

static int cmd_run(int argc, char **argv) {
  kn_exe x = {0};
  int rc;
  const kn_entry_desc *e = entry_command_init(argc, argv, 4, "ENTRY IN.kt OUT.kt [--steps=N] [--threads=T] [--weights=FILE]", &x, &rc);
  if (!e) return rc;
  set_scalar(&x, e, KN_ROLE_LR, 0.01);
  set_scalar(&x, e, KN_ROLE_STEP, 1);
  kn_tfile in;
  char err[512];
  if (!kn_tfile_read(&in, argv[2], err, sizeof err)) {
    fprintf(stderr, "error: %s\n", err);
    exe_free(&x);
    return 1;
  }
  rc = 0;
  for (int i = 0; i < in.n && !rc; i++) {
    const kn_tensor_desc *t = kn_model_tensor(&kn_model, e, in.t[i].name);
    if (!t) continue; /* tensors the entry does not use */
    if (kn_tfile_numel(&in.t[i]) != kn_tensor_numel(t) || in.t[i].dtype != t->dtype) {
      fprintf(stderr, "error: tensor '%s' in %s has the wrong size or type\n", in.t[i].name, argv[2]);
      rc = 1;
      break;
    }
    memcpy(kn_tensor_data(t, x.persist, x.work), in.t[i].data, (size_t)kn_tensor_bytes(t));
  }
  kn_tfile_free(&in);
  kn_model_persist_to_device(x.persist);
  const char *st = arg_value(argc, argv, "--steps");
  int steps = st ? atoi(st) : 1;
  for (int s = 0; s < steps && !rc; s++) {
    if (s) set_scalar(&x, e, KN_ROLE_STEP, get_scalar(&x, e, KN_ROLE_STEP) + 1);
    e->fn(x.persist, x.work);
  }
  if (!rc) {
    kn_model_persist_to_host(x.persist);
    kn_tfile out = {0};
    for (int i = 0; i < e->n_tensors; i++) {
      const kn_tensor_desc *t = &e->tensors[i];
      kn_tfile_add(&out, t->name, t->dtype, t->rank, t->dims, kn_tensor_data(t, x.persist, x.work));
    }
    for (int i = 0; i < kn_model.n_persist; i++) {
      const kn_tensor_desc *t = &kn_model.persist[i];
      kn_tfile_add(&out, t->name, t->dtype, t->rank, t->dims, kn_tensor_data(t, x.persist, x.work));
    }
    if (!kn_tfile_write(&out, argv[3])) {
      fprintf(stderr, "error: cannot write '%s'\n", argv[3]);
      rc = 1;
    }
    kn_tfile_free(&out);
  }
  exe_free(&x);
  return rc;
}

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmd_bench(int argc, char **argv) {
  kn_exe x = {0};
  int rc;
  const kn_entry_desc *e = entry_command_init(
      argc, argv, 2, "ENTRY [--iters=N] [--threads=T] [--weights=FILE] [--profile | --profile=csv FILE]", &x, &rc);
  if (!e) return rc;
  /* --profile: the per-kernel table of a `kiln compile --profile` build (kn_profile.c). */
  bool profile = false;
  const char *csv = NULL;
  for (int k = 2; k < argc; k++) {
    if (!strcmp(argv[k], "--profile")) profile = true;
    else if (!strcmp(argv[k], "--profile=csv") && k + 1 < argc) profile = true, csv = argv[++k];
    else if (!strncmp(argv[k], "--profile", 9)) {
      fprintf(stderr, "error: use --profile or --profile=csv FILE\n");
      exe_free(&x);
      return 2;
    }
  }
  const kn_prof_entry_desc *prof = profile ? kn_prof_entry(e->name) : NULL;
  if (profile && !prof) {
    fprintf(stderr, "error: '%s' was compiled without timers (hint: kiln compile --profile)\n", kn_model.name);
    exe_free(&x);
    return 1;
  }
  uint64_t s = 7;
  for (int i = 0; i < e->n_tensors; i++) {
    const kn_tensor_desc *t = &e->tensors[i];
    void *d = kn_tensor_data(t, x.persist, x.work);
    int64_t n = kn_tensor_numel(t), classes = 10;
    const kn_tensor_desc *o = NULL;
    for (int k = 0; k < e->n_tensors; k++)
      if (e->tensors[k].role == KN_ROLE_OUTPUT) o = &e->tensors[k];
    if (o && o->rank == 2) classes = o->dims[1];
    if (t->role == KN_ROLE_INPUT)
      for (int64_t k = 0; k < n; k++) ((float *)d)[k] = rng_uniform(&s, -1, 1);
    if (t->role == KN_ROLE_LABELS)
      for (int64_t k = 0; k < n; k++) ((int32_t *)d)[k] = (int32_t)(k % classes);
  }
  set_scalar(&x, e, KN_ROLE_LR, 0.001);
  set_scalar(&x, e, KN_ROLE_STEP, 1);
  const char *it = arg_value(argc, argv, "--iters");
  int iters = it ? atoi(it) : 10;
  e->fn(x.persist, x.work); /* warm-up */
  if (prof) kn_prof_reset(prof);
  double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  for (int i = 0; i < iters; i++) {
    set_scalar(&x, e, KN_ROLE_STEP, i + 2);
    e->fn(x.persist, x.work);
  }
  double dt = (clock_s(CLOCK_MONOTONIC) - t0) / (iters > 0 ? iters : 1);
  double cpu = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / (iters > 0 ? iters : 1);
  /* Process CPU time (all threads) beside wall time: on a shared machine it is the figure that
   * stays meaningful (bench/peer_bench.py reads both; the profile's header and CSV use it). */
  printf("%s %s: batch %d, %d threads, %.3f ms/iter, %.2f images/s, %.3f CPU ms/iter\n", kn_model.name, e->name,
         kn_model.batch, kn_parallel_threads(), dt * 1e3, kn_model.batch / dt, cpu * 1e3);
  rc = prof && !kn_prof_report(prof, iters, dt, cpu, csv) ? 1 : 0;
  exe_free(&x);
  return rc;
}

typedef struct {
  const char *name;
  int (*fn)(int argc, char **argv); /* argv[0] is the command name */
  const char *doc;
} kn_exe_command;

static const kn_exe_command commands[] = {
    {"train", kn_cmd_train, "train on CIFAR-10 (--data DIR) or the built-in synthetic set; see train --help"},
    {"eval", kn_cmd_eval, "accuracy, per-class accuracy and confusion matrix on a test set"},
    {"predict", kn_cmd_predict, "IMAGE...: classify PNG/JPEG images, top-5 classes with probabilities"},
    {"info", cmd_info, "model name, parameter counts, arena sizes, CPU features"},
    {"run", cmd_run, "ENTRY IN.kt OUT.kt [--steps=N]: run an entry point on tensors from a file"},
    {"bench", cmd_bench, "ENTRY [--iters=N] [--profile[=csv FILE]]: time an entry point on synthetic data"},
};

int main(int argc, char **argv) {
  if (kn_model.abi_version != KN_ABI_VERSION) {
    fprintf(stderr, "error: model ABI %d, runtime ABI %d\n", kn_model.abi_version, KN_ABI_VERSION);
    return 1;
  }
  int n = (int)(sizeof commands / sizeof commands[0]);
  if (argc >= 2)
    for (int i = 0; i < n; i++)
      if (!strcmp(argv[1], commands[i].name)) {
        bool help = false;
        for (int k = 2; k < argc; k++) help = help || !strcmp(argv[k], "--help") || !strcmp(argv[k], "-h");
        /* The CPU must have the code's features (else exit 4, not SIGILL); GPU builds: no device
         * means no run, before any output (info reports both itself). */
        int rc = commands[i].fn == cmd_info || help ? 0 : kn_cpu_require();
        if (!rc && commands[i].fn != cmd_info && !help) rc = kn_model_device_require();
        if (!rc && commands[i].fn != cmd_info && !help) rc = kn_cpu_math_setup(); /* AMX permission */
        return rc ? rc : commands[i].fn(argc - 1, argv + 1);
      }
  /* --help is the only way to ask for the usage; no command or an unknown one is an error. */
  bool help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
  FILE *f = help ? stdout : stderr;
  if (argc >= 2 && !help) fprintf(f, "%s: unknown command '%s'\n", argv[0], argv[1]);
  fprintf(f, "usage: %s <command> [options]\nmodel '%s' compiled by kiln\n\ncommands:\n", argv[0], kn_model.name);
  for (int i = 0; i < n; i++) fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].doc);
  return help ? 0 : 2;
}
