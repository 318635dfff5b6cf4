/* test_cuda_loader.c — the CUDA driver loader of runtime/cuda without a GPU: error names, the
 * "no CUDA device available (<reason>)" path for a missing driver, a stub driver (34), an old
 * driver (35), no device (100), a missing entry point and an old GPU, all through a fake driver
 * (fake_cuda.c); the launch loop and memory calls through the fake; the probe's exit code 69;
 * GPU bundles written and read back. Usage: test_cuda_loader FAKE_LIB PARTIAL_FAKE_LIB PROBE */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle_write.h"
#include "kn_gpu_bundle.h"
#include "util.h"

#include "kn_check.h"

/* Runs kn_cuda_init with the given driver and fake settings; returns the status, why in why. */
static int init_with(const char *lib, const char *cuinit, const char *count, const char *sm, char *why) {
  setenv("KN_CUDA_LIBRARY", lib, 1);
  setenv("KN_FAKE_CUINIT", cuinit, 1);
  setenv("KN_FAKE_COUNT", count, 1);
  setenv("KN_FAKE_SM", sm, 1);
  kn_cuda *cu;
  int st = kn_cuda_init(&cu, 0, why, 256);
  kn_cuda_free(cu);
  return st;
}

static void test_no_device(const char *fake, const char *partial) {
  char why[256];
  CHECK_MSG(!strcmp(kn_cuda_error_name(100), "CUDA_ERROR_NO_DEVICE"), "%s", kn_cuda_error_name(100));
  CHECK_MSG(!strcmp(kn_cuda_error_name(34), "CUDA_ERROR_STUB_LIBRARY"), "%s", kn_cuda_error_name(34));
  CHECK_MSG(kn_cuda_is_no_device(34) && kn_cuda_is_no_device(35) && kn_cuda_is_no_device(100), "no-device set");
  CHECK_MSG(!kn_cuda_is_no_device(2), "out of memory is an error, not 'no device'");

  int st = init_with("/nonexistent/libcuda.so.1", "0", "1", "90", why);
  CHECK_MSG(st == KN_CUDA_NO_DEVICE && strstr(why, "libcuda"), "missing driver: %d %s", st, why);
  unsetenv("KN_CUDA_LIBRARY");
  kn_cuda *cu;
  st = kn_cuda_init(&cu, 0, why, sizeof why); /* this machine's own driver, if any */
  CHECK_MSG(st == KN_CUDA_OK || (st == KN_CUDA_NO_DEVICE && why[0]), "default driver: %d %s", st, why);
  printf("this machine: %s\n", st == KN_CUDA_OK ? cu->name : why);
  kn_cuda_free(cu);

  const struct {
    const char *cuinit, *count, *sm, *want;
    int st;
  } cases[] = {
      {"34", "1", "90", "cuInit: CUDA_ERROR_STUB_LIBRARY (34)", KN_CUDA_NO_DEVICE},
      {"35", "1", "90", "cuInit: CUDA_ERROR_INSUFFICIENT_DRIVER (35)", KN_CUDA_NO_DEVICE},
      {"100", "1", "90", "cuInit: CUDA_ERROR_NO_DEVICE (100)", KN_CUDA_NO_DEVICE},
      {"0", "0", "90", "CUDA_ERROR_NO_DEVICE (100)", KN_CUDA_NO_DEVICE},
      {"0", "1", "75", "sm_75", KN_CUDA_NO_DEVICE},
      {"999", "1", "90", "cuInit: CUDA_ERROR_UNKNOWN (999)", KN_CUDA_ERROR},
      {"0", "1", "90", "", KN_CUDA_OK},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    st = init_with(fake, cases[k].cuinit, cases[k].count, cases[k].sm, why);
    CHECK_MSG(st == cases[k].st && strstr(why, cases[k].want), "case %zu: %d '%s'", k, st, why);
  }
  st = init_with(partial, "0", "1", "90", why);
  CHECK_MSG(st == KN_CUDA_NO_DEVICE && strstr(why, "cuLaunchKernel"), "partial driver: %d %s", st, why);
}

static void test_exec(const char *fake) {
  char why[256];
  setenv("KN_CUDA_LIBRARY", fake, 1);
  setenv("KN_FAKE_CUINIT", "0", 1);
  setenv("KN_FAKE_COUNT", "1", 1);
  setenv("KN_FAKE_SM", "80", 1);
  kn_cuda *cu;
  CHECK_MSG(kn_cuda_init(&cu, 0, why, sizeof why) == KN_CUDA_OK, "%s", why);
  if (!cu) return;
  CHECK_MSG(!strcmp(cu->name, "Fake GPU") && cu->sm_major == 8, "%s sm_%d", cu->name, cu->sm_major);
  uint64_t bytes[3] = {40, 4, 1000};
  kn_gpu_launch l[2] = {{"kn_0_0", 1, 256, 2, {0, 2}}, {"kn_1_0", 4, 256, 1, {1}}};
  kn_gpu_program prog = {".entry kn_0_0(\n.entry kn_1_0(\n", 3, bytes, 2, l};
  kn_gpu_exec x;
  CHECK_MSG(kn_gpu_exec_init(&x, cu, &prog), "%s", cu->error);
  float in[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, out[10] = {0};
  CHECK_MSG(kn_cuda_upload_async(cu, x.buf[0], in, sizeof in) && kn_cuda_sync(cu), "%s", cu->error);
  CHECK_MSG(kn_cuda_download(cu, out, x.buf[0], sizeof out) && !memcmp(in, out, sizeof in), "round trip");
  CHECK_MSG(x.buf[1] - x.buf[0] == 256 && x.buf[2] - x.buf[1] == 256, "arena offsets are 256-aligned");
  CHECK_MSG(kn_gpu_exec_run(&x), "%s", cu->error);
  int (*launches)(char *, size_t) = (int (*)(char *, size_t))dlsym(cu->lib, "kn_fake_launches");
  char last[64] = "";
  CHECK_MSG(launches && launches(last, sizeof last) == 2 && !strcmp(last, "kn_1_0"), "launches: %s", last);
  kn_gpu_exec_free(&x);
  strcpy(l[1].entry, "kn_9_9");
  CHECK_MSG(!kn_gpu_exec_init(&x, cu, &prog) && strstr(cu->error, "kn_9_9") && strstr(cu->error, "CUDA_ERROR_NOT_FOUND"),
            "missing entry: %s", cu->error);
  kn_gpu_exec_free(&x);
  kn_cuda_free(cu);
}

static void test_probe(const char *probe) {
  char *cmd = kn_fmt("KN_CUDA_LIBRARY=/nonexistent/libcuda.so.1 '%s' > probe.log 2>&1", probe);
  int rc = system(cmd);
  free(cmd);
  size_t n;
  const char *err;
  char *log = kn_read_file("probe.log", &n, &err);
  CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == KN_CUDA_EXIT_NO_DEVICE, "probe exit %d", WEXITSTATUS(rc));
  CHECK_MSG(log && strstr(log, "no CUDA device available (") && strstr(log, "kiln compile"), "probe said: %s",
            log ? log : err);
  free(log);
  remove("probe.log");
}

static void test_bundle(void) {
  kn_graph *g = kn_graph_create("b");
  int x = kn_graph_add_input(g, "x", KN_DT_F32, kn_shape1(3));
  kn_graph_add_input(g, "labels", KN_DT_I32, kn_shape1(2));
  kn_ptx_call c = {.entry = "kn_0_0", .n_p = 3, .p = {x, -1, 1}, .grid = 1, .block = 256};
  kn_ptx_program prog = {.calls = &c, .n_calls = 1, .ptx = ".entry kn_0_0(", .ptx_len = 14};
  float xi[3] = {1, 2, 3};
  int32_t le[2] = {7, 9};
  void *init[2] = {xi, NULL}, *expect[2] = {NULL, le};
  CHECK_MSG(kn_test_bundle_write("t.kgb", &prog, g, init, expect, 1e-3f, 2, -1), "write");
  kn_gpu_bundle b;
  char err[256];
  bool ok = kn_gpu_bundle_read("t.kgb", &b, err, sizeof err);
  CHECK_MSG(ok, "%s", err);
  if (ok) {
    CHECK_MSG(b.prog.n_buffers == 2 && b.prog.n_launches == 1 && b.steps == 2 && b.step_buffer == -1, "header");
    CHECK_MSG(!strcmp(b.ptx, ".entry kn_0_0(") && b.launches[0].n_args == 2 && b.launches[0].args[1] == 1, "launch");
    CHECK_MSG(b.init[0] && !memcmp(b.init[0], xi, 12) && !b.expect[0] && !memcmp(b.expect[1], le, 8), "data");
    CHECK_MSG((b.flags[1] & KN_BUNDLE_I32) && b.tol[0] == 1e-3f && !strcmp(b.name[1], "labels"), "flags");
    kn_gpu_bundle_free(&b);
  }
  FILE *f = fopen("t.kgb", "r+b");
  if (f) { /* truncate: the reader must refuse, not crash */
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    CHECK_MSG(truncate("t.kgb", n - 5) == 0, "truncate");
    CHECK_MSG(!kn_gpu_bundle_read("t.kgb", &b, err, sizeof err) && strstr(err, "corrupt"), "truncated: %s", err);
  }
  remove("t.kgb");
  kn_graph_dispose(g);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: test_cuda_loader FAKE_LIB PARTIAL_FAKE_LIB PROBE\n");
    return 2;
  }
  test_no_device(argv[1], argv[2]);
  test_exec(argv[1]);
  test_probe(argv[3]);
  test_bundle();
  return kn_check_summary();
}
