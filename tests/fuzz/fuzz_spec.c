/* fuzz_spec.c — libFuzzer harness for the spec front end: YAML parsing within the limits,
 * expressions, blocks, repeat/reuse/sequential expansion, shape inference and the verifier, as
 * `kiln check` runs them on a spec text. Every input must end in a spec or a diagnostic: no
 * crash, hang, leak or sanitizer report. Imports resolve against the working directory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "ir.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  kn_diag d;
  kn_diag_init(&d);
  kn_spec *s = kn_spec_load_string("fuzz.yaml", text, NULL, &d);
  if (s) {
    if (!kn_graph_verify(s->graph, &d)) abort(); /* a loaded spec must be a valid graph */
    int64_t total, trainable;
    kn_graph_count_params(s->graph, &total, &trainable);
    kn_spec_dispose(s);
  }
  kn_diag_free(&d);
  free(text);
  return 0;
}
