/* tables.c — the op and attribute tables expanded from ops.def and attrs.def, and lookups. */
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
