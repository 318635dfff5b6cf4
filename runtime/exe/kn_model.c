/* kn_model.c — lookups over the descriptor of a generated model (kilnrt.h). */
#include <string.h>

#include "kilnrt.h"

const kn_entry_desc *kn_model_entry(const kn_model_desc *m, const char *name) {
  for (int i = 0; i < m->n_entries; i++)
    if (!strcmp(m->entries[i].name, name)) return &m->entries[i];
  return NULL;
}

const kn_tensor_desc *kn_model_tensor(const kn_model_desc *m, const kn_entry_desc *e, const char *name) {
  for (int i = 0; e && i < e->n_tensors; i++)
    if (!strcmp(e->tensors[i].name, name)) return &e->tensors[i];
  for (int i = 0; i < m->n_persist; i++)
    if (!strcmp(m->persist[i].name, name)) return &m->persist[i];
  return NULL;
}

int64_t kn_tensor_numel(const kn_tensor_desc *t) {
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) n *= t->dims[i];
  return n;
}

int64_t kn_tensor_bytes(const kn_tensor_desc *t) { return kn_tensor_numel(t) * 4; }

void *kn_tensor_data(const kn_tensor_desc *t, uint8_t *persist, uint8_t *work) {
  return (t->region == KN_REGION_PERSIST ? persist : work) + t->offset;
}

/* ---- the optional device (kilnrt.h); every helper is a no-op for CPU builds ---- */
int kn_model_device_open(char *why, int why_len) {
  if (!&kn_model_device) return 0;
  return kn_model_device.open(why, why_len);
}

void kn_model_persist_to_host(uint8_t *persist) {
  if (&kn_model_device) kn_model_device.persist_to_host(persist);
}

void kn_model_persist_to_device(uint8_t *persist) {
  if (&kn_model_device) kn_model_device.persist_to_device(persist);
}

int kn_model_device_require(void) {
  char why[512] = "";
  int rc = kn_model_device_open(why, (int)sizeof why);
  if (rc) kn_model_device.report(why);
  return rc;
}
