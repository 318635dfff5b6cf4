/* conv_bf16.c — the convolution kernels of conv.c (forward with its epilogues, grad weight, grad
 * input with its statistics epilogue) with bf16 operands on AVX512-BF16 (gemm_bf16.h), for
 * `--cpu-math=bf16`. Linked as kn_k_<name>_bf16 (cpu_math.c). */
#include "gemm_bf16.h"
#define KN_GEMM_VARIANT_PANEL kn_gemm_panel_bf16
#include "gemm_variant.h"

#include "conv.c"
