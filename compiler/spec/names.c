/* names.c — a string -> int table (open addressing, FNV-1a) for the loader's name lookups: a
 * scope's layer names, the expanded model's full names and the default-name counters. Lookups
 * must stay O(1): specs with thousands of layers made the linear scans quadratic or cubic. */
#include <stdlib.h>
#include <string.h>

#include "spec_internal.h"
#include "util.h"

static uint64_t hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Slot of `key`, or of the empty slot where it would go. */
static int slot(const kn_sp_names *t, const char *key) {
  int mask = t->cap - 1;
  int i = (int)(hash(key) & (uint64_t)mask);
  while (t->keys[i] && strcmp(t->keys[i], key)) i = (i + 1) & mask;
  return i;
}

int kn_sp_names_get(const kn_sp_names *t, const char *key) {
  if (!t->cap) return -1;
  int i = slot(t, key);
  return t->keys[i] ? t->vals[i] : -1;
}

void kn_sp_names_put(kn_sp_names *t, const char *key, int val) {
  if (2 * (t->n + 1) > t->cap) {
    kn_sp_names old = *t;
    t->cap = old.cap ? 2 * old.cap : 64;
    t->keys = kn_xcalloc((size_t)t->cap, sizeof *t->keys);
    t->vals = kn_xcalloc((size_t)t->cap, sizeof *t->vals);
    for (int i = 0; i < old.cap; i++)
      if (old.keys[i]) {
        int j = slot(t, old.keys[i]);
        t->keys[j] = old.keys[i];
        t->vals[j] = old.vals[i];
      }
    free(old.keys);
    free(old.vals);
  }
  int i = slot(t, key);
  if (!t->keys[i]) {
    t->keys[i] = kn_xstrdup(key);
    t->n++;
  }
  t->vals[i] = val;
}

void kn_sp_names_free(kn_sp_names *t) {
  for (int i = 0; i < t->cap; i++) free(t->keys[i]);
  free(t->keys);
  free(t->vals);
  memset(t, 0, sizeof *t);
}
