/* ptx_cli.c — `kiln compile --target=cuda --emit=asm`: the PTX module of a graph. (The GPU
 * executable is ptx_exe.c's model object, linked by the driver like a CPU one.) */
#include <string.h>

#include "ptx.h"
#include "util.h"

int kn_ptx_cmd_compile(const kn_graph *g, const char *emit, const char *out, const kn_ptx_options *o, kn_diag *d) {
  if (strcmp(emit, "asm")) {
    kn_diag_error(d, (kn_loc){0}, "use --emit=exe (the default) for an executable or --emit=asm for the PTX module",
                  "--target=cuda does not support --emit=%s", emit);
    return KN_EXIT_USER;
  }
  kn_ptx_program *prog;
  if (!kn_ptx_compile_graph(g, o, &prog, d)) return KN_EXIT_USER;
  bool ok = kn_write_file_atomic(out, prog->ptx, prog->ptx_len);
  if (!ok) kn_diag_error(d, (kn_loc){0}, NULL, "cannot write '%s'", out);
  kn_ptx_program_dispose(prog);
  return ok ? KN_EXIT_OK : KN_EXIT_USER;
}
