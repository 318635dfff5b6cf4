/* kn_bundle.c — the C API of a classifier bundle (`kiln compile --emit=bundle`): one global model
 * with the embedded weights, classifying RGB images. The generated OUT.h declares these functions
 * (compiler/driver/ship.c); `cc -r` pulls this file and what it needs out of libkiln_exe.a and
 * libkilnrt.a into the bundle object. Not thread-safe: one caller at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kn_classify.h"
#include "kn_commands.h"
#include "kn_cpu_check.h"
#include "kn_session.h"

int kn_bundle_init(char *err, size_t errlen);
int kn_bundle_classify(const uint8_t *rgb, int height, int width, float *probs);
const char *kn_bundle_class_name(int k);
void kn_bundle_free(void);

static struct {
  bool ready;
  kn_session s;
  char (*names)[KN_DATASET_NAME_LEN];
} bundle;

int kn_bundle_init(char *err, size_t errlen) {
  kn_error e = {{0}};
  if (bundle.ready) return 0;
  char miss[400];
  if (kn_cpu_missing(kn_model.features, miss, sizeof miss)) { /* the model code would die of SIGILL */
    kn_error_set(&e, "this CPU lacks features the classifier was compiled for (--cpu=%s): %s", kn_model.cpu, miss);
    goto fail;
  }
  if (!kn_session_init(&bundle.s, 42, &e)) goto fail;
  bundle.names = calloc((size_t)bundle.s.classes, KN_DATASET_NAME_LEN);
  if (!bundle.names) {
    kn_error_set(&e, "out of memory");
    goto fail;
  }
  kn_class_names_default(bundle.names, bundle.s.classes);
  kn_st_file f;
  int got = kn_session_embedded(&f, &e);
  if (got < 0) goto fail;
  if (got > 0) {
    bool ok = kn_session_import(&bundle.s, &f, "embedded weights", &e);
    const char *c = kn_st_meta(&f, "classes");
    for (int i = 0; ok && c && *c && i < bundle.s.classes; i++) {
      size_t len = strcspn(c, ",");
      snprintf(bundle.names[i], KN_DATASET_NAME_LEN, "%.*s", (int)len, c);
      c += len + (c[len] == ',');
    }
    kn_st_free(&f);
    if (!ok) goto fail;
  }
  bundle.ready = true;
  return 0;
fail:
  if (err && errlen) snprintf(err, errlen, "%s", e.msg);
  kn_bundle_free();
  return -1;
}

int kn_bundle_classify(const uint8_t *rgb, int height, int width, float *probs) {
  kn_error e = {{0}};
  if (!bundle.ready || !rgb || height < 1 || width < 1) return -1;
  float *x = kn_session_input(&bundle.s, KN_SESSION_FORWARD);
  size_t img = (size_t)bundle.s.in_c * (size_t)bundle.s.in_h * (size_t)bundle.s.in_w;
  memset(x + img, 0, sizeof(float) * img * (size_t)(bundle.s.batch - 1));
  if (!kn_classify_prepare(&bundle.s, rgb, height, width, x, &e) || !kn_session_forward(&bundle.s, &e)) return -1;
  return kn_classify_probs(&bundle.s, 0, probs);
}

const char *kn_bundle_class_name(int k) {
  return bundle.ready && k >= 0 && k < bundle.s.classes ? bundle.names[k] : NULL;
}

void kn_bundle_free(void) {
  if (bundle.s.persist) kn_session_free(&bundle.s);
  free(bundle.names);
  memset(&bundle, 0, sizeof bundle);
}
