/* ship.c — what `kiln compile` adds around the model object to make a shippable classifier:
 *  - the spec's train config as text (format in runtime/exe/kn_traincfg.h), symbol
 *    kn_embedded_train_config, so the executable knows its epochs, lr, schedule and pipelines;
 *  - with --weights FILE, the safetensors file's bytes (kn_embedded_weights .. _end), so the
 *    executable classifies with no other file;
 *  - with several targets (--cpu=A,B), one model object per target, every symbol it defines
 *    suffixed __kn_t<i> by objcopy (kn_model, the entries, and the kernel wrappers, whose
 *    weak_odr names do not depend on the target and would otherwise be merged across targets),
 *    and a dispatcher defining kn_model as a copy of the best target's descriptor at start;
 *  - --emit=bundle: one relocatable object (model + blobs + the runtime part kn_bundle.c needs,
 *    pulled from libkiln_exe.a/libkilnrt.a by `cc -r`) whose only global symbols are the C API
 *    prefixed with the model name (objcopy), and a header declaring that API.
 * The blobs are assembled from a .s file with .incbin by the system C compiler. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codegen_cpu.h"
#include "diag.h"
#include "ship.h"
#include "timing.h"
#include "util.h"

static kn_loc noloc;

typedef struct {
  char *buf;
  size_t len;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = kn_vfmt(fmt, ap);
  va_end(ap);
  size_t n = strlen(s);
  b->buf = kn_xrealloc(b->buf, b->len + n + 1);
  memcpy(b->buf + b->len, s, n + 1);
  b->len += n;
  free(s);
}

static void put_aug(sbuf *b, const char *key, const kn_aug_step *s) {
  switch (s->kind) {
  case KN_AUG_RESIZE: put(b, "%s resize %d %d\n", key, s->size[0], s->size[1]); return;
  case KN_AUG_RESIZE_SHORTER: put(b, "%s resize_shorter %d\n", key, s->size[0]); return;
  case KN_AUG_CENTER_CROP: put(b, "%s center_crop %d %d\n", key, s->size[0], s->size[1]); return;
  case KN_AUG_HFLIP: put(b, "%s hflip %.17g\n", key, s->p); return;
  case KN_AUG_RANDOM_RESIZED_CROP:
    put(b, "%s random_resized_crop %d %d %.17g %.17g %.17g %.17g\n", key, s->size[0], s->size[1], s->scale[0],
        s->scale[1], s->ratio[0], s->ratio[1]);
    return;
  case KN_AUG_TO_TENSOR: put(b, "%s to_tensor\n", key); return;
  case KN_AUG_NORMALIZE:
    put(b, "%s normalize %.17g %.17g %.17g %.17g %.17g %.17g\n", key, s->mean[0], s->mean[1], s->mean[2], s->std[0],
        s->std[1], s->std[2]);
    return;
  }
}

char *kn_ship_train_text(const kn_train_config *t, const char *spec_path) {
  static const char *const optim[] = {"sgd", "adam", "adamw"}, *const sched[] = {"constant", "step", "cosine"};
  sbuf b = {0};
  put(&b, "kiln-train-config 1\noptimizer %s\nlr %.17g\nschedule %s\n", optim[t->optim], t->lr, sched[t->sched]);
  put(&b, "step_size %d\ngamma %.17g\nmin_lr %.17g\nwarmup_epochs %d\n", t->step_size, t->gamma, t->min_lr,
      t->warmup_epochs);
  put(&b, "batch %d\nepochs %d\neval_every %d\ninput %d %d\nnum_classes %d\n", t->batch_size, t->epochs, t->eval_every,
      t->input_size[0], t->input_size[1], t->num_classes);
  for (int i = 0; i < t->n_train_aug; i++) put_aug(&b, "train_aug", &t->train_aug[i]);
  for (int i = 0; i < t->n_test_aug; i++) put_aug(&b, "test_aug", &t->test_aug[i]);
  const char *paths[2] = {t->weights, t->init_from}, *keys[2] = {"weights", "init_from"};
  for (int k = 0; k < 2; k++) {
    if (!paths[k]) continue;
    /* Relative to the spec's directory, made absolute so the executable finds it from anywhere. */
    const char *slash = strrchr(spec_path, '/');
    char *rel = paths[k][0] == '/' || !slash ? kn_xstrdup(paths[k])
                                             : kn_fmt("%.*s/%s", (int)(slash - spec_path), spec_path, paths[k]);
    char *abs = realpath(rel, NULL);
    put(&b, "%s %s\n", keys[k], abs ? abs : rel);
    free(abs);
    free(rel);
  }
  return b.buf;
}

static bool run(const char *cmd, const char *what, kn_diag *d) {
  char *log = kn_fmt("/tmp/kiln-ship-%d.log", (int)getpid());
  char *full = kn_fmt("%s > '%s' 2>&1", cmd, log);
  int rc = system(full);
  bool ok = rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
  if (!ok) {
    size_t len = 0;
    const char *err = NULL;
    char *msg = kn_read_file(log, &len, &err);
    kn_diag_error(d, noloc, NULL, "%s failed: %s\n%s", what, cmd, msg ? msg : "");
    free(msg);
  }
  unlink(log);
  free(log);
  free(full);
  return ok;
}

/* Paths for .incbin are quoted; the assembler takes C-like escapes. */
static bool safe_path(const char *p) { return !strchr(p, '"') && !strchr(p, '\\') && !strchr(p, '\n') && !strchr(p, '\''); }

bool kn_ship_blob_object(const char *obj, const char *train_text, const char *weights, kn_diag *d) {
  if (weights && (access(weights, R_OK) != 0 || !safe_path(weights))) {
    kn_diag_error(d, noloc, "give a readable safetensors file, e.g. best.safetensors written by `train`",
                  "cannot read weights file '%s'", weights);
    return false;
  }
  char *txt = kn_fmt("%s.cfg", obj), *asmf = kn_fmt("%s.s", obj);
  bool ok = kn_write_file_atomic(txt, train_text, strlen(train_text)) && safe_path(txt);
  sbuf s = {0};
  put(&s, "# Generated by kiln compile: the train config%s.\n", weights ? " and the trained weights" : "");
  put(&s, "\t.section .rodata.kn_embedded,\"a\"\n\t.globl kn_embedded_train_config\n\t.balign 64\n");
  put(&s, "kn_embedded_train_config:\n\t.incbin \"%s\"\n\t.byte 0\n", txt);
  if (weights) {
    char *abs = realpath(weights, NULL);
    put(&s, "\t.globl kn_embedded_weights\n\t.globl kn_embedded_weights_end\n\t.balign 64\n");
    put(&s, "kn_embedded_weights:\n\t.incbin \"%s\"\nkn_embedded_weights_end:\n\t.byte 0\n", abs ? abs : weights);
    free(abs);
  }
  put(&s, "\t.section .note.GNU-stack,\"\",@progbits\n");
  ok = ok && kn_write_file_atomic(asmf, s.buf, s.len);
  if (ok) {
    const char *cc = getenv("CC") ? getenv("CC") : "cc";
    char *cmd = kn_fmt("%s -c -o '%s' '%s'", cc, obj, asmf);
    ok = run(cmd, "assembling the embedded data", d);
    free(cmd);
  } else {
    kn_diag_error(d, noloc, NULL, "cannot write '%s'", asmf);
  }
  unlink(txt);
  unlink(asmf);
  free(s.buf);
  free(txt);
  free(asmf);
  return ok;
}

/* cc -r: one relocatable object from a, b (may be NULL) and extra (quoted objects; for bundles,
 * archive members they need). */
static bool merge(const char *out, const char *a, const char *b, const char *extra, kn_diag *d) {
  const char *cc = getenv("CC") ? getenv("CC") : "cc";
  char *tmp = kn_fmt("%s.tmp%d.o", out, (int)getpid());
  char *cmd = kn_fmt("%s -r -nostdlib -o '%s' '%s' %s%s%s %s", cc, tmp, a, b ? "'" : "", b ? b : "", b ? "'" : "",
                     extra ? extra : "");
  bool ok = run(cmd, "combining objects", d) && rename(tmp, out) == 0;
  if (!ok) unlink(tmp);
  free(cmd);
  free(tmp);
  return ok;
}

bool kn_ship_exe_object(const char *model, const char *out, const char *train_text, const char *weights, kn_diag *d) {
  int pid = (int)getpid();
  char *blob = kn_fmt("%s.kiln%d.blob.o", out, pid), *all = kn_fmt("%s.kiln%d.all.o", out, pid);
  bool ok = kn_ship_blob_object(blob, train_text, weights, d) && merge(all, model, blob, NULL, d) &&
            kn_cpu_link_exe(all, out, d);
  unlink(blob), unlink(all);
  free(blob), free(all);
  return ok;
}

bool kn_ship_cuda_exe(const char *base, const char *rt_lib, const char *out, const char *train_text, const char *weights,
                      kn_diag *d) {
  const char *cc = getenv("CC") ? getenv("CC") : "cc";
  char *cobj = kn_fmt("%s.c.o", base), *aobj = kn_fmt("%s.s.o", base), *model = kn_fmt("%s.o", base);
  char *c1 = kn_fmt("%s -c -O1 -std=c11 -o '%s' '%s.c'", cc, cobj, base), *c2 = kn_fmt("%s -c -o '%s' '%s.s'", cc, aobj, base);
  char *lib = kn_fmt("'%s'", rt_lib);
  bool ok = run(c1, "compiling the GPU model tables", d) && run(c2, "assembling the embedded PTX", d) &&
            merge(model, cobj, aobj, lib, d) && kn_ship_exe_object(model, out, train_text, weights, d);
  unlink(cobj), unlink(aobj), unlink(model);
  free(cobj), free(aobj), free(model), free(c1), free(c2), free(lib);
  return ok;
}

/* The dispatcher of a multi-target build (runtime/exe/kn_cpu_check.h): kn_model is a copy of the
 * descriptor of the first target this CPU runs, made before main. */
static char *dispatcher_source(int n) {
  sbuf s = {0};
  put(&s, "/* Generated by kiln compile --cpu=A,B: picks the model code for the running CPU at start. */\n");
  put(&s, "#include <stddef.h>\n#include <string.h>\n");
  for (int i = 0; i < n; i++) put(&s, "extern const char kn_model__kn_t%d[];\n", i);
  put(&s, "const void *const kn_model_target_descs[] = {");
  for (int i = 0; i < n; i++) put(&s, "%skn_model__kn_t%d", i ? ", " : "", i);
  put(&s, "};\nconst int kn_model_n_targets = %d;\n", n);
  put(&s, "int kn_cpu_pick_target(const void *const *descs, int n);\nsize_t kn_model_desc_size(void);\n");
  put(&s, "_Alignas(64) char kn_model[256]; /* a kn_model_desc (kilnrt.h) */\n");
  put(&s, "__attribute__((constructor)) static void kn_model_pick(void) {\n"
          "  size_t size = kn_model_desc_size();\n  if (size > sizeof kn_model) __builtin_trap();\n"
          "  memcpy(kn_model, kn_model_target_descs[kn_cpu_pick_target(kn_model_target_descs, %d)], size);\n}\n", n);
  return s.buf;
}

/* The model object `path`: the module's, or for several targets each module's (symbols renamed)
 * and the dispatcher, combined. */
static bool emit_models(kn_cpu_module *const *ms, int n, const char *path, kn_diag *d) {
  if (n == 1) return kn_cpu_emit(ms[0], KN_EMIT_OBJ, path, d);
  const char *cc = getenv("CC") ? getenv("CC") : "cc";
  char *src = kn_fmt("%s.disp.c", path), *disp = kn_fmt("%s.disp.o", path), *text = dispatcher_source(n);
  char *cmd = kn_fmt("%s -c -O1 -std=c11 -o '%s' '%s'", cc, disp, src);
  sbuf objs = {0};
  bool ok = kn_write_file_atomic(src, text, strlen(text)) && run(cmd, "compiling the CPU dispatcher", d);
  const char *nm = getenv("NM") ? getenv("NM") : "nm", *objcopy = getenv("OBJCOPY") ? getenv("OBJCOPY") : "objcopy";
  for (int i = 0; i < n && ok; i++) {
    char *obj = kn_fmt("%s.t%d.o", path, i), *syms = kn_fmt("%s.t%d.syms", path, i);
    char *ren = kn_fmt("%s --defined-only -g --format=posix '%s' | awk '{ print $1, $1 \"__kn_t%d\" }' > '%s' && "
                       "%s --redefine-syms='%s' '%s'", nm, obj, i, syms, objcopy, syms, obj);
    ok = kn_cpu_emit(ms[i], KN_EMIT_OBJ, obj, d) && run(ren, "renaming a target's symbols (nm, objcopy)", d);
    put(&objs, " '%s'", obj);
    unlink(syms);
    free(obj), free(syms), free(ren);
  }
  ok = ok && merge(path, disp, NULL, objs.buf, d);
  unlink(src), unlink(disp);
  for (int i = 0; i < n; i++) {
    char *obj = kn_fmt("%s.t%d.o", path, i);
    unlink(obj);
    free(obj);
  }
  free(src), free(disp), free(text), free(cmd), free(objs.buf);
  return ok;
}

bool kn_ship_exe(kn_cpu_module *const *ms, int n, const char *out, const char *train_text, const char *weights,
                 kn_diag *d) {
  char *model = kn_fmt("%s.kiln%d.o", out, (int)getpid());
  bool ok = emit_models(ms, n, model, d);
  kn_timer t = kn_timer_start();
  ok = ok && kn_ship_exe_object(model, out, train_text, weights, d);
  kn_timing_add("link executable (cc)", t);
  unlink(model);
  free(model);
  return ok;
}

/* The bundle's C API, written into OUT.h (implemented by runtime/exe/kn_bundle.c, whose
 * kn_bundle_* functions the object exports as P_* with P the model name). */
static const char *const bundle_fns[4] = {"init", "classify", "class_name", "free"};

static void put_bundle_api(sbuf *h, const char *p) {
  put(h, "/* Call the classifier from C: link OUT.o with -lm -lpthread.\n"
         " *\n"
         " *   char err[256];\n"
         " *   if (%s_init(err, sizeof err) != 0) { fprintf(stderr, \"%%s\\n\", err); return 1; }\n"
         " *   float probs[KN_BUNDLE_CLASSES];\n"
         " *   int k = %s_classify(rgb, height, width, probs);   // uint8 RGB, row-major HWC\n"
         " *   printf(\"%%s %%.3f\\n\", %s_class_name(k), probs[k]);\n"
         " *   %s_free();\n"
         " *\n"
         " * Every symbol of the object carries the prefix %s_ or is local, so bundles of different models\n"
         " * link into one program; the first bundle header included also names its functions\n"
         " * kn_bundle_* and its sizes KN_BUNDLE_* (as before prefixes). One caller at a time per bundle. */\n",
      p, p, p, p, p);
  put(h, "/* Allocates the model and loads the embedded weights; 0 on success, else -1 with a message. */\n"
         "int %s_init(char *err, size_t errlen);\n"
         "/* Classifies one 8-bit RGB image of any size (resized and normalised as the spec's test\n"
         " * pipeline says); fills probs[classes] and returns the most likely class, or -1. */\n"
         "int %s_classify(const uint8_t *rgb, int height, int width, float *probs);\n"
         "/* Name of class k (from the training data), or NULL. */\n"
         "const char *%s_class_name(int k);\n"
         "/* Frees what %s_init allocated. */\n"
         "void %s_free(void);\n\n",
      p, p, p, p, p);
  for (int i = 0; i < 4; i++)
    put(h, "#ifndef kn_bundle_%s\n#define kn_bundle_%s %s_%s\n#endif\n", bundle_fns[i], bundle_fns[i], p, bundle_fns[i]);
}

/* The prefix of a bundle's symbols: the model name as a C identifier. */
static char *bundle_prefix(const char *name) {
  char *p = kn_fmt("%s%s", name[0] >= '0' && name[0] <= '9' ? "m_" : "", name);
  for (char *c = p; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))) *c = '_';
  return p;
}

/* objcopy: kn_bundle_* become P_*, and every other global symbol of the object local (the model
 * descriptor, the kernels, the runtime), so two bundles do not clash at link time. The COMDAT
 * groups go too (-R .group): two bundles can hold a kernel wrapper of the same name, and the
 * linker would keep one group and leave the other bundle's now-local references dangling. */
static bool bundle_symbols(const char *in, const char *out, const char *p, kn_diag *d) {
  const char *oc = getenv("OBJCOPY") ? getenv("OBJCOPY") : "objcopy";
  char *tmp = kn_fmt("%s.tmp%d.o", out, (int)getpid());
  sbuf c = {0};
  put(&c, "%s -R .group", oc);
  for (int i = 0; i < 4; i++)
    put(&c, " --redefine-sym kn_bundle_%s=%s_%s -G %s_%s", bundle_fns[i], p, bundle_fns[i], p, bundle_fns[i]);
  put(&c, " '%s' '%s'", in, tmp);
  bool ok = run(c.buf, "prefixing the bundle's symbols (objcopy)", d) && rename(tmp, out) == 0;
  if (!ok) unlink(tmp);
  free(c.buf);
  free(tmp);
  return ok;
}

bool kn_ship_bundle(kn_cpu_module *const *ms, int n, const char *out, const char *header, const kn_train_config *t,
                    const char *train_text, const char *weights, kn_diag *d) {
  const char *lib = kn_cpu_runtime_lib();
  if (!lib) {
    kn_diag_error(d, noloc, "build kiln's runtime (target kiln_exe) or set KILN_RUNTIME_DIR",
                  "cannot find the executable runtime libkiln_exe.a");
    return false;
  }
  const char *slash = strrchr(lib, '/');
  char *rt = kn_fmt("%.*s/../libkilnrt.a", slash ? (int)(slash - lib) : 0, lib);
  char *extra = kn_fmt("-Wl,-u,kn_bundle_init -Wl,-u,kn_bundle_classify -Wl,-u,kn_bundle_class_name "
                       "-Wl,-u,kn_bundle_free '%s' '%s'", lib, rt);
  int pid = (int)getpid();
  char *model = kn_fmt("%s.kiln%d.o", out, pid), *blob = kn_fmt("%s.kiln%d.blob.o", out, pid);
  char *all = kn_fmt("%s.kiln%d.all.o", out, pid), *p = bundle_prefix(kn_cpu_module_name(ms[0]));
  bool ok = emit_models(ms, n, model, d) && kn_ship_blob_object(blob, train_text, weights, d) &&
            merge(all, model, blob, extra, d) && bundle_symbols(all, out, p, d);
  unlink(model), unlink(blob), unlink(all);
  if (ok) {
    sbuf h = {0};
    char *up = kn_fmt("%s", p);
    for (char *c = up; *c; c++)
      if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    put(&h, "/* Generated by kiln compile --emit=bundle: a classifier in one object file. Do not edit. */\n");
    put(&h, "#ifndef KN_BUNDLE_%s_H\n#define KN_BUNDLE_%s_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n", up, up);
    put(&h, "#define %s_CLASSES %d\n#define %s_INPUT_H %d\n#define %s_INPUT_W %d\n#define %s_WEIGHTS %d\n", up,
        t->num_classes, up, t->input_size[0], up, t->input_size[1], up, weights != NULL);
    static const char *const sizes[4] = {"CLASSES", "INPUT_H", "INPUT_W", "WEIGHTS"};
    for (int i = 0; i < 4; i++)
      put(&h, "#ifndef KN_BUNDLE_%s\n#define KN_BUNDLE_%s %s_%s\n#endif\n", sizes[i], sizes[i], up, sizes[i]);
    put(&h, "\n");
    put_bundle_api(&h, p);
    put(&h, "\n#endif\n");
    ok = kn_write_file_atomic(header, h.buf, h.len);
    if (!ok) kn_diag_error(d, noloc, NULL, "cannot write '%s'", header);
    free(h.buf);
    free(up);
  }
  free(model), free(blob), free(all), free(p), free(rt), free(extra);
  return ok;
}
