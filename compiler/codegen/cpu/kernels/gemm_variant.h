/* gemm_variant.h — makes the fp32 kernel sources run on another GEMM panel (bf16: gemm_bf16.h,
 * AMX: gemm_amx.h). The includer defines KN_GEMM_VARIANT_PANEL, a function with kn_gemm_panel's
 * signature and meaning; this header redirects the three names and includes gemm_tile.h again,
 * which makes kn_gemm_tile / kn_gemm_item over the variant panel, so conv.c and linear.c included
 * afterwards use the variant everywhere. Their kernels are renamed kn_k_<name>_<variant> when the bitcode is linked
 * (cpu_math.c), so the variants sit beside the fp32 kernels in one module.
 */
#ifndef KN_GEMM_VARIANT_H
#define KN_GEMM_VARIANT_H

#include "gemm.h"

#define kn_gemm_panel KN_GEMM_VARIANT_PANEL
#define kn_gemm_tile kn_gemm_tile_variant
#define kn_gemm_item kn_gemm_item_variant
#include "gemm_tile.h"

#endif
