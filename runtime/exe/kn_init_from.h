/* kn_init_from.h — `train --init-from FILE` (and the spec's `train.init_from`): start training
 * from a foreign checkpoint, e.g. ImageNet ResNet50 weights for a 10-class fine-tune.
 *
 * Every tensor of the file whose (mapped) name is a model weight (parameter or BatchNorm running
 * statistic) with the same shape is loaded; the rest of the model keeps the spec's initialisation.
 * A table says what was loaded, what was skipped and why (not in the model, other shape, not a
 * float dtype, an optimizer buffer, a duplicate), and which model weights are missing. Only a file
 * of which nothing loads is refused.
 *
 * Name mapping: rules "REGEX=REPLACEMENT" (POSIX extended regular expressions, regex.h),
 * separated by ';', applied in order to every file name; each rule replaces its first match, \0..\9
 * in the replacement stand for the match and its groups. "^module\.=" drops DataParallel's prefix;
 * "^backbone\.(.*)=\1" keeps what follows "backbone.".
 *
 *   kn_init_report rep;
 *   if (!kn_init_from(&session, "resnet50.safetensors", "^module\\.=", stdout, &rep, &err)) ...
 */
#ifndef KN_INIT_FROM_H
#define KN_INIT_FROM_H

#include <stdbool.h>
#include <stdio.h>

#include "kn_error.h"
#include "kn_session.h"

typedef struct kn_init_report {
  int loaded, skipped, missing; /* file tensors loaded / skipped, model weights not in the file */
} kn_init_report;

/* Loads what matches (see above) and prints the table to `table` (NULL: no table). False with
 * err when the file cannot be read, a rule is malformed or nothing matches. */
bool kn_init_from(kn_session *s, const char *path, const char *rules, FILE *table, kn_init_report *rep,
                  kn_error *err);

#endif
