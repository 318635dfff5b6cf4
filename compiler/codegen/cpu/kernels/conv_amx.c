/* conv_amx.c — the convolution kernels of conv.c with bf16 operands on AMX tiles (gemm_amx.h), for
 * `--cpu-math=bf16` on CPUs with amx-tile and amx-bf16. Linked as kn_k_<name>_amx (cpu_math.c).
 * Never run on the development machine (no AMX there): see docs/performance.md. */
#include "gemm_amx.h"
#define KN_GEMM_VARIANT_PANEL kn_gemm_panel_amx
#include "gemm_variant.h"

#include "conv.c"
