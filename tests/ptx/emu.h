/* emu.h — runs a lowered GPU program on CPU threads: the kernels of compiler/codegen/ptx/kernels
 * built for the host (KN_GPU_EMULATE), 32 threads emulating the lanes of a warp (shuffles are
 * barriers), two warps per launch. Checks the kernels and the lowering's arguments against the
 * interpreter on machines without a GPU; the PTX itself is checked by ptxas only.
 *
 *   kn_emu_run_call(&prog->calls[k], bufs);   // bufs[v]: storage of graph value v
 */
#ifndef KN_TEST_EMU_H
#define KN_TEST_EMU_H

#include "ptx.h"

/* Runs one launch; false when the kernel is unknown. */
bool kn_emu_run_call(const kn_ptx_call *c, void *const *bufs);

#endif
