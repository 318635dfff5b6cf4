/* ship.h — turning a compiled model into something to ship (see ship.c): the executable with the
 * spec's train config and optionally trained weights embedded, or a C bundle (object + header).
 *
 *   char *text = kn_ship_train_text(&spec->train, spec->path);
 *   kn_ship_exe(&module, 1, "sample_resnet", text, "best.safetensors", &d);   // weights may be NULL
 *   kn_ship_bundle(&module, 1, "clf.o", "clf.h", &spec->train, text, "best.safetensors", &d);
 * Several modules of the same graphs, one per --cpu target (best first), make a multi-target
 * executable or bundle that picks its code path at start.
 *   free(text);
 */
#ifndef KN_SHIP_H
#define KN_SHIP_H

#include <stdbool.h>

#include "codegen_cpu.h"
#include "diag.h"
#include "train.h"

/* The train config in the text form runtime/exe/kn_traincfg.h parses; the spec's weights path is
 * made absolute relative to the spec's directory. Caller frees. */
char *kn_ship_train_text(const kn_train_config *t, const char *spec_path);
/* An object defining kn_embedded_train_config and, when weights is not NULL, the bytes of that
 * file as kn_embedded_weights .. kn_embedded_weights_end. */
bool kn_ship_blob_object(const char *obj, const char *train_text, const char *weights, kn_diag *d);
/* A model object file (the CPU backend's, or the GPU one of kn_ptx_model_object) + blobs,
 * linked with the runtime into the executable `out`. */
bool kn_ship_exe_object(const char *model_obj, const char *out, const char *train_text, const char *weights, kn_diag *d);
/* --target=cuda: compiles BASE.c and BASE.s (codegen/ptx kn_ptx_model_sources), adds the CUDA
 * runtime archive rt_lib (libkilnrt_cuda.a) and links like kn_ship_exe_object. */
bool kn_ship_cuda_exe(const char *base, const char *rt_lib, const char *out, const char *train_text, const char *weights,
                      kn_diag *d);
/* Model object + blobs, linked with the runtime into the executable `out`. */
bool kn_ship_exe(kn_cpu_module *const *ms, int n, const char *out, const char *train_text, const char *weights,
                 kn_diag *d);
/* One relocatable object `out` (model, blobs, the runtime's kn_bundle API and what it needs) and
 * the header declaring that API. */
bool kn_ship_bundle(kn_cpu_module *const *ms, int n, const char *out, const char *header, const kn_train_config *t,
                    const char *train_text, const char *weights, kn_diag *d);

#endif
