/* kn_cmd_predict.c — the `predict IMAGE...` command: PNG/JPEG files decoded (kn_image.h),
 * preprocessed with the spec's test pipeline, classified in batches of the compiled N, and the
 * top classes printed with their probabilities:
 *
 *   cat.png: cat (0.8123)
 *     cat          0.8123
 *     dog          0.1002
 *     ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_classify.h"
#include "kn_commands.h"
#include "kn_image.h"

#define KN_PREDICT_MAX_FILES 4096

/* Classifies files[0..n) (n <= compiled batch) and prints the results. */
static bool predict_batch(kn_session *s, char **files, int n, int top_k, char (*names)[KN_DATASET_NAME_LEN],
                          kn_error *err) {
  size_t img = (size_t)s->in_c * (size_t)s->in_h * (size_t)s->in_w;
  float *x = kn_session_input(s, KN_SESSION_FORWARD);
  memset(x, 0, sizeof(float) * img * (size_t)s->batch);
  for (int i = 0; i < n; i++) {
    kn_image im;
    if (!kn_image_load(&im, files[i], err)) return false;
    bool ok = kn_classify_prepare(s, im.pixels, im.h, im.w, x + img * (size_t)i, err);
    kn_image_free(&im);
    if (!ok) return kn_error_set(err, "%s: %.400s", files[i], err->msg);
  }
  if (!kn_session_forward(s, err)) return false;
  float *probs = malloc(sizeof(float) * (size_t)s->classes);
  int *top = malloc(sizeof(int) * (size_t)top_k);
  if (!probs || !top) {
    free(probs), free(top);
    return kn_error_set(err, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    int best = kn_classify_probs(s, i, probs);
    printf("%s: %s (%.4f)\n", files[i], names[best], probs[best]);
    kn_classify_top(probs, s->classes, top, top_k);
    for (int j = 0; j < top_k; j++) printf("  %-12s %.4f\n", names[top[j]], probs[top[j]]);
  }
  free(probs);
  free(top);
  return true;
}

int kn_cmd_predict(int argc, char **argv) {
  const char *weights = NULL;
  int threads = KN_OPT_UNSET, top_k = KN_OPT_UNSET;
  char *files[KN_PREDICT_MAX_FILES];
  int n_files = 0;
  const kn_opt opts[] = {
      {"weights", KN_OPT_STR, &weights, "FILE", "weights or checkpoint (safetensors); default: embedded or spec weights"},
      {"top", KN_OPT_INT, &top_k, "K", "classes to list per image (default 5)"},
      {"threads", KN_OPT_INT, &threads, "N", "threads for the model"},
  };
  int rc = kn_opts_parse("predict", "[options] IMAGE...  (PNG or JPEG; top classes with probabilities)", opts,
                         (int)(sizeof opts / sizeof opts[0]), argc, argv, files, KN_PREDICT_MAX_FILES, &n_files);
  if (rc >= 0) return rc;
  const kn_int_range ranges[] = {{"top", &top_k, 1, 1000000, 5}, {"threads", &threads, 1, 1024, 0}};
  if ((rc = kn_opts_check_ints("predict", ranges, 2)) >= 0) return rc;
  if (n_files == 0) {
    fprintf(stderr, "predict: no image given\nRun 'predict --help' for usage.\n");
    return 2;
  }
  kn_threads_apply(threads);
  kn_error err = {{0}};
  kn_session s;
  if (!kn_session_init(&s, 42, &err)) {
    fprintf(stderr, "error: %s\n", err.msg);
    return 1;
  }
  if (top_k < 1) top_k = 1;
  if (top_k > s.classes) top_k = s.classes;
  char(*names)[KN_DATASET_NAME_LEN] = calloc((size_t)s.classes, KN_DATASET_NAME_LEN);
  bool ok = names != NULL;
  if (ok) kn_class_names_default(names, s.classes);
  ok = ok && kn_weights_load(&s, weights, names, false, &err);
  for (int i = 0; ok && i < n_files; i += s.batch)
    ok = predict_batch(&s, files + i, n_files - i < s.batch ? n_files - i : s.batch, top_k, names, &err);
  if (!ok) fprintf(stderr, "error: %s\n", err.msg[0] ? err.msg : "out of memory");
  free(names);
  kn_session_free(&s);
  return ok ? 0 : 1;
}
