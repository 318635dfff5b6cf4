/* kn_session.h — one live model: the persist region (weights, running statistics, optimizer
 * state), one work arena for both entry points, and the operations the commands need: seeded
 * initialisation, one training step, inference on a batch, importing and exporting weights with
 * torchvision names, and checkpoints.
 *
 *   kn_session s;
 *   if (!kn_session_init(&s, 42, &err)) ...           // PyTorch-style random init from the seed
 *   kn_session_import(&s, &weights_file, "best.safetensors", &err);
 *   memcpy(kn_session_input(&s, KN_SESSION_TRAIN), images, ...);  labels likewise
 *   float loss = kn_session_train_step(&s, lr, step);
 *   const float *logp = kn_session_output(&s, KN_SESSION_TRAIN);  // [batch][classes]
 *   kn_session_free(&s);
 *
 * Tensor kinds in the persist region (kilnrt.h roles): PARAM (learnable), STATE (BatchNorm running
 * statistics "<bn>.running_mean|running_var", optimizer buffers "<param>.momentum_buffer|exp_avg|
 * exp_avg_sq"), CONST. "Model weights" are the PARAMs and running statistics: what a torchvision
 * state_dict holds (its "*.num_batches_tracked" counters are accepted and ignored on import).
 */
#ifndef KN_SESSION_H
#define KN_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "kilnrt.h"
#include "kn_error.h"
#include "kn_safetensors.h"

typedef enum { KN_SESSION_FORWARD, KN_SESSION_TRAIN } kn_session_entry;

typedef struct kn_session {
  uint8_t *persist, *work;
  const kn_entry_desc *entry[2];       /* forward, train_step (either may be NULL) */
  const kn_tensor_desc *input[2], *labels[2], *output[2];
  const kn_tensor_desc *loss, *lr, *step; /* of train_step */
  int batch;                           /* compiled N */
  int in_c, in_h, in_w;                /* input image shape */
  int classes;                         /* K of the output [N, K] */
} kn_session;

/* Allocates the regions, finds the entry points' tensors and initialises the parameters from seed. */
bool kn_session_init(kn_session *s, uint64_t seed, kn_error *err);
void kn_session_free(kn_session *s);
/* PyTorch's default initialisation (uniform +-1/sqrt(fan_in) for weights and biases, BatchNorm
 * weight 1, bias 0, running mean 0, var 1, optimizer state 0) drawn from seed. */
void kn_session_reset(kn_session *s, uint64_t seed);

/* The entry's input images [N][C][H][W] and labels [N] (NULL when the entry has none). */
float *kn_session_input(kn_session *s, kn_session_entry e);
int32_t *kn_session_labels(kn_session *s, kn_session_entry e);
/* Log-probabilities [N][K] of the entry's last run. */
const float *kn_session_output(kn_session *s, kn_session_entry e);
/* Runs the inference entry (BatchNorm in eval mode) on the input already in place. */
bool kn_session_forward(kn_session *s, kn_error *err);
/* Runs one training step (forward, backward, update) with the given lr and optimizer step
 * (1 on the first); returns the loss the step computed (mean over all N slots). */
float kn_session_train_step(kn_session *s, double lr, int64_t step);

/* True for an optimizer buffer (a STATE named "<param>.<optimizer suffix>"). */
bool kn_session_is_optimizer_state(const kn_tensor_desc *t);
/* Copies the model weights (params + running statistics) from a safetensors file with the same
 * (torchvision) names. Every missing, extra or mis-shaped tensor is named in the error (up to a
 * few of each); optimizer buffers and num_batches_tracked in the file are ignored. */
bool kn_session_import(kn_session *s, const kn_st_file *f, const char *what, kn_error *err);
/* Loads every persist tensor (params, running stats, optimizer state) from a checkpoint; all must
 * be present with the exact shapes. */
bool kn_session_load_all(kn_session *s, const kn_st_file *f, const char *what, kn_error *err);
/* Adds the model weights (all = false) or every non-constant persist tensor (all = true) to w;
 * the data is borrowed from the session. */
bool kn_session_add_tensors(kn_session *s, kn_st_writer *w, bool all, kn_error *err);
/* The first non-constant persist tensor (parameter, running statistic, optimizer buffer) holding
 * a NaN or an infinity, with their count in *count; NULL when every value is finite. GPU builds
 * copy the device values to the host first. */
const char *kn_session_nonfinite(kn_session *s, int64_t *count);
/* The weights embedded by `kiln compile --weights`: 1 when present (parsed into f, which the
 * caller frees), 0 when the executable has none, -1 when they do not parse (err filled). */
int kn_session_embedded(kn_st_file *f, kn_error *err);

#endif
