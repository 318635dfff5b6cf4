/* cli.c — argument helpers shared by the kiln subcommands that read a spec (cli.h). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int kn_cli_spec_option(const char *cmd, int argc, char **argv, int *i, kn_spec_options *o) {
  const char *a = argv[*i];
  bool batch = !strcmp(a, "--batch"), input = !strcmp(a, "--input");
  if (!batch && !input) return 0;
  if (*i + 1 >= argc) {
    fprintf(stderr, "kiln %s: %s needs a value\n", cmd, a);
    return -1;
  }
  const char *v = argv[++*i];
  char *end;
  if (batch) {
    long n = strtol(v, &end, 10);
    if (*end || end == v || n < 1 || n > 65536) {
      fprintf(stderr, "kiln %s: --batch wants a number from 1 to 65536, not '%s'\n", cmd, v);
      return -1;
    }
    o->batch_size = (int)n;
    return 1;
  }
  long h = strtol(v, &end, 10), w = h;
  if (end != v && (*end == 'x' || *end == 'X')) {
    const char *p = end + 1;
    w = strtol(p, &end, 10);
    if (end == p) w = 0;
  }
  if (end == v || *end || h < 1 || h > 4096 || w < 1 || w > 4096) {
    fprintf(stderr, "kiln %s: --input wants HxW such as 32x32, not '%s'\n", cmd, v);
    return -1;
  }
  o->input_h = (int)h;
  o->input_w = (int)w;
  return 1;
}

bool kn_cli_file_arg(const char *cmd, const char *a, const char **file) {
  if (a[0] == '-' && a[1]) {
    fprintf(stderr, "kiln %s: unknown or incomplete option '%s'\nRun 'kiln %s --help' for usage.\n", cmd, a, cmd);
    return false;
  }
  if (*file) {
    fprintf(stderr, "kiln %s: more than one FILE ('%s' and '%s')\n", cmd, *file, a);
    return false;
  }
  *file = a;
  return true;
}

bool kn_cli_args_ok(kn_diag *pass_diag, const char *file, void (*usage)(FILE *)) {
  if (pass_diag) {
    bool bad_pass_flag = kn_diag_has_errors(pass_diag);
    kn_diag_print(pass_diag, stderr);
    kn_diag_free(pass_diag);
    if (bad_pass_flag) return false;
  }
  if (!file) {
    usage(stderr);
    return false;
  }
  return true;
}

kn_spec *kn_cli_load_spec(const char *file, const kn_spec_options *o) {
  kn_diag d;
  kn_diag_init(&d);
  kn_spec *s = kn_spec_load(file, o, &d);
  kn_diag_print(&d, stderr);
  kn_diag_free(&d);
  return s;
}
