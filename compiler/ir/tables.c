/* tables.c — the op and attribute tables expanded from ops.def and attrs.def, the rows of
 * eltwise.def, and lookups. */
#include <string.h>

#include "ir.h"

const kn_op_info kn_op_table[KN_OP_COUNT] = {
#define KN_OP(ID, nm, cls, imin, imax, omax, fl, mut, at) \
  [KN_OP_##ID] = {nm, KN_CLASS_##cls, imin, imax, omax, fl, mut, at},
#include "ops.def"
#undef KN_OP
};

const kn_attr_info kn_attr_table[KN_NUM_ATTRS] = {
#define KN_ATTR(ID, key, type, def, lo, hi, doc) [KN_ATTR_##ID] = {key, KN_ATYPE_##type, def, lo, hi, doc},
#include "attrs.def"
#undef KN_ATTR
};

static const kn_ew_info ew_rows[] = {
#define KN_EW_INFO(ID, nm, S, AT, V, F, G) {KN_OP_##ID, KN_OP_##ID##_GRAD, KN_EW_SAVES_##S},
#define KN_EW_SAVES_X false
#define KN_EW_SAVES_Y true
    KN_ELTWISE_OPS(KN_EW_INFO)
#undef KN_EW_INFO
};

const kn_ew_info *kn_ew_find(kn_op op) {
  for (size_t i = 0; i < sizeof ew_rows / sizeof ew_rows[0]; i++)
    if (ew_rows[i].op == op || ew_rows[i].grad == op) return &ew_rows[i];
  return NULL;
}

float kn_ew_param(const kn_node *n) {
  for (int a = 0; a < KN_NUM_ATTRS; a++)
    if ((kn_op_table[n->op].attrs & (1u << a)) && kn_attr_table[a].type == KN_ATYPE_FLOAT)
      return (float)kn_node_float(n, (kn_attr_id)a);
  return 0.0f;
}

const char *const kn_mode_names[2] = {"nearest", "bilinear"};

int kn_op_lookup(const char *name) {
  for (int i = 0; i < KN_OP_COUNT; i++)
    if (strcmp(kn_op_table[i].name, name) == 0) return i;
  return -1;
}

int kn_attr_lookup(const char *key) {
  for (int i = 0; i < KN_NUM_ATTRS; i++)
    if (strcmp(kn_attr_table[i].key, key) == 0) return i;
  return -1;
}
