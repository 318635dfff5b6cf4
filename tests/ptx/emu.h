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

/* Tensor cores (kn_mma_tf32_16x8x8 with kn_tf32, kn_mma_bf16_16x8x16 with kn_bf16x2_pack): by
 * default operands are rounded as `cvt.rna.tf32.f32` (tf32) or `cvt.rn.bf16x2.f32` (bf16) do; with
 * exact set they keep all float32 bits, so a tensor-core kernel must then match the interpreter as
 * closely as a SIMT one (this checks the fragment indexing alone). */
void kn_emu_set_mma_exact(bool exact);

#endif
