/* ptx_cli.c — what `kiln compile --target=cuda` calls: the GPU backend behind the driver. So far
 * it writes the PTX module of a graph (--emit=asm); the GPU executable (runtime main driving
 * runtime/cuda) is not built yet, and asking for one is a clear error rather than a CPU binary. */
#include <string.h>

#include "ptx.h"
#include "util.h"

int kn_ptx_cmd_compile(const kn_graph *g, const char *emit, const char *out, kn_diag *d) {
  if (strcmp(emit, "asm")) {
    kn_diag_error(d, (kn_loc){0}, "use --emit=asm to get the PTX module; compile for the CPU to get an executable",
                  "--target=cuda supports --emit=asm only so far (the GPU executable is not implemented yet)");
    return KN_EXIT_USER;
  }
  kn_ptx_options o;
  kn_ptx_options_default(&o);
  kn_ptx_program *prog;
  if (!kn_ptx_compile_graph(g, &o, &prog, d)) return KN_EXIT_USER;
  bool ok = kn_write_file_atomic(out, prog->ptx, prog->ptx_len);
  if (!ok) kn_diag_error(d, (kn_loc){0}, NULL, "cannot write '%s'", out);
  kn_ptx_program_dispose(prog);
  return ok ? KN_EXIT_OK : KN_EXIT_USER;
}
